"""Who may take a child on a day (R8: only an authorised person takes a child).

The child's guardians are authorised from the start; beyond them, the adults a guardian listed
(while valid and not revoked), the adult of a one-day delegation on its date, and whoever
presents the child's daily pickup code. A restricted adult the school recorded is refused
whatever else says yes. Each person on a child's list has an id of the form `g<guardian id>`,
`a<pickup adult id>` or `d<delegation id>`, the one the teacher's tablet sends back."""

import datetime
import hashlib
import hmac
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from schools.models import GuardianStudent, Student

from .models import Delegation, PickupAdult, Refusal, RestrictedAdult, WalkHomePermission

CODE_DIGITS = 6
# A code of a nearby day is told apart from a wrong one ("not today's code"), so the teacher
# can explain; further away it is simply wrong.
OTHER_DAYS = 7
Reason = Refusal.Reason


def daily_code(student_id: int, day: datetime.date) -> str:
    """The child's pickup code for `day`: six digits, the same all day on every server,
    unguessable without the secret key, different every day."""
    digest = hmac.new(settings.SECRET_KEY.encode(), f"pickup:{student_id}:{day.isoformat()}"
                      .encode(), hashlib.sha256).digest()
    return f"{int.from_bytes(digest[:8], 'big') % 10 ** CODE_DIGITS:0{CODE_DIGITS}d}"


def normalise_phone(phone: str) -> str:
    return re.sub(r"\D", "", phone or "")[-11:]


def last4(phone: str) -> str:
    digits = normalise_phone(phone)
    return digits[-4:] if len(digits) >= 4 else ""


@dataclass(frozen=True)
class Adult:
    """A person who may take the child that day, as a teacher sees them (phone masked)."""

    id: str
    name: str
    relation: str
    phone: str
    kind: str  # guardian, adult, delegation

    def as_json(self) -> dict:
        return {"id": self.id, "name": self.name, "relation": self.relation,
                "phone_last4": last4(self.phone)}


@dataclass
class Pickup:
    adults: list[Adult] = field(default_factory=list)
    walk_home: bool = False


def pickup_for(students: Iterable[Student], day: datetime.date, *,
               allows_walk_home: bool) -> dict[int, Pickup]:
    """For each child, who may take them on `day`, and whether they may walk home. Four
    queries whatever the number of children."""
    ids = [s.pk for s in students]
    result = {pk: Pickup() for pk in ids}
    now = timezone.now()
    for link in (GuardianStudent.objects.filter(student_id__in=ids)
                 .select_related("guardian").order_by("-is_primary", "pk")):
        result[link.student_id].adults.append(Adult(
            f"g{link.guardian_id}", link.guardian.name, link.get_relation_display(),
            link.guardian.phone, "guardian"))
    for adult in PickupAdult.objects.filter(_not_revoked(now), student_id__in=ids):
        if adult.valid_on(day):
            result[adult.student_id].adults.append(Adult(
                f"a{adult.pk}", adult.name, adult.relation, adult.phone, "adult"))
    for d in Delegation.objects.filter(student_id__in=ids, date=day, revoked_at__isnull=True):
        result[d.student_id].adults.append(Adult(f"d{d.pk}", d.name, _delegated(), d.phone,
                                                 "delegation"))
    if allows_walk_home:
        for pk in walk_home_on(ids, day):
            result[pk].walk_home = True
    return result


def _delegated() -> str:
    from django.utils.translation import gettext

    return gettext("当日委托")


def _not_revoked(now: datetime.datetime) -> Q:
    return Q(revoked_at__isnull=True) | Q(revoked_at__gt=now)


def walk_home_on(student_ids: Iterable[int], day: datetime.date) -> set[int]:
    return set(WalkHomePermission.objects.filter(
        student_id__in=list(student_ids), valid_from__lte=day, valid_to__gte=day,
        revoked_at__isnull=True).values_list("student_id", flat=True))


@dataclass(frozen=True)
class Verdict:
    """The outcome of a check: `reason` empty means authorised."""

    reason: str = ""
    name: str = ""
    relation: str = ""
    phone: str = ""
    guardian_id: int | None = None
    pickup_adult_id: int | None = None
    delegation_id: int | None = None
    via: str = "list"

    @property
    def authorised(self) -> bool:
        return not self.reason

    def identity(self) -> tuple:
        """What makes two releases the same release (a second tablet sending the same)."""
        return (self.guardian_id, self.pickup_adult_id, self.delegation_id,
                self.via if self.via == "code" else "")


