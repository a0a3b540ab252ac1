"""The roster of the demo (`manage.py seed_demo`, portal): the demo district, its three schools
and the demo logins.

Idempotent: every row is looked up by its natural key (district code, school code, term name,
grade number, homeroom name, student number, guardian phone, username) before it is created,
so a second run adds nothing; it only resets the demo accounts' passwords and moves the current
term so that it contains today. Pupils and their guardians (~1,000 of each) go in with
bulk_create, so the whole run takes a few seconds.

Names are made up from a fixed random seed: the same run always yields the same roster.
"""

import datetime
import random
import unicodedata
from dataclasses import dataclass, field
from decimal import Decimal

from django.contrib.auth.hashers import make_password

from schools.models import (
    District,
    Grade,
    Guardian,
    GuardianStudent,
    Homeroom,
    Membership,
    PriorityCategory,
    Role,
    School,
    ServiceSlot,
    Staff,
    Student,
    Term,
    TermCalendarDay,
    User,
)

DEFAULT_PASSWORD = "demo12345"
SEED = 20260901
EMAIL_DOMAIN = "demo.example.cn"

SURNAMES = ("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘"
            "蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹")
GIVEN_CHARS = ("子涵欣怡梓萱诗雨桐妍可馨浩宇然轩俊杰航皓思远博文睿泽明嘉懿晨曦佳若汐一诺依"
               "伟芳娜敏静丽强磊军洋勇艳杰娟涛超秀霞平刚桂英华玉兰志红建国海燕")
GRADE_NAMES = {1: "一年级", 2: "二年级", 3: "三年级", 4: "四年级", 5: "五年级", 6: "六年级",
               7: "七年级", 8: "八年级", 9: "九年级"}
PRIORITY_VALUES = [c.value for c in PriorityCategory]
RELATIONS = [GuardianStudent.Relation.MOTHER, GuardianStudent.Relation.MOTHER,
             GuardianStudent.Relation.FATHER, GuardianStudent.Relation.FATHER,
             GuardianStudent.Relation.GRANDPARENT]

DISTRICT_CODE, DISTRICT_NAME = "DEMO-D", "示范区教育局"

# The term the demo is written for; when the command runs outside it, a term around today.
DEFAULT_TERM = ("2026—2027学年第一学期", datetime.date(2026, 9, 1), datetime.date(2027, 1, 22))
HOLIDAYS = [((10, 1), (10, 7), "国庆节"), ((1, 1), (1, 1), "元旦"), ((5, 1), (5, 5), "劳动节")]
# R12: noon counts 2 class-hours, afternoon 1; Monday to Friday.
SLOTS = [
    (ServiceSlot.Kind.NOON, datetime.time(11, 40), datetime.time(14, 10), Decimal("2")),
    (ServiceSlot.Kind.AFTERNOON, datetime.time(16, 20), datetime.time(18, 0), Decimal("1")),
]


@dataclass(frozen=True)
class SchoolSpec:
    index: int  # one digit, part of student numbers and phone numbers
    code: str
    name: str
    stage: str
    grades: tuple[int, ...]
    homerooms: tuple[str, ...]
    pupils_per_homeroom: int
    temp_class_cap: int
    boarding_rate: float = 0.0
    bus_rate: float = 0.05


PRIMARY = SchoolSpec(1, "DEMO-P1", "示范区实验小学", School.Stage.PRIMARY, tuple(range(1, 7)),
                     ("1班", "2班", "3班"), 40, 45, boarding_rate=0.02, bus_rate=0.06)
MIDDLE = SchoolSpec(2, "DEMO-M1", "示范区第一初级中学", School.Stage.MIDDLE, (7, 8, 9),
                    ("1班", "2班"), 35, 40, boarding_rate=0.12, bus_rate=0.08)
SMALL = SchoolSpec(3, "DEMO-P2", "示范区东山小学", School.Stage.PRIMARY, tuple(range(1, 7)),
                   ("1班",), 20, 40, boarding_rate=0.0, bus_rate=0.25)
