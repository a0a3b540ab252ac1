"""Demo attendance for `manage.py seed_demo` (POLICY.md R8, R9): the primary school's recent
service days as they happened, today's sessions open for roll call, and the families' pickup
arrangements.

- Every family has a further authorised adult (a grandparent, an aunt or uncle); one older
  child has the guardian's written permission to walk home (the school allows it); the
  children the roster marks as bus riders leave on the bus.
- History: the past service days of the allocated weeks, at least HISTORY_DAYS of them where
  the term has had that many. The scheduling demo allocates this week; when this week has
  fewer past days, the week before is built and allocated here the same way (menu, choices,
  allocation). Each past day has a roll call in every session with children, noon children
  moving on to the afternoon, handoffs to guardians and authorised adults, by the daily code,
  a delegation, the bus and walking home, a few incidents and late pickups, one unexplained
  absence, a service record per session, and the principal's day close.
- `teacher` serves a class of 张小红's on every day of the allocated weeks: through the
  scheduling app where it can (she is moved into, or swapped into, the class `teacher` heads
  in one of her slots), else as the principal's substitute for her session.
- Today's sessions are left as they are: no roll call, no handoff, the day open.

Everything goes through the services, with two liberties: the school's walk-home setting,
which has no service, is set directly; and history is written with the services' clock
(timezone.now) set to the moment each write would have happened — roll call a few
minutes after the start, handoffs from the end, the close in the evening — so its rows, audit
entries and notices carry plausible times. Idempotent: a closed day, a week with a menu, a
child with an authorised adult or a walk-home permission is left alone. Choices and routes
come from fixed random seeds.
"""

import contextlib
import datetime
import random
import uuid
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field

from django.db.models import Count
from django.utils import timezone

from attendance import services
from attendance.models import (
    ClassSession,
    DayClose,
    Handoff,
    Incident,
    Mark,
    WalkHomePermission,
)
from attendance.pickup import daily_code
from attendance.selectors import Expected, expected_in, sessions_of_day
from attendance.services.days import STEPS as ESCALATION
from enrollment.selectors import enrolments_in_force
from scheduling import demo as scheduling_demo
from scheduling import services as scheduling
from scheduling.models import Menu, Placement, TemporaryClass
from scheduling.selectors import week_slot_days
from schools.demo import GIVEN_CHARS, SCHOOLS, SURNAMES, person_name
from schools.models import GuardianStudent, School, ServiceSlot, Staff, Student, User
from schools.selectors import (
    children_of,
    current_term,
    guardian_users_of,
    monday_of,
    service_days,
    term_of_week,
)

SEED = "20260901-attendance"
PRIMARY_CODE = "DEMO-P1"
# Past service days the demo shows at least (when the term has had them). Every past day of an
# allocated week becomes history, so when this week has fewer, the whole week before is added;
# each day costs some 15 seconds of seeding (every child's handoff is a service call).
HISTORY_DAYS = 1
# How far back the history may reach for them (holiday weeks have no service days).
MAX_WEEKS_BACK = 3
NOON, AFTERNOON = ServiceSlot.Kind.NOON, ServiceSlot.Kind.AFTERNOON
To = Handoff.To

# The demo accounts' families: their further adult (name, relation, phone).
DEMO_ADULTS = {
    "parent": ("李秀兰", "奶奶", "13800000001"),
    "parent2": ("王桂英", "外婆", "13800000002"),
}
# 张小红's one-day delegation (her aunt collects her one afternoon).
DELEGATE = ("张丽华", "13800000011")
# Relations of generated families' further adult, with weights; True: the child's surname.
RELATIONS = [("奶奶", False, 3), ("外婆", False, 3), ("爷爷", True, 2), ("外公", False, 1),
             ("姑姑", True, 1), ("舅舅", False, 1)]
# When the guardian on record is a grandparent, the further adult is a parent.
PARENTS = [("妈妈", False), ("爸爸", True)]

