"""R11: the term's fee standard, versioned and frozen once published."""

import datetime
from decimal import Decimal

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from schools.audit import audit_record
from schools.errors import PolicyViolation
from schools.formats import date_label
from schools.models import Term, User

from ..events import EnrollmentAction, fee_standard_published
from ..models import FeeStandard

Mode = FeeStandard.Mode


@transaction.atomic
def fee_standard_publish(*, term: Term, user: User, mode: str, rate: Decimal,
                         effective_from: datetime.date, approved_by: str,
                         approval_ref: str) -> FeeStandard:
    """Publish the next version of the term's fee standard. The first version may take effect
    from any day of the term; a later one only from today on and after the last one, so no
    day already charged or served changes its rate behind the families' backs."""
    # The term row serialises two principals publishing at once.
    term = Term.objects.select_for_update().select_related("school").get(pk=term.pk)
    if mode not in Mode.values:
        raise PolicyViolation(_("未知的收费方式。"), field="mode")
    rate = Decimal(rate).quantize(Decimal("0.01"))
    if mode == Mode.FREE:
        rate = Decimal("0.00")
    elif rate <= 0:
        raise PolicyViolation(_("收费标准须大于 0；不收费请选择“免费”。"), field="rate")
    if not term.start <= effective_from <= term.end:
        raise PolicyViolation(_("生效日期须在本学期内（%(start)s 至 %(end)s）。") % {
            "start": date_label(term.start), "end": date_label(term.end)}, field="effective_from")
    if not approved_by.strip() or not approval_ref.strip():
        raise PolicyViolation(_("请填写审批机关和批准文号。"),
                              field="approved_by" if not approved_by.strip() else "approval_ref")
    last = term.fee_standards.order_by("-version").first()
    if last is not None:
        today = timezone.localdate()
        if effective_from <= last.effective_from or effective_from < today:
            raise PolicyViolation(
                _("新版本的生效日期须晚于上一版（%(last)s），且不早于今天：已过去的日子按原标准计费。")
                % {"last": date_label(last.effective_from)}, field="effective_from")
    standard = FeeStandard.objects.create(
        term=term, version=(last.version + 1) if last else 1, mode=mode, rate=rate,
        effective_from=effective_from, approved_by=approved_by.strip()[:100],
        approval_ref=approval_ref.strip()[:100], published_by=user,
        published_at=timezone.now())
    audit_record(actor=user, action=EnrollmentAction.FEE_STANDARD_PUBLISHED, obj=standard,
                 school=term.school, data={"version": standard.version, "mode": mode,
                                           "rate": str(rate),
                                           "effective_from": effective_from.isoformat(),
                                           "approval_ref": standard.approval_ref})
    fee_standard_published.send(sender=FeeStandard, standard=standard, user=user)
    return standard


def fee_paragraph(term: Term) -> str:
    """The plan's fee paragraph, generated from the published versions (R11)."""
    return "\n".join(s.description for s in term.fee_standards.order_by("version"))