WEST = SchoolSpec(4, "DEMO-P3", "示范区西湖小学", School.Stage.PRIMARY, tuple(range(1, 7)),
                  ("1班",), 12, 40, boarding_rate=0.0, bus_rate=0.1)
SCHOOLS = (PRIMARY, MIDDLE, SMALL, WEST)

# The demo families: (school, grade, homeroom, seat) → (guardian username, child's name, gender).
# The grade-1 child comes first in Student.Meta.ordering, and so first in /api/v1/me/; her
# homeroom's head teacher is the `homeroom` account.
DEMO_CHILDREN = {
    (PRIMARY.code, 1, "2班", 1): ("parent", "张小明", Student.Gender.MALE),
    (PRIMARY.code, 3, "1班", 1): ("parent", "张小红", Student.Gender.FEMALE),
    (PRIMARY.code, 3, "1班", 2): ("parent2", "刘洋", Student.Gender.MALE),
}
DEMO_HEAD_TEACHERS = {(PRIMARY.code, 1, "2班"): "homeroom", (PRIMARY.code, 3, "1班"): "homeroom2"}


@dataclass(frozen=True)
class Account:
    username: str
    display_name: str
    role: str
    sees: str
    phone: str = ""


ACCOUNTS = {a.username: a for a in [
    Account("admin", "系统管理员", "超级管理员", "Django 管理后台 /admin/，全部数据"),
    Account("district", "吴国华", f"教育局（{DISTRICT_NAME}）", "区内三所学校的汇总与监管"),
    Account("principal", "陈志强", f"校长（{PRIMARY.name}）", "全校名册、课程、报名与报表"),
    Account("principal2", "周海燕", f"校长（{MIDDLE.name}）", "该校全校数据（看不到实验小学）"),
    Account("finance", "孙丽娟", f"财务（{PRIMARY.name}）", "全校收费、减免与退费"),
    Account("homeroom", "王静怡", f"班主任（{PRIMARY.name} 一年级2班）",
            "本班学生（含张小明）", "13600000001"),
    Account("homeroom2", "李建国", f"班主任（{PRIMARY.name} 三年级1班）",
            "本班学生（含张小红、刘洋）", "13600000002"),
    Account("teacher", "赵雪梅", f"服务教师（{PRIMARY.name}）", "自己任教的课后服务班",
            "13600000003"),
    Account("parent", "张伟", "家长", "两个孩子：张小明（一年级2班）、张小红（三年级1班）",
            "13700000001"),
    Account("parent2", "刘芳", "家长", "孩子刘洋（三年级1班）", "13700000002"),
]}


@dataclass
class PupilSpec:
    student_no: str
    name: str
    gender: str
    grade: int
    homeroom: str
    boarding: bool
    bus_rider: bool
    priority_categories: list[str] = field(default_factory=list)
    demo_guardian: str = ""  # username of a demo account, or "" for a generated guardian
    guardian_phone: str = ""
    guardian_name: str = ""
    relation: str = GuardianStudent.Relation.MOTHER


# --- deterministic names -------------------------------------------------------------------


def person_name(rng: random.Random, surname: str | None = None) -> str:
    given = "".join(rng.choice(GIVEN_CHARS) for _ in range(rng.choice((1, 2, 2))))
    return (surname or rng.choice(SURNAMES)) + given


def pupil_specs(spec: SchoolSpec) -> list[PupilSpec]:
    """Every pupil of a school, the same on every run."""
    rng = random.Random(f"{SEED}-{spec.code}")
    pupils = []
    for grade in spec.grades:
        for h, homeroom in enumerate(spec.homerooms, start=1):
            for seat in range(1, spec.pupils_per_homeroom + 1):
                pupils.append(_pupil(rng, spec, grade, h, homeroom, seat))
    return pupils