# An incident's kind, the teacher's note, and how it ends: collected by the family, recovered,
# or resolved without the guardian having acknowledged it yet ("unseen").
INCIDENTS = {
    "unwell": ("unwell", "自述头晕、有点发烧，测体温 37.8℃，已在保健室休息并通知家长。",
               "collected"),
    "scrape": ("injury", "活动时摔倒，膝盖擦伤，已用碘伏消毒并贴创可贴。", "recovered"),
    "quarrel": ("other", "与同学因借文具发生争执，老师已调解，双方互相道歉。", "unseen"),
}
NOON_CONTENT = "午饭后安静阅读，按时午休，老师巡视看护。"
STUDY_HALL_CONTENT = "完成书面作业，老师巡视答疑；完成作业的同学自主阅读。"


# --- the clock -------------------------------------------------------------------------------


@contextlib.contextmanager
def clock_at(moment: datetime.datetime) -> Iterator[None]:
    """Run the services as if it were `moment`: they (and auto_now fields) read the time from
    timezone.now, and so does timezone.localdate. The seed runs in one thread."""
    real = timezone.now
    timezone.now = lambda: moment
    try:
        yield
    finally:
        timezone.now = real


def at(day: datetime.date, time: datetime.time, minutes: float = 0) -> datetime.datetime:
    moment = datetime.datetime.combine(day, time) + datetime.timedelta(minutes=minutes)
    return timezone.make_aware(moment)


# --- families --------------------------------------------------------------------------------


def primary_links(students) -> dict[int, GuardianStudent]:
    """Each child's primary guardian link (the first on record)."""
    links = {}
    for link in (GuardianStudent.objects.filter(student__in=students)
                 .select_related("guardian__user").order_by("-is_primary", "pk")):
        links.setdefault(link.student_id, link)
    return links


def ensure_pickup_adults(moment: datetime.datetime) -> int:
    """Every demo family names one further adult, the same one for siblings."""
    students = list(Student.objects.filter(school__code__in=[s.code for s in SCHOOLS],
                                            pickup_adults__isnull=True)
                    .select_related("school").order_by("student_no"))
    links = primary_links(students)
    made = 0
    with clock_at(moment):
        for student in students:
            link = links.get(student.pk)
            if link is None or link.guardian.user is None:
                continue
            name, relation, phone, weekdays = further_adult(student, link)
            services.pickup_adult_add(student=student, user=link.guardian.user, name=name,
                                      relation=relation, phone=phone, weekdays=weekdays)
            made += 1
    return made


def further_adult(student: Student, link: GuardianStudent) -> tuple[str, str, str, list[int]]:
    demo = DEMO_ADULTS.get(link.guardian.user.username)
    if demo:
        return (*demo, [])
    rng = random.Random(f"{SEED}-adult-{student.student_no}")
    if link.relation == GuardianStudent.Relation.GRANDPARENT:
        relation, own_surname = rng.choice(PARENTS)
    else:
        relation, own_surname, _w = rng.choices(RELATIONS, [w for *_x, w in RELATIONS])[0]
    surname = student.name[0] if own_surname else rng.choice(SURNAMES)
    name = surname + "".join(rng.choice(GIVEN_CHARS) for _ in range(2))
    # Guardians' numbers are 139…; their adult's is the same number under 138.
    phone = "138" + link.guardian.phone[3:]
    # Some come only on the days they are free.
    weekdays = sorted(rng.sample([1, 2, 3, 4, 5], 2)) if rng.random() < 0.15 else []
    return name, relation, phone, weekdays


def ensure_walk_home(school: School, term, moment: datetime.datetime) -> Student | None:
    """One sixth-grader with an afternoon place goes home alone on the guardian's written
    permission; the school allows it."""
    # The school's setting has no service of its own (it is set in the admin).
    School.objects.filter(pk=school.pk, allows_walk_home=False).update(allows_walk_home=True)
    school.allows_walk_home = True
    existing = WalkHomePermission.objects.filter(student__school=school,
                                                 revoked_at__isnull=True).first()
    if existing is not None:
        return existing.student
    # The one who stays every afternoon, so any day of the demo shows them leaving alone.
    afternoons = (enrolments_in_force(term, timezone.localdate())
                  .filter(slots__kind=AFTERNOON, student__school=school,
                          student__grade__number=6, student__bus_rider=False,
                          student__boarding=False)
                  .exclude(student__in=demo_children())
                  .values("student_id").annotate(n=Count("slots")).order_by("-n", "student_id"))
    row = afternoons.first()
    if row is None:
        return None
    student = Student.objects.select_related("school").get(pk=row["student_id"])
    link = primary_links([student])[student.pk]
    with clock_at(moment):
        services.walk_home_sign(student=student, user=link.guardian.user,
                                valid_from=term.start, valid_to=term.end,
                                signed_name=link.guardian.name)
    return student


