import datetime
import itertools

import factory
from factory.django import DjangoModelFactory

from schools.models import (
    District,
    Grade,
    Guardian,
    GuardianStudent,
    Homeroom,
    Membership,
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
