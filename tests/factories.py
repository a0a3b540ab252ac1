import datetime
import itertools
from collections.abc import Iterable, Sequence
from types import SimpleNamespace

import factory
from factory.django import DjangoModelFactory

from schools.models import (
    District,
    Grade,
    Guardian,
    GuardianStudent,
    Homeroom,
    Membership,
    Role,
    School,
    ServiceSlot,
    Staff,
    Student,
    Term,
    User,
)

PASSWORD = "test-pass-123"
_phones = itertools.count(13800000000)


class UserFactory(DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    display_name = factory.Faker("name", locale="zh_CN")
    email = factory.LazyAttribute(lambda o: f"{o.username}@example.cn")
    password = factory.django.Password(PASSWORD)


class DistrictFactory(DjangoModelFactory):
    class Meta:
        model = District

    name = factory.Sequence(lambda n: f"第{n}区教育局")
    code = factory.Sequence(lambda n: f"D{n:03d}")


class SchoolFactory(DjangoModelFactory):
    class Meta:
        model = School

    district = factory.SubFactory(DistrictFactory)
    name = factory.Sequence(lambda n: f"实验小学{n}")
    code = factory.Sequence(lambda n: f"S{n:04d}")
    complaint_phone = "0355-1234567"
    complaint_email = factory.LazyAttribute(lambda o: f"{o.code.lower()}@school.example.cn")


class TermFactory(DjangoModelFactory):
    class Meta:
        model = Term

    school = factory.SubFactory(SchoolFactory)
    name = factory.Sequence(lambda n: f"2026学年第{n}学期")
    start = factory.LazyFunction(lambda: datetime.date.today() - datetime.timedelta(days=60))
    end = factory.LazyFunction(lambda: datetime.date.today() + datetime.timedelta(days=90))


class ServiceSlotFactory(DjangoModelFactory):
    class Meta:
        model = ServiceSlot

    term = factory.SubFactory(TermFactory)
    kind = ServiceSlot.Kind.AFTERNOON
    weekday = 1
    start = datetime.time(16, 20)
    end = datetime.time(18, 0)
    class_hours = factory.LazyAttribute(lambda o: ServiceSlot.DEFAULT_CLASS_HOURS[o.kind])


class GradeFactory(DjangoModelFactory):
    class Meta:
        model = Grade
        django_get_or_create = ("school", "number")

    school = factory.SubFactory(SchoolFactory)
    number = 3
    name = factory.LazyAttribute(lambda o: f"{o.number}年级")


class StaffFactory(DjangoModelFactory):
    class Meta:
        model = Staff

    school = factory.SubFactory(SchoolFactory)
    user = factory.SubFactory(UserFactory)
    name = factory.LazyAttribute(lambda o: o.user.display_name if o.user else "外聘教师")
    phone = factory.LazyFunction(lambda: str(next(_phones)))


class HomeroomFactory(DjangoModelFactory):
    class Meta:
        model = Homeroom

    school = factory.SubFactory(SchoolFactory)
    grade = factory.SubFactory(GradeFactory, school=factory.SelfAttribute("..school"))
    name = factory.Sequence(lambda n: f"{n + 1}班")
    head_teacher = None


class StudentFactory(DjangoModelFactory):
    class Meta:
        model = Student

    school = factory.SubFactory(SchoolFactory)
    homeroom = factory.SubFactory(HomeroomFactory, school=factory.SelfAttribute("..school"))
    grade = factory.SelfAttribute("homeroom.grade")
    student_no = factory.Sequence(lambda n: f"2026{n:05d}")
    name = factory.Faker("name", locale="zh_CN")


class GuardianFactory(DjangoModelFactory):
    class Meta:
        model = Guardian

    user = factory.SubFactory(UserFactory)
    name = factory.LazyAttribute(lambda o: o.user.display_name)
    phone = factory.LazyFunction(lambda: str(next(_phones)))


def link_guardian(guardian: Guardian, student: Student,
                  relation: str = GuardianStudent.Relation.MOTHER) -> GuardianStudent:
    return GuardianStudent.objects.create(guardian=guardian, student=student, relation=relation,
                                          is_primary=True)


def grant(user: User, role: str, *, school: School | None = None,
          district: District | None = None) -> Membership:
    return Membership.objects.create(user=user, role=role, school=school, district=district)


# --- A school's worth of pupils, in bulk -------------------------------------------------------

DEFAULT_SLOTS = tuple((kind, weekday) for weekday in range(1, 6)
                      for kind in (ServiceSlot.Kind.NOON, ServiceSlot.Kind.AFTERNOON))
SLOT_TIMES = {ServiceSlot.Kind.NOON: (datetime.time(11, 40), datetime.time(14, 10)),
              ServiceSlot.Kind.AFTERNOON: (datetime.time(16, 20), datetime.time(18, 0))}


def _new_school(tag: str | None, slots, school_fields: dict) -> SimpleNamespace:
    if tag:
        district = District.objects.create(name=f"{tag}教育局", code=f"{tag}-D")
        school = School.objects.create(district=district, name=f"{tag}小学", code=f"{tag}-S",
                                       complaint_phone="0000-0000000", **school_fields)
    else:
        school = SchoolFactory(**school_fields)
        district = school.district
    term = TermFactory(school=school)
    ServiceSlot.objects.bulk_create([
        ServiceSlot(term=term, kind=kind, weekday=weekday, start=SLOT_TIMES[kind][0],
                    end=SLOT_TIMES[kind][1], class_hours=ServiceSlot.DEFAULT_CLASS_HOURS[kind])
        for kind, weekday in slots])
    principal = User.objects.create(username=f"{(tag or school.code).lower()}-principal",
                                    display_name="校长", password="!")
    grant(principal, Role.PRINCIPAL, school=school)
    return SimpleNamespace(district=district, school=school, term=term, principal=principal)


def _head_teachers(school: School, homerooms: list[Homeroom], prefix: str) -> None:
    """A head teacher for each (unsaved) homeroom, in four INSERTs."""
    users = User.objects.bulk_create([
        User(username=f"{prefix}-head-{h.grade.number}-{i}", display_name=f"{h}班主任",
             password="!")
        for i, h in enumerate(homerooms)])
    staff = Staff.objects.bulk_create([Staff(school=school, user=u, name=u.display_name)
                                       for u in users])
    Membership.objects.bulk_create([
        Membership(user=u, role=Role.HOMEROOM_TEACHER, school=school) for u in users])
    for homeroom, head in zip(homerooms, staff, strict=True):
        homeroom.head_teacher = head


def school_with_pupils(n: int, *, school: School | None = None,
                       homerooms: Sequence[Homeroom] | None = None,
                       grades: Iterable[int] = (3,), homerooms_per_grade: int = 2,
                       pupil_grades: Sequence[int] | None = None, heads: bool = False,
                       tag: str | None = None, slots=DEFAULT_SLOTS, name: str = "学生",
                       relation: str = GuardianStudent.Relation.MOTHER,
                       phone_prefix: str = "139", batch_size: int = 5000,
                       **school_fields) -> SimpleNamespace:
    """n pupils, each with a guardian of their own (a login, a phone, a primary link), written
    in bulk: a handful of INSERTs whatever n.

    Without `school`, a new district and school (codes from `tag` when given) with a principal,
    a term (today in its middle) and `slots` ((kind, weekday) pairs: noon and afternoon, Monday
    to Friday by default). With `school`, its first term and slots. Pupils go round-robin into
    `homerooms`, or into `homerooms_per_grade` homerooms of each of `grades` (existing ones of
    the school first; with `heads`, each new one gets a head teacher: a staff row with a login
    and the homeroom-teacher role); `pupil_grades` gives each pupil's grade, in order.

    Returns district, school, term, slots, principal (None for a given school), grades (number
    → Grade), homerooms, and, one per pupil in the same order, students, users (the guardians'
    logins) and guardians."""
    if school is None:
        made = _new_school(tag, slots, school_fields)
    else:
        term = school.terms.order_by("start").first()
        made = SimpleNamespace(district=school.district, school=school, term=term,
                               principal=None)
    school = made.school
    wanted = ({h.grade.number for h in homerooms} if homerooms
              else set(grades) | set(pupil_grades or ()))
    grade_of = {g: GradeFactory(school=school, number=g) for g in sorted(wanted)}
    if homerooms is None:
        homerooms, new = [], []
        for grade in grade_of.values():
            existing = list(grade.homerooms.order_by("name")[:homerooms_per_grade])
            taken = set(grade.homerooms.values_list("name", flat=True))
            names = (f"{i}班" for i in itertools.count(1) if f"{i}班" not in taken)
            fresh = [Homeroom(school=school, grade=grade, name=next(names))
                     for _ in range(homerooms_per_grade - len(existing))]
            homerooms += existing + fresh
            new += fresh
        if heads:
            _head_teachers(school, new, (tag or school.code).lower())
        Homeroom.objects.bulk_create(new)
    by_grade: dict[int, list[Homeroom]] = {}
    for homeroom in homerooms:
        by_grade.setdefault(homeroom.grade.number, []).append(homeroom)
    if pupil_grades is None:
        placed = [homerooms[i % len(homerooms)] for i in range(n)]
    else:
        seen = dict.fromkeys(by_grade, 0)
        placed = []
        for number in pupil_grades:
            placed.append(by_grade[number][seen[number] % len(by_grade[number])])
            seen[number] += 1
    start = school.students.count()
    students = Student.objects.bulk_create([
        Student(school=school, grade=homeroom.grade, homeroom=homeroom,
                student_no=f"P{start + i:06d}", name=f"{name}{start + i}")
        for i, homeroom in enumerate(placed)], batch_size=batch_size)
    prefix = (tag or "pupil").lower()
    users = User.objects.bulk_create([
        User(username=f"{prefix}-parent-{s.pk}", display_name=f"家长{s.pk}", password="!")
        for s in students], batch_size=batch_size)
    guardians = Guardian.objects.bulk_create([
        Guardian(user=u, name=u.display_name, phone=f"{phone_prefix}{u.pk:08d}")
        for u in users], batch_size=batch_size)
    GuardianStudent.objects.bulk_create([
        GuardianStudent(guardian=g, student=s, relation=relation, is_primary=True)
        for g, s in zip(guardians, students, strict=True)], batch_size=batch_size)
    term = made.term
    return SimpleNamespace(
        district=made.district, school=school, term=term, principal=made.principal,
        slots=list(term.slots.order_by("weekday", "start")) if term else [],
        grades=grade_of, homerooms=list(homerooms), students=students, users=users,
        guardians=guardians)