# --- the weeks -------------------------------------------------------------------------------


def ensure_weeks(school: School, term, today: datetime.date, principal: User) -> list[Menu]:
    """The allocated weeks of the history, earliest first: this week, and before it as many
    weeks as it takes to reach HISTORY_DAYS past service days of the term."""
    this_week = monday_of(today)
    past = len(service_days(term, this_week, today - datetime.timedelta(days=1)))
    week, weeks = this_week, []
    for _back in range(MAX_WEEKS_BACK):
        if past >= HISTORY_DAYS:
            break
        week -= datetime.timedelta(days=7)
        week_term = term_of_week(school.pk, week)
        if week_term is None or week_term.pk != term.pk:
            break
        days = service_days(term, week, week + datetime.timedelta(days=6))
        if days:
            weeks.append(school.menus.filter(week=week).first()
                         or allocate_past_week(school, week, principal))
            past += len(days)
    weeks.reverse()
    this = school.menus.filter(week=this_week, status=Menu.Status.ALLOCATED).first()
    return [m for m in weeks + [this] if m is not None and m.status == Menu.Status.ALLOCATED]


def allocate_past_week(school: School, week: datetime.date, principal: User) -> Menu:
    """A past week as the scheduling demo builds this one, each step on its day: the menu
    published on the Wednesday before, choices until the Friday deadline, the allocation on
    the Saturday (its sessions are made by the allocation)."""
    activities = scheduling_demo.ensure_activities(school, principal)
    deadline = scheduling.default_deadline(week)
    with clock_at(at(week, datetime.time(17, 0), -5 * 24 * 60)):
        menu = scheduling_demo.build_menu(school, week, principal, activities, deadline)
    with clock_at(deadline - datetime.timedelta(hours=24)):
        scheduling_demo.rank_choices(menu, random.Random(f"{scheduling_demo.SEED}-{week}"),
                                     0.8, skip=set())
    with clock_at(at(week, datetime.time(9, 0), -2 * 24 * 60)):
        scheduling.menu_allocate(menu=menu, user=principal, seed=f"demo-{week}")
    menu.refresh_from_db()
    return menu


# --- `teacher` and 张小红 --------------------------------------------------------------------


def follow_child(menu: Menu, child: Student, staff: Staff, principal: User) -> Counter:
    """Make `staff` serve one of the child's classes on each day of the week. Temporary classes
    get their head teacher from the menu item's teacher at allocation, and nothing in
    scheduling changes it afterwards; what the principal can do is move the child: into the
    class `staff` heads in one of her slots that day (swapping with a classmate of her grade
    when it is full). A day on which `staff` heads none of her slots' classes is served by
    `staff` as the principal's substitute."""
    done = Counter()
    days: dict[datetime.date, list[int]] = defaultdict(list)
    for slot_id, day in week_slot_days(menu).items():
        days[day].append(slot_id)
    placements = {p.slot_id: p for p in Placement.objects.filter(menu=menu, student=child)
                  .select_related("temporary_class", "slot")}
    for day, slot_ids in sorted(days.items()):
        mine = [placements[s] for s in slot_ids if s in placements]
        if not mine or any(p.temporary_class.head_teacher_id == staff.pk for p in mine):
            continue
        sessions = list(ClassSession.objects.filter(
            temporary_class__in=[p.temporary_class_id for p in mine], date=day)
            .select_related("temporary_class", "slot"))
        if not sessions or any(s.teacher_id == staff.pk for s in sessions):
            continue
        # Right after the week's allocation (made at seed time for this week: no later).
        allocated = menu.runs.filter(committed=True).order_by("-created_at").first()
        moment = min(allocated.created_at + datetime.timedelta(minutes=30), timezone.now())
        with clock_at(moment):
            if move_into_class_of(menu, child, staff, mine, principal):
                done["moved"] += 1
                continue
            session = max(sessions, key=lambda s: (s.slot.kind == AFTERNOON, s.start))
            services.session_set_teacher(session=session, teacher=staff, user=principal,
                                         reason=f"原任教师外出教研，由{staff.name}老师代课")
            done["substitute"] += 1
    return done


