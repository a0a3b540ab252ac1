"""The compliance workbook a district files upward (XLSX), from the same indicator module as
the dashboard and the API: 说明 (definitions, as-of time, who generated it, filters, rows per
sheet), 区县汇总, 学校明细, 考勤 (per school and month), 收退费 (per school), and, when a school
is asked for, 学生明细 (names masked, no phone numbers). Rates are fractions shown as
percentages; text that looks like a formula stays text (schools.tables)."""

from collections.abc import Callable, Iterable

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from attendance.selectors import month_attendance
from billing.selectors import money_by_school
from config.routers import replica_reads
from enrollment.selectors import enrolled_pupils
from schools.models import School
from schools.tables import COUNT, MONEY, RATE, Table, tables_xlsx

from . import indicators
from .models import Workbook

SHEETS = 6


def _yes(value: bool | None) -> str:
    return "—" if value is None else (_("是") if value else _("否"))


def _f(value):
    """A rate or amount as a number the cell formats (float), None as an empty cell."""
    return None if value is None else float(value)


def mask(name: str) -> str:
    """A child's name masked for a sheet that leaves the school: 张小明 → 张*明, 李芳 → 李*."""
    if len(name) <= 1:
        return name
    if len(name) == 2:
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]


def summary(p: indicators.Participation) -> Table:
    headers = [_("学校数"), _("开展服务学校"), _("学校覆盖率"), _("在籍学生"), _("参加学生"),
               _("学生参与率"), _("每周 5 天参加"), _("在岗本校教师"), _("参与服务的本校教师"),
               _("教师参与率"), _("参与服务的校外人员"), _("参与率达 90% 的学校")]
    t = Table(_("区县汇总"), headers, formats={
        **dict.fromkeys(headers, COUNT), _("学校覆盖率"): RATE, _("学生参与率"): RATE,
        _("教师参与率"): RATE})
    t.rows.append([len(p.schools), p.providing, _f(p.coverage), p.total("students"),
                   p.total("students_served"), _f(p.student_rate),
                   p.total("students_all_week"), p.total("staff"), p.total("staff_serving"),
                   _f(p.staff_rate), p.total("external_serving"), p.at_target])
    return t


def schools(p: indicators.Participation) -> Table:
    headers = [_("学校代码"), _("学校"), _("学期"), _("在籍学生"), _("参加学生"), _("学生参与率"),
               _("每周 5 天参加"), _("在岗本校教师"), _("参与服务的本校教师"), _("教师参与率"),
               _("参与服务的校外人员"), _("“5+2”达标"), _("结束时间达标"), _("晚自习达标"),
               _("收费标准已公布"), _("收费不超过上限"), _("优先保障覆盖率"),
               _("无故缺勤（每千人次）"), _("安全事件（每千人次）"), _("延时接送（每千人次）"),
               _("未说明理由的不予批准"), _("中途退出"), _("投诉")]
    t = Table(_("学校明细"), headers, formats={
        **dict.fromkeys(headers[3:11], COUNT), _("学生参与率"): RATE, _("教师参与率"): RATE,
        _("优先保障覆盖率"): RATE, _("无故缺勤（每千人次）"): MONEY,
        _("安全事件（每千人次）"): MONEY, _("延时接送（每千人次）"): MONEY,
        _("未说明理由的不予批准"): COUNT, _("中途退出"): COUNT})
    for f in p.schools:
        c = f.compliance or indicators.Compliance()
        t.rows.append([
            f.school.code, f.school.name, f.term.name if f.term else "", f.students,
            f.students_served, _f(f.student_rate), f.students_all_week, f.staff,
            f.staff_serving, _f(f.staff_rate), f.external_serving,
            _yes(c.five_plus_two if f.compliance else None), _yes(c.end_time_ok),
            _yes(c.evening_ok), _yes(c.fee_published if f.compliance else None),
            _yes(c.fee_within_cap), _f(c.priority_rate),
            _f(indicators.per_thousand(c.unexplained, c.child_sessions)),
            _f(indicators.per_thousand(c.incidents, c.child_sessions)),
            _f(indicators.per_thousand(c.late_pickups, c.child_sessions)),
            c.refused_without_reason, c.withdrawals, "—"])
    return t


