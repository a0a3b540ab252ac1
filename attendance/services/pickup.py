"""What a guardian keeps on the phone about who may take a child (authorised adults, one-day
delegations, walk-home permission), and the school's restricted adults."""

import datetime
import secrets

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from schools.audit import audit_record
from schools.errors import Conflict, PolicyViolation
from schools.models import Student, User

from ..events import AttendanceAction
from ..models import Delegation, PickupAdult, RestrictedAdult, WalkHomePermission
from ..pickup import CODE_DIGITS, normalise_phone

MOBILE_DIGITS = 11


def _phone(phone: str, field: str = "phone") -> str:
    digits = normalise_phone(phone)
    if len(digits) != MOBILE_DIGITS or not digits.startswith("1"):
        raise PolicyViolation(_("请填写 11 位手机号码。"), field=field)
    return digits


def _name(name: str, field: str = "name") -> str:
    name = (name or "").strip()
    if not name:
        raise PolicyViolation(_("请填写姓名。"), field=field)
    return name[:50]


@transaction.atomic
def pickup_adult_add(*, student: Student, user: User, name: str, relation: str, phone: str,
                     valid_from: datetime.date | None = None,
                     valid_to: datetime.date | None = None,
                     weekdays: list[int] | None = None) -> PickupAdult:
    if valid_from and valid_to and valid_to < valid_from:
        raise PolicyViolation(_("截止日期不能早于生效日期。"), field="valid_to")
    weekdays = sorted(set(weekdays or []))
    if any(d < 1 or d > 7 for d in weekdays):
        raise PolicyViolation(_("星期应为 1（周一）到 7（周日）。"), field="weekdays")
    relation = (relation or "").strip()
    if not relation:
        raise PolicyViolation(_("请填写与孩子的关系。"), field="relation")
    adult = PickupAdult.objects.create(
        student=student, name=_name(name), relation=relation[:20], phone=_phone(phone),
        valid_from=valid_from, valid_to=valid_to, weekdays=weekdays, created_by=user)
    audit_record(actor=user, action=AttendanceAction.ADULT_ADDED, obj=adult,
                 school=student.school, data={"student": student.pk, "relation": relation,
                                              "valid_from": str(valid_from or ""),
                                              "valid_to": str(valid_to or "")})
    return adult


@transaction.atomic
def pickup_adult_revoke(*, adult: PickupAdult, user: User) -> PickupAdult:
    """Revoked from now on; the row stays, so past handoffs still say who took the child."""
    adult = PickupAdult.objects.select_for_update().get(pk=adult.pk)
    if adult.revoked_at is None:
        adult.revoked_at = timezone.now()
        adult.revoked_by = user
        adult.save(update_fields=["revoked_at", "revoked_by"])
        audit_record(actor=user, action=AttendanceAction.ADULT_REVOKED, obj=adult,
                     school=adult.student.school, data={"student": adult.student_id})
    return adult


@transaction.atomic
def delegation_give(*, student: Student, user: User, name: str, phone: str,
                    date: datetime.date) -> Delegation:
    """A named adult may collect the child on `date` only, presenting the code it yields."""
    if date < timezone.localdate():
        raise PolicyViolation(_("委托日期不能早于今天。"), field="date")
    for _attempt in range(5):
        code = f"{secrets.randbelow(10 ** CODE_DIGITS):0{CODE_DIGITS}d}"
        try:
            with transaction.atomic():
                delegation = Delegation.objects.create(
                    student=student, name=_name(name), phone=_phone(phone), date=date,
                    code=code, created_by=user)
            break
        except IntegrityError:
            continue
    else:  # pragma: no cover - five collisions in a million-code space
        raise Conflict(_("请重试。"))
    audit_record(actor=user, action=AttendanceAction.DELEGATION_GIVEN, obj=delegation,
                 school=student.school, data={"student": student.pk, "date": str(date)})
    return delegation


@transaction.atomic
def walk_home_sign(*, student: Student, user: User, valid_from: datetime.date,
                   valid_to: datetime.date, signed_name: str) -> WalkHomePermission:
    """The guardian's written permission for the child to go home alone on those dates, where
    the school allows it."""
    if not student.school.allows_walk_home:
        raise PolicyViolation(_("本校不允许学生自行离校，请安排家长或授权人接送。"),
                              field="valid_from")
    if valid_to < valid_from:
        raise PolicyViolation(_("结束日期不能早于开始日期。"), field="valid_to")
    signed_name = (signed_name or "").strip()
    if not signed_name:
        raise PolicyViolation(_("请签名（填写您的姓名）。"), field="signed_name")
    permission = WalkHomePermission.objects.create(
        student=student, valid_from=valid_from, valid_to=valid_to,
        signed_name=signed_name[:50], signed_by=user)
    audit_record(actor=user, action=AttendanceAction.WALK_HOME_SIGNED, obj=permission,
                 school=student.school, data={"student": student.pk, "valid_from": str(valid_from),
                                              "valid_to": str(valid_to),
                                              "signed_name": signed_name})
    return permission


@transaction.atomic
def restricted_adult_record(*, student: Student, user: User, name: str, phone: str = "",
                            reason: str) -> RestrictedAdult:
    """The school records an adult who must never receive the child (e.g. a court order)."""
    reason = (reason or "").strip()
    if not reason:
        raise PolicyViolation(_("请填写依据（如法院裁定）。"), field="reason")
    restricted = RestrictedAdult.objects.create(
        student=student, name=_name(name), phone=_phone(phone) if phone else "",
        reason=reason[:200], recorded_by=user)
    audit_record(actor=user, action=AttendanceAction.RESTRICTED_RECORDED, obj=restricted,
                 school=student.school, data={"student": student.pk, "reason": reason})
    return restricted