def _pupil(rng: random.Random, spec: SchoolSpec, grade: int, h: int, homeroom: str,
           seat: int) -> PupilSpec:
    surname = rng.choice(SURNAMES)
    pupil = PupilSpec(
        student_no=f"2026{spec.index}{grade}{h}{seat:02d}",
        name=person_name(rng, surname),
        gender=rng.choice(Student.Gender.values),
        grade=grade, homeroom=homeroom,
        boarding=rng.random() < spec.boarding_rate,
        bus_rider=rng.random() < spec.bus_rate,
    )
    if rng.random() < 0.15:
        pupil.priority_categories = sorted(rng.sample(PRIORITY_VALUES, rng.choice((1, 1, 2))))
    relation = rng.choice(RELATIONS)
    guardian_surname = surname if relation != GuardianStudent.Relation.MOTHER else None
    pupil.relation = relation
    pupil.guardian_name = person_name(rng, guardian_surname)
    pupil.guardian_phone = f"139{spec.index}{grade}{h}{seat:05d}"
    demo = DEMO_CHILDREN.get((spec.code, grade, homeroom, seat))
    if demo:
        pupil.demo_guardian, pupil.name, pupil.gender = demo
        pupil.relation = GuardianStudent.Relation.FATHER if demo[0] == "parent" \
            else GuardianStudent.Relation.MOTHER
        pupil.guardian_phone = pupil.guardian_name = ""
    return pupil


# --- users, staff, memberships ---------------------------------------------------------------


def ensure_user(username: str, display_name: str, password_hash: str | None = None,
                **flags) -> User:
    """A demo account (password_hash given: reset on every run) or a generated login."""
    if password_hash is not None:
        user, _ = User.objects.update_or_create(username=username, defaults={
            "display_name": display_name, "email": f"{username}@{EMAIL_DOMAIN}",
            "password": password_hash, "is_active": True, **flags})
        return user
    user, _ = User.objects.get_or_create(username=username, defaults={
        "display_name": display_name, "password": make_password(None), **flags})
    return user


def ensure_staff(school: School, user: User, phone: str = "") -> Staff:
    staff, created = Staff.objects.get_or_create(
        user=user, defaults={"school": school, "name": user.display_name, "phone": phone})
    if not created and staff.school_id != school.pk:
        staff.school = school
        staff.save(update_fields=["school"])
    return staff


def grant(user: User, role: str, *, school: School | None = None,
          district: District | None = None) -> None:
    Membership.objects.get_or_create(user=user, role=role, school=school, district=district)


# --- district, schools, terms ----------------------------------------------------------------


def ensure_district() -> District:
    district, _ = District.objects.update_or_create(code=DISTRICT_CODE,
                                                    defaults={"name": DISTRICT_NAME})
    return district


def ensure_school(district: District, spec: SchoolSpec) -> School:
    school, _ = School.objects.update_or_create(code=spec.code, defaults={
        "district": district, "name": spec.name, "stage": spec.stage,
        "temp_class_cap": spec.temp_class_cap,
        "complaint_phone": f"0351-66{spec.index:02d}1234",
        "complaint_email": f"kehou-{spec.code.lower()}@{EMAIL_DOMAIN}",
    })
    return school


def semester_name(day: datetime.date) -> str:
    if day.month >= 8:
        return f"{day.year}—{day.year + 1}学年第一学期"
    if day.month == 1:
        return f"{day.year - 1}—{day.year}学年第一学期"
    return f"{day.year - 1}—{day.year}学年第二学期"


def current_term_dates(today: datetime.date) -> tuple[str, datetime.date, datetime.date]:
    """The demo term, or — when today is outside it — a term from ~60 days before today to
    ~90 days after, named after the semester today falls in."""
    name, start, end = DEFAULT_TERM
    if start <= today <= end:
        return name, start, end
    return (semester_name(today), today - datetime.timedelta(days=60),
            today + datetime.timedelta(days=90))


def ensure_term(school: School, today: datetime.date) -> Term:
    name, start, end = current_term_dates(today)
    term, _ = Term.objects.update_or_create(school=school, name=name, defaults={
        "start": start, "end": end, "excluded_weekdays": []})
    ensure_holidays(term)
    ensure_slots(term)
    return term