def move_into_class_of(menu: Menu, child: Student, staff: Staff, mine: list[Placement],
                       principal: User) -> bool:
    for placement in mine:
        target = (TemporaryClass.objects.filter(menu=menu, slot_id=placement.slot_id,
                                                head_teacher=staff)
                  .select_related("item").first())
        if target is None or (target.item and child.grade.number not in target.item.grades):
            continue
        reason = f"家长申请调入{target.name}"
        if target.placements.count() < target.capacity:
            scheduling.placement_move(placement=placement, to=target, user=principal,
                                      reason=reason)
            return True
        # Full: swap with a classmate of her grade, who fits wherever she was.
        other = (target.placements.filter(student__grade=child.grade)
                 .exclude(student__in=demo_children()).order_by("student__student_no")
                 .first())
        if other is not None:
            scheduling.placement_swap(first=placement, second=other, user=principal,
                                      reason=reason)
            return True
    return False


def demo_children() -> list[int]:
    """The demo accounts' children, whom nothing picked at random should move or single out."""
    return list(GuardianStudent.objects.filter(guardian__user__username__in=DEMO_ADULTS)
                .values_list("student_id", flat=True))


# --- the past days --------------------------------------------------------------------------


@dataclass(frozen=True)
class Event:
    """Something out of the ordinary on a past day: `kind` absent, incident (`detail` the key
    in INCIDENTS), late (`detail` the last escalation step reached) or delegation."""

    kind: str
    student: int
    detail: str | int = ""


@dataclass
class Stats:
    days: int = 0
    sessions: int = 0
    marks: Counter = field(default_factory=Counter)
    routes: Counter = field(default_factory=Counter)
    incidents: int = 0
    late: int = 0
    records: int = 0


