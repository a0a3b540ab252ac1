"""The activity catalogue ("1+X", R6): each activity with its grades, capacity and teacher."""

from collections.abc import Sequence

from django.db import transaction
from django.utils.translation import gettext as _

from schools.audit import audit_record
from schools.errors import PolicyViolation
from schools.models import School, Staff, User

from ..events import SchedulingAction
from ..models import Activity


def check_grades(school: School, grades: Sequence[int], field_name: str = "grades") -> list[int]:
    valid = set(school.grades.values_list("number", flat=True))
    grades = sorted(set(int(g) for g in grades))
    if not grades:
        raise PolicyViolation(_("请至少选择一个年级。"), field=field_name)
    if unknown := [g for g in grades if g not in valid]:
        raise PolicyViolation(_("本校没有这些年级：%s") % "、".join(map(str, unknown)),
                              field=field_name)
    return grades


def check_teacher(school: School, teacher: Staff | None, field_name: str = "teacher") -> None:
    if teacher is not None and (teacher.school_id != school.pk or not teacher.active):
        raise PolicyViolation(_("任课教师须为本校在岗教职工或服务人员。"), field=field_name)


@transaction.atomic
def activity_create(*, school: School, user: User, name: str, category: str, grades,
                    capacity: int, description: str = "", teacher: Staff | None = None,
                    room: str = "") -> Activity:
    if category not in Activity.Category.values:
        # R6: collective tutoring and new lessons are not a category anyone can pick.
        raise PolicyViolation(_("不允许的活动类别（不得集体补课或讲授新课）。"), field="category")
    if capacity < 1:
        raise PolicyViolation(_("人数上限须大于 0。"), field="capacity")
    check_teacher(school, teacher)
    if school.activities.filter(name=name).exists():
        raise PolicyViolation(_("本校已有同名活动。"), field="name")
    activity = Activity.objects.create(
        school=school, name=name, category=category, grades=check_grades(school, grades),
        capacity=capacity, description=description, teacher=teacher, room=room)
    audit_record(actor=user, action=SchedulingAction.ACTIVITY_CREATED, obj=activity, school=school,
                 data={"name": name, "category": category, "capacity": capacity})
    return activity
