"""The district's indicators, one definition each (口径 written next to it), computed in SQL
aggregates for a semester and an as-of date, per school and for the district. The page, the
API and the workbook read them from here only, so they agree.

Participation (R14, seed 003's figures): schools providing the service, students served and
their rate over the pupils on roll, students served all five weekdays, staff serving and their
rate (external providers' staff apart), schools at 90% or more. Compliance: "5+2" (R5), the
end time against the local off-work time and the seasonal latest end (R5), middle schools'
evening study ending by 20:30, the fee standard published and within the district's cap
(R11), priority groups' coverage (R4), unexplained absences, incidents and late pickups per
1,000 child-sessions (R8), refusals without a recorded reason (R1), withdrawals; complaints
are "—" until the complaints stage exists."""

import datetime
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.utils.translation import gettext_lazy as _

from attendance.selectors import care_facts, serving_staff_by_school
from enrollment.selectors import served_by_term, term_facts
from schools.models import School, ServiceSlot, Staff, Term
from schools.selectors import on_roll_by_school, staff_by_school

# A school meets the participation line at 90% of its pupils (seed 003).
TARGET_RATE = Decimal("0.90")


@dataclass(frozen=True)
class Definition:
    key: str
    label: str
    definition: str  # 口径: what is counted, over what, as of when


DEFINITIONS = {d.key: d for d in [
    Definition("schools_providing", _("开展课后服务的学校"),
               _("截至统计日有学生在读（报名已批准、未退出）的学校数，除以辖区学校总数（学校覆盖率）。")),
    Definition("students", _("在籍学生"),
               _("截至统计日的在籍学生，不含寄宿生（按规定由学校全天看护，不计入课后服务对象）。")),
    Definition("students_served", _("参加课后服务的学生"),
               _("截至统计日有在读登记的在籍非寄宿学生，每人计一次；除以在籍学生即学生参与率。")),
    Definition("students_all_week", _("每周 5 天参加的学生"),
               _("参加课后服务的学生中，所选时段覆盖周一至周五全部 5 天的人数。")),
    Definition("staff", _("在岗本校教师"), _("学校在岗的本校教职工（不含校外机构人员）。")),
    Definition("staff_serving", _("参与服务的本校教师"),
               _("本学期截至统计日实际承担过课后服务课次（已点名）的本校教师，每人计一次；"
                 "除以在岗本校教师即教师参与率。")),
    Definition("external_serving", _("参与服务的校外人员"),
               _("本学期截至统计日实际承担过课次的校外机构人员，单独统计，不计入教师参与率。")),
    Definition("schools_at_target", _("学生参与率达 90% 的学校"),
               _("学生参与率不低于 90% 的学校数。")),
    Definition("five_plus_two", _("“5+2”"),
               _("周一至周五每天都有服务、且当天各时段合计不少于 2 小时的天数，满 5 天为达标。")),
    Definition("end_time", _("结束时间"),
               _("课后服务时段的结束时间不早于当地正常下班时间、不晚于学校本季最晚结束时间。")),
    Definition("evening_study", _("晚自习结束时间"),
               _("初中晚自习不晚于 20:30 结束；小学不适用。")),
    Definition("fee_standard", _("收费标准公示"),
               _("本学期已公布结构化收费标准（免费亦须公布）后方可收费。")),
    Definition("fee_cap", _("收费不超过上限"),
               _("按课时收费的，最新标准每课时收费不超过区（县）核定的上限；免费、按学期收费不适用。")),
    Definition("priority_coverage", _("优先保障群体覆盖"),
               _("优先保障群体的报名（申报了优先保障类别的，以及一、二年级学生的；"
                 "不含撤回）中已批准的比例。")),
    Definition("unexplained_per_1000", _("无故缺勤（每千人次）"),
               _("已点名的学生课次中，缺勤且未请假的人次，每 1,000 人次。")),
    Definition("incidents_per_1000", _("安全事件（每千人次）"),
               _("记录的身体不适、受伤等事件，每 1,000 人次。")),
    Definition("late_pickups_per_1000", _("延时接送（每千人次）"),
               _("放学后超过宽限时间仍未接走、已通知家长的人次，每 1,000 人次。")),
    Definition("refused_without_reason", _("未说明理由的不予批准"),
               _("不予批准的报名中没有记录理由的数量，应为 0。")),
    Definition("withdrawals", _("中途退出"), _("本学期截至统计日已批准的退出申请数。")),
    Definition("complaints", _("投诉"), _("待受理、逾期的投诉；投诉模块上线前显示“—”。")),
]}