class DayWriter:
    """One past day of the school, session by session, at the times it would have happened."""

    def __init__(self, school: School, day: datetime.date, principal: User, stats: Stats):
        self.school, self.day, self.principal, self.stats = school, day, principal, stats
        self.rng = random.Random(f"{SEED}-{day}")
        self.grace = school.pickup_grace_minutes
        self.sessions = list(sessions_of_day(school.pk, day))
        self.expected = {s.pk: expected_in(s) for s in self.sessions}
        # Each child's afternoon session and place in it: where noon children move on to.
        self.afternoon = {e.student.pk: (s, e) for s in self.sessions
                          if s.slot.kind == AFTERNOON for e in self.expected[s.pk]}
        self.guardian_users = {pk: users[0] for pk, users in guardian_users_of(
            [e.student.pk for s in self.sessions for e in self.expected[s.pk]]).items()}
        self.events: list[Event] = []
        self.delegation = None
        self.notes: dict[int, list[str]] = defaultdict(list)

    def candidates(self, *, alone: bool = False) -> list[int]:
        """Children of the afternoon collected by their families (not on leave, not bus riders
        or walkers); with `alone`, only those with no noon session that day."""
        noon = {e.student.pk for s in self.sessions if s.slot.kind == NOON
                for e in self.expected[s.pk]}
        return sorted(pk for pk, (_s, e) in self.afternoon.items()
                      if not (e.leave or e.bus or e.walk_home) and not (alone and pk in noon))

    def of(self, kind: str) -> list[Event]:
        return [e for e in self.events if e.kind == kind]

    def actor(self, session: ClassSession) -> User:
        """Who works the tablet: the serving teacher; a provider's coach has no login, so the
        principal records for them."""
        if session.teacher is not None and session.teacher.user is not None:
            return session.teacher.user
        return self.principal

    def write(self) -> None:
        self.give_delegation()
        for session in self.sessions:
            self.roll_call(session)
            self.incidents(session)
            self.handoffs(session)
        self.late_pickups()
        for session in self.sessions:
            self.record(session)
        last = max((s.end for s in self.sessions), default=datetime.time(18, 0))
        with clock_at(at(self.day, last, self.grace + 45)):
            services.day_close(school=self.school, day=self.day, user=self.principal)
        self.stats.days += 1
        self.stats.sessions += len(self.sessions)

    def absent(self) -> int | None:
        return next((e.student for e in self.of("absent")), None)

    # -- the morning, roll call, incidents --

    def give_delegation(self) -> None:
        """The guardian names who collects the child today, in the morning."""
        for event in self.of("delegation"):
            student = self.afternoon[event.student][1].student
            with clock_at(at(self.day, datetime.time(8, 10))):
                self.delegation = services.delegation_give(
                    student=student, user=self.guardian_users[student.pk], name=DELEGATE[0],
                    phone=DELEGATE[1], date=self.day)

    def roll_call(self, session: ClassSession) -> None:
        marks = []
        for e in self.expected[session.pk]:
            if e.leave:
                status = Mark.Status.LEAVE
            elif e.student.pk == self.absent():
                status = Mark.Status.ABSENT
                self.notes[session.pk].append(f"{e.student.name} 未到，未请假，已通知家长。")
            elif self.rng.random() < 0.02:
                status = Mark.Status.LATE
            else:
                status = Mark.Status.PRESENT
            marks.append({"student": e.student.pk, "status": status, "client_id": uuid.uuid4()})
        if not marks:
            return
        with clock_at(at(self.day, session.start, 5 + self.rng.random() * 5)):
            services.roll_call(session=session, user=self.actor(session), marks=marks)
        self.stats.marks.update(m["status"] for m in marks)

    def incidents(self, session: ClassSession) -> None:
        for n, event in enumerate(self.of("incident")):
            placed = self.afternoon.get(event.student)
            if placed is None or placed[0].pk != session.pk:
                continue
            student = placed[1].student
            kind, note, ending = INCIDENTS[event.detail]
            when = at(self.day, session.start, 25 + 20 * n + self.rng.random() * 10)
            teacher = self.actor(session)
            with clock_at(when):
                reply = services.incident_report(session=session, user=teacher,
                                                 student_id=student.pk, kind=kind, note=note,
                                                 client_id=uuid.uuid4())
            incident = Incident.objects.get(pk=reply.body["id"])
            if ending != "unseen":
                with clock_at(when + datetime.timedelta(minutes=6)):
                    services.incident_acknowledge(incident=incident,
                                                  user=self.guardian_users[student.pk])
            with clock_at(when + datetime.timedelta(minutes=30)):
                services.incident_resolve(incident=incident, user=teacher, resolution={
                    "collected": Incident.Resolution.COLLECTED,
                    "recovered": Incident.Resolution.RECOVERED,
                }.get(ending, Incident.Resolution.OTHER))
            if ending == "collected":
                # The family came for the child before the end.
                with clock_at(min(when + datetime.timedelta(minutes=35),
                                  at(self.day, session.end, -5))):
                    self.release(session, student,
                                 self.to_guardian(placed[1], kinds=("guardian",)))
            self.notes[session.pk].append(f"{student.name}：{note}")
            self.stats.incidents += 1

    # -- handoffs --

    def handoffs(self, session: ClassSession) -> None:
        late = {e.student for e in self.of("late")}
        done = set(session.handoffs.values_list("student_id", flat=True))
        waiting = [e for e in self.expected[session.pk]
                   if e.student.pk not in done and not e.leave and e.student.pk != self.absent()
                   and not (session.slot.kind == AFTERNOON and e.student.pk in late)]
        # Everyone on time is out before the grace period ends, when the late scan starts.
        spread = max(self.grace - 1, 1)
        for i, e in enumerate(waiting):
            with clock_at(at(self.day, session.end, 0.5 + spread * i / len(waiting))):
                self.release(session, e.student, self.route(session, e))

    def route(self, session: ClassSession, e: Expected) -> dict:
        later = self.afternoon.get(e.student.pk)
        if session.slot.kind == NOON:
            if later is not None and not later[1].leave:
                return {"released_to": To.TRANSFER, "transfer_to": later[0].pk}
            # No afternoon session: back to lessons at the end of the lunch break.
            return {"released_to": To.LESSONS}
        if e.bus:
            return {"released_to": To.BUS}
        if e.walk_home:
            return {"released_to": To.SELF}
        if self.delegation is not None and self.delegation.student_id == e.student.pk:
            return {"released_to": To.GUARDIAN, "pickup_code": self.delegation.code,
                    "pickup_name": self.delegation.name}
        if self.rng.random() < 0.1:
            # Someone the family sent with the day's pickup code from the guardian's phone.
            return {"released_to": To.GUARDIAN, "pickup_code": daily_code(e.student.pk, self.day),
                    "pickup_name": person_name(self.rng)}
        return self.to_guardian(e)

    def to_guardian(self, e: Expected, kinds=("guardian", "adult")) -> dict:
        listed = [a for a in e.adults if a.kind in kinds]
        adult = self.rng.choices(listed, [0.6 if a.kind == "guardian" else 0.4
                                          for a in listed])[0]
        return {"released_to": To.GUARDIAN, "pickup_person": adult.id}

    def release(self, session: ClassSession, student: Student, data: dict) -> None:
        reply = services.handoff_release(session=session, user=self.actor(session),
                                         data={"student": student.pk, **data},
                                         client_id=uuid.uuid4())
        if reply.status != 201:
            raise RuntimeError(f"demo handoff refused: {reply.body}")
        self.stats.routes[route_name(reply.body)] += 1

    def late_pickups(self) -> None:
        """Who was not collected on time: the scan runs as it does every minute, here at each
        step's due time; each family arrives a few minutes after its child's last step."""
        late = [(e.student, e.detail) for e in self.of("late") if e.student in self.afternoon]
        if not late:
            return
        end = max(self.afternoon[pk][0].end for pk, _step in late)
        for step in range(1, max(step for _pk, step in late) + 1):
            now = at(self.day, end, self.grace + ESCALATION[step])
            with clock_at(now):
                services.late_pickups_scan(now=now)
            for pk, last in late:
                if last != step:
                    continue
                session, e = self.afternoon[pk]
                minutes = self.grace + ESCALATION[step] + 6
                with clock_at(at(self.day, session.end, minutes)):
                    self.release(session, e.student, self.to_guardian(e))
                self.notes[session.pk].append(
                    f"{e.student.name} 的家长在结束后 {minutes} 分钟才到，"
                    "其间已按程序通知家长和授权接送人。")
                self.stats.late += 1

    # -- the record --

    def record(self, session: ClassSession) -> None:
        expected = self.expected[session.pk]
        if not expected:
            return
        cls = session.temporary_class
        if session.slot.kind == NOON:
            content = NOON_CONTENT
        elif cls.kind == TemporaryClass.Kind.STUDY_HALL:
            content = STUDY_HALL_CONTENT
        else:
            content = f"{cls.item.activity.name}：{cls.item.activity.description}。"
        present = sum(1 for e in expected if not e.leave and e.student.pk != self.absent())
        content += f"应到 {len(expected)} 人，实到 {present} 人。"
        notes = " ".join(self.notes.get(session.pk, [])) or "无"
        minutes = 15 if session.slot.kind == NOON else self.grace + 40
        with clock_at(at(self.day, session.end, minutes)):
            services.service_record_write(session=session, user=self.actor(session),
                                          content=content, notes=notes,
                                          client_id=uuid.uuid4())
        self.stats.records += 1