def _restricted(student: Student, name: str, phone: str) -> bool:
    name, phone = name.strip(), normalise_phone(phone)
    if not name and not phone:
        return False  # nothing to match: a code shown at the door without a name
    q = Q(name=name) if name else Q()
    if phone:
        q |= Q(phone__endswith=phone)
    return RestrictedAdult.objects.filter(q, student=student, lifted_at__isnull=True).exists()


def check_person(student: Student, day: datetime.date, *, person_id: str = "",
                 name: str = "", phone: str = "") -> Verdict:
    """Whether the person the teacher chose from the list (`person_id`), or the one at the door
    (`name`, `phone`, checked against the list by phone), may take the child on `day`."""
    now = timezone.now()
    verdict = _listed(student, day, now, person_id) if person_id else _by_phone(
        student, day, now, phone)
    who_name = verdict.name or name
    if _restricted(student, who_name, phone or verdict.phone):
        return Verdict(Reason.RESTRICTED, name=who_name)
    return verdict


def _listed(student: Student, day: datetime.date, now: datetime.datetime,
            person_id: str) -> Verdict:
    kind, number = person_id[:1], person_id[1:]
    if not number.isdigit():
        return Verdict(Reason.NOT_LISTED)
    pk = int(number)
    if kind == "g":
        link = (GuardianStudent.objects.filter(student=student, guardian_id=pk)
                .select_related("guardian").first())
        if link is None:
            return Verdict(Reason.NOT_LISTED)
        return Verdict(name=link.guardian.name, relation=link.get_relation_display(),
                       phone=link.guardian.phone, guardian_id=pk)
    if kind == "a":
        adult = PickupAdult.objects.filter(student=student, pk=pk).first()
        if adult is None:
            return Verdict(Reason.NOT_LISTED)
        if adult.revoked_at is not None and adult.revoked_at <= now:
            return Verdict(Reason.REVOKED, name=adult.name)
        if not adult.valid_on(day):
            return Verdict(Reason.NOT_TODAY, name=adult.name)
        return Verdict(name=adult.name, relation=adult.relation, phone=adult.phone,
                       pickup_adult_id=pk)
    if kind == "d":
        d = Delegation.objects.filter(student=student, pk=pk).first()
        if d is None:
            return Verdict(Reason.NOT_LISTED)
        if d.revoked_at is not None:
            return Verdict(Reason.REVOKED, name=d.name)
        if d.date != day:
            return Verdict(Reason.NOT_TODAY, name=d.name)
        return Verdict(name=d.name, relation=_delegated(), phone=d.phone, delegation_id=pk,
                       via="delegation")
    return Verdict(Reason.NOT_LISTED)


def _by_phone(student: Student, day: datetime.date, now: datetime.datetime,
              phone: str) -> Verdict:
    phone = normalise_phone(phone)
    if len(phone) < 8:
        return Verdict(Reason.NOT_LISTED)
    for adult in pickup_for([student], day, allows_walk_home=False)[student.pk].adults:
        if normalise_phone(adult.phone) == phone:
            return _listed(student, day, now, adult.id)
    # Listed once, but revoked or not valid today: say which.
    adult = (PickupAdult.objects.filter(student=student, phone__endswith=phone)
             .order_by("-pk").first())
    return _listed(student, day, now, f"a{adult.pk}") if adult else Verdict(Reason.NOT_LISTED)


def check_code(student: Student, day: datetime.date, code: str, *, name: str = "") -> Verdict:
    """Whether `code` lets its bearer take the child on `day`: the child's daily code, or the
    code of a delegation for that day."""
    code = re.sub(r"\s", "", code or "")
    if _restricted(student, name, ""):
        return Verdict(Reason.RESTRICTED, name=name)
    if code and hmac.compare_digest(code, daily_code(student.pk, day)):
        return Verdict(name=name, via="code")
    delegation = Delegation.objects.filter(student=student, code=code, date=day,
                                           revoked_at__isnull=True).first() if code else None
    if delegation is not None:
        if _restricted(student, delegation.name, delegation.phone):
            return Verdict(Reason.RESTRICTED, name=delegation.name)
        return Verdict(name=delegation.name, relation=_delegated(),
                       delegation_id=delegation.pk, via="delegation")
    nearby = [day + datetime.timedelta(days=n) for n in range(-OTHER_DAYS, OTHER_DAYS + 1) if n]
    if code and (any(hmac.compare_digest(code, daily_code(student.pk, d)) for d in nearby)
                 or Delegation.objects.filter(student=student, code=code).exists()):
        return Verdict(Reason.OTHER_DAY_CODE, name=name)
    return Verdict(Reason.WRONG_CODE, name=name)
