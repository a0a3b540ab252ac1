"""After allocation: add, move and swap children between temporary classes. The cap holds
under concurrency: the class row is locked before its members are counted."""


from django.db import transaction
from django.utils.translation import gettext as _

from schools.audit import audit_record, audit_record_many
from schools.errors import Conflict, PolicyViolation
from schools.models import Student, User

from .. import selectors
from ..events import SchedulingAction
from ..models import Placement, TemporaryClass
from . import notices


def lock_class(pk: int) -> TemporaryClass:
    """Lock the class row before counting its members: concurrent adds queue here."""
    return (TemporaryClass.objects.select_for_update(of=("self",))
            .select_related("menu__school", "menu__term", "item", "slot").get(pk=pk))


def _check_seat(cls: TemporaryClass, student: Student) -> None:
    if cls.placements.count() >= cls.capacity:
        raise Conflict(_("“%(name)s”已满（%(cap)s 人）。") % {"name": cls.name,
                                                             "cap": cls.capacity},
                       code="class_full")
    if cls.item is not None and student.grade.number not in cls.item.grades:
        raise PolicyViolation(_("“%(activity)s”不面向%(grade)s。") % {
            "activity": cls.name, "grade": student.grade.name}, field="student")


def _check_enrolled(cls: TemporaryClass, student: Student) -> None:
    if (student.school_id != cls.menu.school_id
            or not selectors.is_enrolled_in_week(cls.menu, student, cls.slot)):
        raise PolicyViolation(_("该学生没有报名这一时段的课后服务。"), field="student")


@transaction.atomic
def placement_add(*, temporary_class: TemporaryClass, student: Student, user: User,
                  reason: str = "") -> Placement:
    cls = lock_class(temporary_class.pk)
    _check_enrolled(cls, student)
    if Placement.objects.filter(menu=cls.menu, slot=cls.slot, student=student).exists():
        raise Conflict(_("该学生在这一时段已有临时班，请使用调班。"), code="already_placed")
    _check_seat(cls, student)
    placement = Placement.objects.create(temporary_class=cls, menu=cls.menu, slot=cls.slot,
                                         student=student, source=Placement.Source.MANUAL)
    audit_record(actor=user, action=SchedulingAction.PLACEMENT_ADDED, obj=placement,
                 school=cls.menu.school, data={"class": cls.pk, "student": student.pk,
                                               "reason": reason})
    notices.placement_changed(placement, "added")
    return placement


@transaction.atomic
def placement_move(*, placement: Placement, to: TemporaryClass, user: User,
                   reason: str = "") -> Placement:
    placement = Placement.objects.select_for_update().select_related("student__grade").get(
        pk=placement.pk)
    cls = lock_class(to.pk)
    if cls.menu_id != placement.menu_id or cls.slot_id != placement.slot_id:
        raise PolicyViolation(_("只能调到同一周、同一时段的临时班。"), field="to")
    if cls.pk == placement.temporary_class_id:
        return placement
    _check_seat(cls, placement.student)
    before = placement.temporary_class_id
    placement.temporary_class = cls
    placement.source = Placement.Source.MANUAL
    placement.rank = None
    placement.save(update_fields=["temporary_class", "source", "rank"])
    audit_record(actor=user, action=SchedulingAction.PLACEMENT_MOVED, obj=placement,
                 school=cls.menu.school, data={"from": before, "to": cls.pk, "reason": reason})
    notices.placement_changed(placement, "moved")
    return placement


@transaction.atomic
def placement_swap(*, first: Placement, second: Placement, user: User,
                   reason: str = "") -> tuple[Placement, Placement]:
    """Exchange two children's classes (same week and slot): the counts do not change."""
    if first.pk == second.pk:
        raise PolicyViolation(_("请选择另一名学生对调。"), field="second")
    a, b = sorted(Placement.objects.select_for_update().select_related("student__grade")
                  .filter(pk__in=[first.pk, second.pk]), key=lambda p: p.pk)
    if a.menu_id != b.menu_id or a.slot_id != b.slot_id:
        raise PolicyViolation(_("只能对调同一周、同一时段的两名学生。"), field="second")
    classes = {c.pk: c for c in (lock_class(pk) for pk in sorted(
        {a.temporary_class_id, b.temporary_class_id}))}
    for p, target in ((a, classes[b.temporary_class_id]), (b, classes[a.temporary_class_id])):
        if target.item is not None and p.student.grade.number not in target.item.grades:
            raise PolicyViolation(_("“%(activity)s”不面向%(grade)s。") % {
                "activity": target.name, "grade": p.student.grade.name}, field="second")
    a.temporary_class_id, b.temporary_class_id = b.temporary_class_id, a.temporary_class_id
    for p in (a, b):
        p.source, p.rank = Placement.Source.MANUAL, None
    Placement.objects.bulk_update([a, b], ["temporary_class", "source", "rank"])
    audit_record_many(actor=user, action=SchedulingAction.PLACEMENT_SWAPPED, objects=[a, b],
                      school=classes[a.temporary_class_id].menu.school_id,
                      data={"pair": [a.pk, b.pk], "reason": reason})
    for p in (a, b):
        p.temporary_class = classes[p.temporary_class_id]
        notices.placement_changed(p, "swapped")
    return a, b


def _school_student(school_id: int, *, field: str, pk: int | None = None,
                    student_no: str | None = None) -> Student:
    students = Student.objects.select_related("grade").filter(school_id=school_id)
    student = (students.filter(pk=pk) if pk is not None
               else students.filter(student_no=student_no)).first()
    if student is None:
        raise PolicyViolation(_("本校没有这名学生。"), field=field)
    return student


@transaction.atomic
def placement_add_to_class(*, temporary_class: TemporaryClass, user: User, reason: str = "",
                           student_id: int | None = None,
                           student_no: str | None = None) -> Placement:
    """Add a child named by id (the API) or by student number (the class page)."""
    student = _school_student(temporary_class.menu.school_id, pk=student_id,
                              student_no=student_no,
                              field="student" if student_id is not None else "student_no")
    return placement_add(temporary_class=temporary_class, student=student, user=user,
                         reason=reason)


@transaction.atomic
def placement_swap_with_student_no(*, first: Placement, student_no: str, user: User,
                                   reason: str = "") -> tuple[Placement, Placement]:
    """Swap `first` with the placement, in the same week and slot, of the child with that
    student number (the class page)."""
    second = Placement.objects.filter(menu_id=first.menu_id, slot_id=first.slot_id,
                                      student__student_no=student_no,
                                      student__school_id=first.student.school_id).first()
    if second is None:
        raise PolicyViolation(_("同一时段没有这个学号的学生。"), field="second_student_no")
    return placement_swap(first=first, second=second, user=user, reason=reason)