def attendance(p: indicators.Participation) -> Table:
    headers = [_("学校"), _("月份"), _("应到人次"), _("出勤人次"), _("请假人次"), _("缺勤人次"),
               _("学生出勤率"), _("课次"), _("教师到岗课次"), _("教师到岗率")]
    t = Table(_("考勤"), headers, formats={
        **dict.fromkeys(headers[2:6], COUNT), _("学生出勤率"): RATE, _("课次"): COUNT,
        _("教师到岗课次"): COUNT, _("教师到岗率"): RATE})
    names = {f.school.pk: f.school.name for f in p.schools}
    terms = [f.term.pk for f in p.schools if f.term]
    for row in month_attendance(terms, p.as_of):
        t.rows.append([names.get(row["school"], ""), f"{row['month']:%Y-%m}",
                       row["child_sessions"], row["present"], row["leave"], row["absent"],
                       _f(indicators.rate(row["present"], row["child_sessions"])),
                       row["sessions"], row["served"],
                       _f(indicators.rate(row["served"], row["sessions"]))])
    return t


def fees(p: indicators.Participation) -> Table:
    headers = [_("学校"), _("收费方式"), _("收费标准（元）"), _("上限（元/课时）"), _("应收"),
               _("减免"), _("实收"), _("已退费")]
    t = Table(_("收退费"), headers, formats=dict.fromkeys(headers[2:], MONEY))
    money = money_by_school([f.term.pk for f in p.schools if f.term])
    for f in p.schools:
        c = f.compliance or indicators.Compliance()
        m = money.get(f.school.pk)
        t.rows.append([f.school.name, c.fee.get_mode_display() if c.fee else _("未公布"),
                       _f(c.fee.rate) if c.fee else None, _f(f.school.district.fee_cap_per_hour),
                       _f(m.charged) if m else 0.0, _f(m.waived) if m else 0.0,
                       _f(m.collected) if m else 0.0, _f(m.refunded) if m else 0.0])
    return t


PUPIL_HEADERS = [_lazy("学生（已脱敏）"), _lazy("年级"), _lazy("班级"), _lazy("每周参加天数"),
                 _lazy("开始日期"), _lazy("结束日期")]


def pupils_table(rows: Iterable[dict]) -> Table:
    """学生明细 from enrollment's rows of enrolled pupils, minimal personal data: masked name,
    class, weekdays. The rows are read as the sheet is written, never held all at once."""
    headers = [str(h) for h in PUPIL_HEADERS]
    return Table(_("学生明细"), headers, formats={headers[3]: COUNT}, rows=(
        [mask(row["name"]), row["grade"], row["homeroom"], row["weekdays"],
         row["start"].isoformat(), row["end"].isoformat() if row["end"] else ""]
        for row in rows))


def pupils(school: School, as_of) -> Table:
    """The school's enrolled pupils, one query read in batches."""
    return pupils_table(enrolled_pupils(school.pk, as_of))


def notes(workbook: Workbook, tables: list[Table]) -> Table:
    """说明, written after the other sheets (their row counts are known only then) though it is
    the workbook's first sheet."""
    who = workbook.requested_by

    def rows():
        yield from [
            [_("名称"), _("课后服务合规工作簿")],
            [_("教育局"), workbook.district.name],
            [_("学期"), workbook.semester or _("统计日所在学期")],
            [_("统计日"), workbook.as_of.isoformat()],
            [_("生成时间"), timezone.localtime().strftime("%Y-%m-%d %H:%M")],
            [_("生成人"), who.display_name or who.username],
            [_("筛选条件"), _("教育局=%(d)s；学期=%(s)s；学生明细=%(school)s") % {
                "d": workbook.district.name, "s": workbook.semester or "—",
                "school": workbook.school.name if workbook.school else "—"}],
            [_("含个人信息"), _yes(workbook.personal_data)],
        ]
        yield from ([_("行数：%(sheet)s") % {"sheet": t.title}, str(t.written)] for t in tables)
        yield from ([str(d.label), str(d.definition)] for d in indicators.DEFINITIONS.values())

    return Table(_("说明"), [_("项目"), _("内容")], widths={_("内容"): 90}, rows=rows(),
                 last=True)


def build(workbook: Workbook, progress: Callable[[int, int], None]) -> bytes:
    """The workbook's file, reporting each sheet done. The figures are read from the replica
    when one is configured; the progress is written to the primary. The per-student sheet is
    read as it is written (in batches, on the replica)."""
    tables = []
    with replica_reads():
        district_schools = list(School.objects.filter(district=workbook.district)
                                .select_related("district").order_by("code"))
        p = indicators.participation(district_schools, workbook.as_of,
                                     workbook.semester or None, with_compliance=True)
    for step, make in enumerate((summary, schools, attendance, fees), start=1):
        with replica_reads():
            tables.append(make(p))
        progress(step, SHEETS)
    with replica_reads():
        if workbook.school is not None:
            tables.append(pupils(workbook.school, workbook.as_of))
        content = tables_xlsx([notes(workbook, tables), *tables])
    progress(SHEETS - 1, SHEETS)
    workbook.rows = {t.title: t.written for t in tables}
    return content
