"""A guardian's form shown again with an error keeps what was entered: the application (slots,
claims, note, signature), the leave report and the withdrawal request. Only a chosen file
cannot come back (no browser lets a page fill a file input), so the page says to pick it
again."""

import datetime
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from enrollment.models import Application, Leave, Withdrawal

pytestmark = pytest.mark.django_db


def _checked(page: str, name: str) -> list[str]:
    """The values of the checked inputs named `name`."""
    return [re.search(r'value="([^"]*)"', tag).group(1)
            for tag in re.findall(r"<input[^>]*>", page)
            if f'name="{name}"' in tag and " checked" in tag]


def test_an_application_without_the_agreement_ticked_keeps_every_entry(cast, plan, client):
    client.force_login(cast.parent)
    slots = list(cast.term.slots.filter(kind="afternoon").order_by("weekday")[:2])
    response = client.post(f"/enrollment/terms/{cast.term.pk}/apply/{cast.sibling.pk}/", {
        "slots": [s.pk for s in slots], "priority_claims": ["dual_working"],
        "note": "只参加周一、周二", "signed_name": "张伟",
        "agreement_version": plan.version})
    assert response.status_code == 200
    page = response.content.decode()
    assert "请确认已阅读并同意安全责任书" in page
    assert _checked(page, "slots") == [str(s.pk) for s in slots]
    assert _checked(page, "priority_claims") == ["dual_working"]
    assert "只参加周一、周二" in page and 'value="张伟"' in page
    assert not Application.objects.filter(student=cast.sibling).exists()


def test_an_application_refused_after_a_file_was_chosen_asks_to_choose_it_again(
        cast, plan, client):
    client.force_login(cast.parent)
    slot = cast.term.slots.filter(kind="afternoon").first()
    upload = SimpleUploadedFile("proof.pdf", b"%PDF-1.4\n%%EOF\n", content_type="application/pdf")
    response = client.post(f"/enrollment/terms/{cast.term.pk}/apply/{cast.sibling.pk}/", {
        "slots": [slot.pk], "priority_claims": ["dual_working"], "signed_name": "张伟",
        "agreement_version": plan.version, "evidence": upload})
    assert response.status_code == 200
    assert "请重新选择证明材料" in response.content.decode()


def test_a_refused_leave_report_keeps_the_date_slot_and_reason(cast, enrolment, client):
    client.force_login(cast.parent)
    slot = enrolment.slots.order_by("weekday").first()
    past = timezone.localdate() - datetime.timedelta(days=1)
    response = client.post(f"/enrollment/enrolments/{enrolment.pk}/leave/", {
        "date": past.isoformat(), "slot": slot.pk, "reason": "看牙医"})
    assert response.status_code == 200
    page = response.content.decode()
    assert 'class="errorlist' in page
    assert f'value="{past.isoformat()}"' in page
    assert f'<option value="{slot.pk}" selected>' in page
    assert 'value="看牙医"' in page
    assert not Leave.objects.exists()


def test_a_refused_withdrawal_keeps_the_date_and_reason(cast, enrolment, client):
    client.force_login(cast.parent)
    today = timezone.localdate()
    response = client.post(f"/enrollment/enrolments/{enrolment.pk}/withdraw/", {
        "effective_date": today.isoformat(), "reason": "搬家转学"})
    assert response.status_code == 200
    page = response.content.decode()
    assert 'class="errorlist' in page
    assert f'value="{today.isoformat()}"' in page and 'value="搬家转学"' in page
    assert not Withdrawal.objects.exists()