def ensure_holidays(term: Term) -> None:
    term.calendar_days.exclude(date__range=(term.start, term.end)).delete()
    for year in range(term.start.year, term.end.year + 1):
        for (m1, d1), (m2, d2), note in HOLIDAYS:
            day, last = datetime.date(year, m1, d1), datetime.date(year, m2, d2)
            while day <= last:
                if term.start <= day <= term.end:
                    TermCalendarDay.objects.get_or_create(term=term, date=day, defaults={
                        "kind": TermCalendarDay.Kind.HOLIDAY, "note": note})
                day += datetime.timedelta(days=1)


def ensure_slots(term: Term) -> None:
    for weekday in range(1, 6):
        for kind, start, end, class_hours in SLOTS:
            ServiceSlot.objects.update_or_create(term=term, kind=kind, weekday=weekday, defaults={
                "start": start, "end": end, "class_hours": class_hours})


# --- grades, homerooms, head teachers --------------------------------------------------------


def ensure_homerooms(school: School, spec: SchoolSpec,
                     password_hash: str) -> dict[tuple[int, str], Homeroom]:
    rng = random.Random(f"{SEED}-{spec.code}-staff")
    # Every teacher a full name of their own: two 王老师 cannot be told apart in a list.
    taken = {a.display_name for a in ACCOUNTS.values()}
    homerooms = {}
    for grade_no in spec.grades:
        grade, _ = Grade.objects.get_or_create(school=school, number=grade_no,
                                               defaults={"name": GRADE_NAMES[grade_no]})
        for h, name in enumerate(spec.homerooms, start=1):
            teacher_name = person_name(rng)
            while teacher_name in taken or len(teacher_name) < 3:
                teacher_name = person_name(rng)
            taken.add(teacher_name)
            head = ensure_head_teacher(school, spec, grade_no, h, name, teacher_name,
                                       password_hash)
            homeroom, created = Homeroom.objects.get_or_create(
                grade=grade, name=name, defaults={"school": school, "head_teacher": head})
            if not created and homeroom.head_teacher_id != head.pk:
                homeroom.head_teacher = head
                homeroom.save(update_fields=["head_teacher"])
            homerooms[(grade_no, name)] = homeroom
    return homerooms


def ensure_head_teacher(school: School, spec: SchoolSpec, grade_no: int, h: int, name: str,
                        teacher_name: str, password_hash: str) -> Staff:
    username = DEMO_HEAD_TEACHERS.get((spec.code, grade_no, name))
    if username:
        account = ACCOUNTS[username]
        user = ensure_user(username, account.display_name, password_hash)
        phone = account.phone
    else:
        user = ensure_user(f"ht{spec.index}{grade_no}{h}", teacher_name)
        phone = f"136{spec.index}{grade_no}{h}{0:05d}"
    grant(user, Role.HOMEROOM_TEACHER, school=school)
    return ensure_staff(school, user, phone)


# --- pupils and their guardians (bulk) -------------------------------------------------------


def ensure_pupils(school: School, spec: SchoolSpec,
                  homerooms: dict[tuple[int, str], Homeroom]) -> dict[str, Student]:
    pupils = pupil_specs(spec)
    numbers = [p.student_no for p in pupils]
    existing = set(Student.objects.filter(school=school, student_no__in=numbers)
                   .values_list("student_no", flat=True))
    Student.objects.bulk_create([
        Student(school=school, grade=homerooms[(p.grade, p.homeroom)].grade,
                homeroom=homerooms[(p.grade, p.homeroom)], student_no=p.student_no,
                name=p.name, gender=p.gender, boarding=p.boarding, bus_rider=p.bus_rider,
                priority_categories=p.priority_categories)
        for p in pupils if p.student_no not in existing], batch_size=500)
    students = {s.student_no: s for s in Student.objects.filter(school=school,
                                                                 student_no__in=numbers)}
    ensure_generated_guardians([p for p in pupils if not p.demo_guardian], students)
    return students