EVENING_LATEST = datetime.time(20, 30)
MIN_DAILY = datetime.timedelta(hours=2)


def per_thousand(n: int, of: int) -> Decimal | None:
    if not of:
        return None
    return (Decimal(n) * 1000 / Decimal(of)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


@dataclass
class Compliance:
    """One school's compliance figures: pass (True), fail (False) or not applicable (None),
    with what they rest on."""

    days_with_two_hours: int = 0
    excluded_weekdays: int = 0
    end_earliest: datetime.time | None = None
    end_latest: datetime.time | None = None
    off_work: datetime.time | None = None
    latest_allowed: datetime.time | None = None
    evening_end: datetime.time | None = None
    fee: object = None
    fee_cap: Decimal | None = None
    priority: int = 0
    priority_approved: int = 0
    child_sessions: int = 0
    unexplained: int = 0
    incidents: int = 0
    late_pickups: int = 0
    refused_without_reason: int = 0
    withdrawals: int = 0

    @property
    def five_plus_two(self) -> bool:
        return self.days_with_two_hours == 5

    @property
    def end_time_ok(self) -> bool | None:
        if self.end_latest is None:
            return None
        return self.end_earliest >= self.off_work and self.end_latest <= self.latest_allowed

    @property
    def evening_ok(self) -> bool | None:
        return None if self.evening_end is None else self.evening_end <= EVENING_LATEST

    @property
    def fee_published(self) -> bool:
        return self.fee is not None

    @property
    def fee_within_cap(self) -> bool | None:
        if self.fee is None or self.fee.mode != "per_hour":
            return None
        return self.fee.rate <= self.fee_cap

    @property
    def priority_rate(self) -> Decimal | None:
        return rate(self.priority_approved, self.priority)


def _minutes(start: datetime.time, end: datetime.time) -> datetime.timedelta:
    return (datetime.datetime.combine(datetime.date.min, end)
            - datetime.datetime.combine(datetime.date.min, start))


def compliance(figures: list["SchoolFigures"], as_of: datetime.date) -> None:
    """Fill each school's compliance from its term: slots, enrollment's and attendance's facts
    (four more queries whatever the number of schools)."""
    terms = {f.term.pk: f for f in figures if f.term is not None}
    by_term: dict[int, list[ServiceSlot]] = {}
    for slot in ServiceSlot.objects.filter(term_id__in=list(terms)):
        by_term.setdefault(slot.term_id, []).append(slot)
    enrolled = term_facts(terms, until=as_of)
    care = care_facts(terms, as_of)
    for term_id, f in terms.items():
        school, term = f.school, f.term
        slots = by_term.get(term_id, [])
        c = Compliance(excluded_weekdays=len(term.excluded_weekdays),
                       off_work=school.district.off_work_time,
                       latest_allowed=school.latest_end_on(as_of),
                       fee_cap=school.district.fee_cap_per_hour)
        for weekday in range(1, 6):
            daily = sum((_minutes(s.start, s.end) for s in slots if s.weekday == weekday
                         and weekday not in term.excluded_weekdays), datetime.timedelta())
            c.days_with_two_hours += daily >= MIN_DAILY
        afternoon = [s.end for s in slots if s.kind == ServiceSlot.Kind.AFTERNOON]
        if afternoon:
            c.end_earliest, c.end_latest = min(afternoon), max(afternoon)
        evening = [s.end for s in slots if s.kind == ServiceSlot.Kind.EVENING]
        if evening and school.stage != School.Stage.PRIMARY:
            c.evening_end = max(evening)
        e, k = enrolled[term_id], care[term_id]
        c.fee, c.priority, c.priority_approved = e.fee_standard, e.priority, e.priority_approved
        c.refused_without_reason, c.withdrawals = e.refused_without_reason, e.withdrawals
        c.child_sessions, c.unexplained = k.child_sessions, k.unexplained
        c.incidents, c.late_pickups = k.incidents, k.late_pickups
        f.compliance = c


def rate(numerator: int, denominator: int) -> Decimal | None:
    """A fraction to four places (0.8215 is 82.15%), None when nothing is counted."""
    if not denominator:
        return None
    return (Decimal(numerator) / Decimal(denominator)).quantize(Decimal("0.0001"),
                                                                rounding=ROUND_HALF_UP)


@dataclass
class SchoolFigures:
    school: School
    term: Term | None
    students: int = 0
    students_served: int = 0
    students_all_week: int = 0
    staff: int = 0
    staff_serving: int = 0
    external_serving: int = 0
    compliance: "Compliance | None" = None

    @property
    def student_rate(self) -> Decimal | None:
        return rate(self.students_served, self.students)

    @property
    def staff_rate(self) -> Decimal | None:
        return rate(self.staff_serving, self.staff)

    @property
    def provides(self) -> bool:
        return self.students_served > 0

    @property
    def at_target(self) -> bool:
        return self.student_rate is not None and self.student_rate >= TARGET_RATE


@dataclass
class Participation:
    as_of: datetime.date
    semester: str | None
    schools: list[SchoolFigures] = field(default_factory=list)
    # The district's student rate on each day asked for (the dashboard's weekly trend).
    trend: list[tuple[datetime.date, Decimal | None]] = field(default_factory=list)

    def total(self, name: str) -> int:
        return sum(getattr(s, name) for s in self.schools)

    @property
    def student_rate(self) -> Decimal | None:
        return rate(self.total("students_served"), self.total("students"))

    @property
    def staff_rate(self) -> Decimal | None:
        return rate(self.total("staff_serving"), self.total("staff"))

    @property
    def providing(self) -> int:
        return sum(1 for s in self.schools if s.provides)

    @property
    def coverage(self) -> Decimal | None:
        return rate(self.providing, len(self.schools))

    @property
    def at_target(self) -> int:
        return sum(1 for s in self.schools if s.at_target)


def terms_for(schools: list[School], as_of: datetime.date, semester: str | None
              ) -> dict[int, Term]:
    """Each school's term: the one of the semester named (terms of one semester share their
    name across a district), else the one the as-of date falls in. One query."""
    qs = Term.objects.filter(school__in=schools)
    qs = (qs.filter(name=semester) if semester
          else qs.filter(start__lte=as_of, end__gte=as_of))
    return {t.school_id: t for t in qs.order_by("start")}


def participation(schools: list[School], as_of: datetime.date,
                  semester: str | None = None, *, with_compliance: bool = False,
                  trend: Sequence[datetime.date] = ()) -> Participation:
    """The participation indicators of `schools` as of a date (six queries whatever their
    number), with `with_compliance` the compliance figures too, and with `trend` the
    district's student rate on each of those days, counted the same way (the children served on
    every day in the same query; one more query per day for its terms)."""
    ids = [s.pk for s in schools]
    terms = terms_for(schools, as_of, semester)
    on_days = {day: terms if day == as_of else terms_for(schools, day, semester)
               for day in trend}
    on_roll = on_roll_by_school(ids)
    served = served_by_term(dict.fromkeys(
        [(t.pk, as_of) for t in terms.values()]
        + [(t.pk, day) for day, day_terms in on_days.items() for t in day_terms.values()]))
    staff = staff_by_school(ids)
    serving = serving_staff_by_school([t.pk for t in terms.values()], as_of)
    out = Participation(as_of, semester)
    for school in schools:
        term = terms.get(school.pk)
        n_served, all_week = served.get((term.pk, as_of), (0, 0)) if term else (0, 0)
        out.schools.append(SchoolFigures(
            school, term, students=on_roll.get(school.pk, 0),
            students_served=n_served, students_all_week=all_week,
            staff=staff.get(school.pk, {}).get(Staff.Kind.TEACHER, 0),
            staff_serving=serving.get(school.pk, {}).get(Staff.Kind.TEACHER, 0),
            external_serving=serving.get(school.pk, {}).get(Staff.Kind.PROVIDER, 0)))
    students = out.total("students")
    out.trend = [(day, rate(sum(served.get((t.pk, day), (0, 0))[0]
                                for t in on_days[day].values()), students))
                 for day in trend]
    if with_compliance:
        compliance(out.schools, as_of)
    return out