def route_name(handoff: dict) -> str:
    if handoff["released_to"] == To.GUARDIAN:
        return {"code": "code", "delegation": "delegation"}.get(handoff["via"], "list")
    return handoff["released_to"]


def plan_history(writers: list[DayWriter], child: Student | None) -> None:
    """The unusual, spread over the last three days, most on the latest (the days a newcomer
    opens first): one unexplained absence, three incidents (张小红's scraped knee among them,
    on the day her aunt collects her with a delegation), two late pickups."""
    recent = writers[-3:][::-1]
    if not recent:
        return
    rng = random.Random(f"{SEED}-plan-{recent[0].day}")
    taken = {child.pk} if child else set()

    def ordinary(writer: DayWriter, alone: bool = False) -> int | None:
        pool = [pk for pk in writer.candidates(alone=alone) if pk not in taken]
        if not pool:
            return None
        taken.add(pick := rng.choice(pool))
        return pick

    def on(i: int) -> DayWriter:
        return recent[i % len(recent)]

    if (pk := ordinary(on(0), alone=True)) is not None:
        on(0).events.append(Event("absent", pk))
    if child is not None and child.pk in on(1).afternoon:
        on(1).events += [Event("incident", child.pk, "scrape"), Event("delegation", child.pk)]
    for i, kind, detail in [(2, "incident", "unwell"), (0, "late", 2), (1, "late", 3),
                            (2, "incident", "quarrel")]:
        if (pk := ordinary(on(i))) is not None:
            on(i).events.append(Event(kind, pk, detail))