def ensure_generated_guardians(pupils: list[PupilSpec], students: dict[str, Student]) -> None:
    """One guardian per pupil, a login without a usable password ("g" + phone)."""
    by_username = {f"g{p.guardian_phone}": p for p in pupils}
    have_users = set(User.objects.filter(username__in=by_username)
                     .values_list("username", flat=True))
    unusable = make_password(None)
    User.objects.bulk_create([
        User(username=username, display_name=p.guardian_name, password=unusable)
        for username, p in by_username.items() if username not in have_users], batch_size=500)
    user_ids = dict(User.objects.filter(username__in=by_username)
                    .values_list("username", "id"))

    phones = [p.guardian_phone for p in pupils]
    have_phones = set(Guardian.objects.filter(phone__in=phones).values_list("phone", flat=True))
    Guardian.objects.bulk_create([
        Guardian(user_id=user_ids[username], name=p.guardian_name, phone=p.guardian_phone)
        for username, p in by_username.items() if p.guardian_phone not in have_phones],
        batch_size=500)
    guardian_ids = dict(Guardian.objects.filter(phone__in=phones).values_list("phone", "id"))
    GuardianStudent.objects.bulk_create([
        GuardianStudent(guardian_id=guardian_ids[p.guardian_phone],
                        student=students[p.student_no], relation=p.relation, is_primary=True)
        for p in pupils], batch_size=500, ignore_conflicts=True)


# --- the demo accounts -----------------------------------------------------------------------


def ensure_demo_accounts(district: District, schools: dict[str, School],
                         students: dict[str, Student], password_hash: str) -> None:
    """Homeroom teachers were made with their homerooms; here everyone else."""
    primary, middle = schools[PRIMARY.code], schools[MIDDLE.code]

    def account(username: str, **flags) -> User:
        return ensure_user(username, ACCOUNTS[username].display_name, password_hash, **flags)

    account("admin", is_staff=True, is_superuser=True)
    grant(account("district"), Role.DISTRICT, district=district)
    grant(account("principal"), Role.PRINCIPAL, school=primary)
    grant(account("principal2"), Role.PRINCIPAL, school=middle)
    grant(account("finance"), Role.FINANCE, school=primary)
    teacher = account("teacher")
    ensure_staff(primary, teacher, ACCOUNTS["teacher"].phone)
    grant(teacher, Role.TEACHER, school=primary)

    for username in ("parent", "parent2"):
        guardian = ensure_guardian(account(username), ACCOUNTS[username].phone)
        for pupil in pupil_specs(PRIMARY):
            if pupil.demo_guardian == username:
                GuardianStudent.objects.get_or_create(
                    guardian=guardian, student=students[pupil.student_no],
                    defaults={"relation": pupil.relation, "is_primary": True})


def ensure_guardian(user: User, phone: str) -> Guardian:
    guardian, created = Guardian.objects.get_or_create(
        phone=phone, defaults={"user": user, "name": user.display_name})
    if not created and guardian.user_id != user.pk:
        guardian.user = user
        guardian.save(update_fields=["user"])
    return guardian


# --- output ----------------------------------------------------------------------------------


def display_width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def pad(text: str, width: int) -> str:
    return text + " " * max(width - display_width(text), 0)


def seed(*, password_hash: str, today: datetime.date) -> dict[str, School]:
    """The demo district, its schools with their current terms, rosters and the demo logins;
    returns the schools by code."""
    district = ensure_district()
    schools, primary_students = {}, {}
    for spec in SCHOOLS:
        school = schools[spec.code] = ensure_school(district, spec)
        ensure_term(school, today)
        homerooms = ensure_homerooms(school, spec, password_hash)
        students = ensure_pupils(school, spec, homerooms)
        if spec is PRIMARY:
            primary_students = students
    ensure_demo_accounts(district, schools, primary_students, password_hash)
    return schools
