"""Recording and reading the audit trail (schools.AuditEntry)."""

from django.contrib.contenttypes.models import ContentType
from django.db import models

from .models import AuditEntry, School, User


def _school_of(obj) -> School | None:
    if isinstance(obj, School):
        return obj
    school = getattr(obj, "school", None)
    if isinstance(school, School):
        return school
    term = getattr(obj, "term", None)
    return getattr(term, "school", None) if term is not None else None


def audit_record(*, actor: User | None, action: str, obj: models.Model | None = None,
                 data: dict | None = None, school: School | None = None) -> AuditEntry:
    """Append one entry. `action` is a dotted name, e.g. "enrollment.application.reviewed"."""
    if actor is not None and not actor.is_authenticated:
        actor = None
    return AuditEntry.objects.create(
        actor=actor,
        action=action,
        content_type=ContentType.objects.get_for_model(obj) if obj is not None else None,
        object_id=str(obj.pk) if obj is not None else "",
        object_repr=str(obj)[:200] if obj is not None else "",
        school=school or (_school_of(obj) if obj is not None else None),
        data=data or {},
    )


def audit_history(obj: models.Model):
    return (AuditEntry.objects
            .filter(content_type=ContentType.objects.get_for_model(obj), object_id=str(obj.pk))
            .select_related("actor")
            .order_by("at", "id"))