# --- entry point -----------------------------------------------------------------------------


def history_days(school: School, today: datetime.date) -> list[datetime.date]:
    """The past days with sessions not yet closed."""
    closed = DayClose.objects.filter(school=school).values("date")
    return sorted(set(ClassSession.objects.filter(school=school, date__lt=today)
                      .exclude(date__in=closed).values_list("date", flat=True)))


def seed(*, stdout=None) -> dict:
    school = School.objects.filter(code=PRIMARY_CODE).first()
    today = timezone.localdate()
    term = current_term(school.pk, today) if school else None
    if term is None:
        return {}
    principal = User.objects.get(username="principal")
    staff = Staff.objects.get(user__username="teacher")
    parent = User.objects.get(username="parent")
    child = next(iter(children_of(parent)[1:2]), None)  # 张小红, the enrolled one
    before_term = at(term.start, datetime.time(20, 0), -24 * 60)

    adults = ensure_pickup_adults(before_term)
    walker = ensure_walk_home(school, term, before_term)
    weeks = ensure_weeks(school, term, today, principal)
    followed = Counter()
    if child is not None:
        for menu in weeks:
            followed += follow_child(menu, child, staff, principal)

    stats = Stats()
    writers = [DayWriter(school, day, principal, stats) for day in history_days(school, today)]
    plan_history(writers, child)
    for writer in writers:
        writer.write()

    result = {"pickup_adults": adults, "walk_home": walker.pk if walker else None,
              "weeks": len(weeks), "days": stats.days,
              "sessions": stats.sessions, "marks": dict(stats.marks),
              "routes": dict(stats.routes), "incidents": stats.incidents,
              "late_pickups": stats.late, "records": stats.records, "followed": dict(followed)}
    if stdout is not None and (stats.days or adults):
        labels = {"list": "名单核对", "code": "接送码", "delegation": "委托",
                  To.TRANSFER: "转入课后", To.LESSONS: "回班上课", To.BUS: "校车",
                  To.SELF: "自行离校"}
        routes = "，".join(f"{labels.get(k, k)} {n}" for k, n in stats.routes.most_common())
        marks, handoffs = sum(stats.marks.values()), sum(stats.routes.values())
        stdout.write(f"{school.name} 考勤：{stats.days} 个服务日已日终确认"
                     f"（{stats.sessions} 个课次，点名 {marks} 人次，"
                     f"交接 {handoffs} 次：{routes}；事件 {stats.incidents}，"
                     f"延时接送 {stats.late}，服务记录 {stats.records}）；"
                     f"新增授权接送人 {adults} 名\n")
    return result
