"""The one writer of the audit trail (schools.AuditEntry), and its reader.

Every state change and money movement of every stage is recorded here: who, when, what, on
which object, for which school, and why (`data`). Each app names its actions once, as an
`AuditAction` subclass (`<app>/events.py`), whose labels are what people read in a history.
"""

import datetime
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils.translation import gettext_lazy as _

from .db import Sql, insert_sql
from .models import AuditEntry, School, User


class AuditAction(models.TextChoices):
    """Base of each app's action names: value "app.object.verb", label a human phrase.
    Subclasses register themselves, so a history can label any app's actions without the
    ground importing the stages."""

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        _registry.append(cls)


_registry: list[type[AuditAction]] = []


def action_label(action: str) -> str:
    """The human label of an action name; the name itself if no app declares it."""
    for actions in _registry:
        if action in actions.values:
            return str(actions(action).label)
    return action


class RosterAction(AuditAction):
    ROSTER_IMPORTED = "schools.roster.imported", _("导入花名册")


class AccountAction(AuditAction):
    LOGIN_LOCKED = "schools.account.login_locked", _("登录失败次数过多，暂停登录")


def _actor(actor: User | None) -> User | None:
    return actor if actor is not None and actor.is_authenticated else None


def audit_record(*, actor: User | None, action: str, obj: models.Model | None,
                 school: School | int | None, data: dict | None = None) -> AuditEntry:
    """Append one entry. `school` (the school or its id) is explicit (None only for what
    belongs to no school)."""
    return AuditEntry.objects.create(
        actor=_actor(actor),
        action=action,
        content_type=ContentType.objects.get_for_model(obj) if obj is not None else None,
        object_id=str(obj.pk) if obj is not None else "",
        object_repr=str(obj)[:200] if obj is not None else "",
        school_id=getattr(school, "pk", school),
        data=data or {},
    )


def audit_sql(*, actor: User | None, action: str, obj: models.Model, school: School | int,
              data: dict, source: Sql, object_id: Sql, more_data: Sql) -> Sql:
    """The entry of `audit_record` as one part of a statement that writes `obj` too
    (schools.db.with_parts): `obj` is not yet saved, so its id is `object_id`, an expression
    over `source` (the part that inserts it), and `more_data` adds what only that part knows
    (`jsonb_build_object(...)`) to `data`. One entry per row of `source`: none if it wrote
    nothing."""
    entry = AuditEntry(actor=_actor(actor), action=action,
                       content_type=ContentType.objects.get_for_model(obj),
                       object_repr=str(obj)[:200], school_id=getattr(school, "pk", school))
    return insert_sql(entry, source=source, computed={
        "object_id": object_id,
        "data": Sql(f"%s::jsonb || {more_data.text}", (json.dumps(data), *more_data.params))})


def audit_record_many(*, actor: User | None, action: str, objects: Sequence[models.Model],
                      school: School | int | Callable[[models.Model], int] | None,
                      data: dict | Callable[[models.Model], dict] | None = None,
                      label: Callable[[models.Model], str] = str) -> None:
    """One entry per object, in one INSERT (bulk approvals, allocation, day close). `school`
    is the school (or its id), or a function giving each object's school id when a batch spans
    schools; `data` is a dict or a function of the object; `label` gives each object's
    description without queries (the default `str` may need related rows: pass one that does
    not)."""
    if not objects:
        return
    content_type = ContentType.objects.get_for_model(type(objects[0]))
    if callable(school):
        school_of = school
    else:
        school_id = getattr(school, "pk", school)

        def school_of(_obj):
            return school_id

    actor = _actor(actor)
    AuditEntry.objects.bulk_create([
        AuditEntry(actor=actor, action=action, content_type=content_type,
                   object_id=str(o.pk), object_repr=label(o)[:200], school_id=school_of(o),
                   data=(data(o) if callable(data) else data) or {})
        for o in objects
    ], batch_size=1000)


def audit_history(obj: models.Model):
    return (AuditEntry.objects
            .filter(content_type=ContentType.objects.get_for_model(obj), object_id=str(obj.pk))
            .select_related("actor")
            .order_by("at", "id"))


@dataclass
class HistoryLine:
    """Consecutive entries of one actor and action, read as one line ("加入菜单项目 × 20")."""

    at: datetime.datetime
    until: datetime.datetime
    actor: User | None
    action: str
    data: dict
    n: int = 1


def audit_summary(obj: models.Model, *, within: datetime.timedelta = datetime.timedelta(hours=1)
                  ) -> list[HistoryLine]:
    """A short history: a run of the same action by the same person within `within` of each
    other is one line with its count; a reason given is never folded away."""
    lines: list[HistoryLine] = []
    for entry in audit_history(obj):
        last = lines[-1] if lines else None
        if (last is not None and last.action == entry.action
                and last.actor == entry.actor and not entry.data.get("reason")
                and not last.data.get("reason") and entry.at - last.until <= within):
            last.until, last.n = entry.at, last.n + 1
        else:
            lines.append(HistoryLine(entry.at, entry.at, entry.actor, entry.action,
                                     entry.data or {}))
    return lines
