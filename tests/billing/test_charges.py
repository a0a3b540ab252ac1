"""The term charge (R11): posted on approval from the enrolment's start date, only once a fee
standard is published, and re-posted as a difference when a new version changes the rate."""

import datetime
from decimal import Decimal

import pytest

from billing.models import Charge, JournalEntry
from billing.selectors import statement
from enrollment.models import FeeStandard

from .conftest import afternoons_left, publish_fee


def test_approval_charges_each_afternoon_left_at_the_rate(cast, charged):
    e = charged.child
    charge = Charge.objects.get(enrolment=e)
    days = afternoons_left(cast, e.start_date)
    assert charge.kind == "prepay" and charge.amount == Decimal("2.00") * days
    assert charge.basis["slot_days"] == days and charge.basis["class_hours"] == f"{days}.0"
    four = Charge.objects.get(enrolment=charged.other_child)
    assert four.amount == Decimal("2.00") * afternoons_left(cast, e.start_date, range(1, 5))
    s = statement(cast.child, cast.term)
    assert s.charged == s.balance == charge.amount and s.paid == 0


def test_no_charge_before_a_standard_is_published(cast, enrolled):
    assert not Charge.objects.exists() and not JournalEntry.objects.exists()
    publish_fee(cast)  # the standard charges the enrolments that had none
    assert Charge.objects.filter(kind="prepay").count() == 3
    publish_fee(cast, effective_from=cast.term.end)  # same rate: nothing changes
    assert Charge.objects.count() == 3


def test_a_new_rate_posts_the_difference_for_the_days_it_covers(cast, charged):
    before = Charge.objects.get(enrolment=charged.child).amount
    change = cast.term.end - datetime.timedelta(days=13)
    publish_fee(cast, rate="3.00", effective_from=change)
    adjust = Charge.objects.get(enrolment=charged.child, kind="adjust")
    assert adjust.amount == Decimal("1.00") * afternoons_left(cast, change)
    assert statement(cast.child, cast.term).charged == before + adjust.amount
    assert FeeStandard.objects.filter(term=cast.term).count() == 2


def test_a_free_standard_charges_nothing(cast, enrolled):
    publish_fee(cast, mode="free", rate="0")
    assert not Charge.objects.exists()


def test_a_per_term_rate_is_prorated_by_class_hours_from_the_start(cast, enrolled):
    publish_fee(cast, mode="per_term", rate="600.00")
    e = enrolled.child
    whole = afternoons_left(cast, cast.term.start)
    left = afternoons_left(cast, e.start_date)
    expected = (Decimal("600.00") * left / whole).quantize(Decimal("0.01"))
    assert Charge.objects.get(enrolment=e).amount == expected


@pytest.mark.parametrize("field,value", [
    ("rate", "0"), ("effective_from", "1999-01-01"), ("approval_ref", " "),
])
def test_a_standard_that_breaks_a_rule_is_refused_naming_the_field(cast, api, field, value):
    body = {"mode": "per_hour", "rate": "2.00", "effective_from": cast.term.start.isoformat(),
            "approved_by": "市发展改革委", "approval_ref": "文号", field: value}
    response = api(cast.principal).post(f"/api/v1/terms/{cast.term.pk}/fee-standards/", body,
                                        format="json")
    assert response.status_code == 400
    assert field in str(response.json())
    assert not FeeStandard.objects.exists()


def test_fee_standards_api(cast, api, plan):
    body = {"mode": "per_hour", "rate": "2.00", "effective_from": cast.term.start.isoformat(),
            "approved_by": "市发展改革委", "approval_ref": "发改价格〔2026〕12号"}
    url = f"/api/v1/terms/{cast.term.pk}/fee-standards/"
    for user in (cast.principal2, cast.parent, cast.teacher, cast.finance):
        assert api(user).post(url, body, format="json").status_code == 404
    response = api(cast.principal).post(url, body, format="json")
    assert response.status_code == 201, response.json()
    assert response.json()["version"] == 1 and "2.00" in response.json()["text"]
    # A second version may not go back in time: the days already passed keep their rate.
    again = api(cast.principal).post(url, body, format="json")
    assert again.status_code == 400 and "effective_from" in str(again.json())
    for user in (cast.parent, cast.teacher, cast.finance, cast.officer):
        listed = api(user).get(url)
        assert listed.status_code == 200 and [v["version"] for v in listed.json()] == [1]
    assert api(cast.parent2).get(f"/api/v1/terms/{cast.other_term.pk}/fee-standards/"
                                 ).status_code == 404


def test_the_plan_s_fee_paragraph_is_generated_from_the_standard(cast, plan):
    from enrollment import services

    publish_fee(cast)
    draft = services.plan_save_draft(term=cast.term, user=cast.principal,
                                     fee_standard="手写的旧文字")
    published = services.plan_publish(plan=draft, user=cast.principal)
    assert "每生每课时 2.00 元" in published.fee_standard
    assert "发改价格〔2026〕12号" in published.fee_standard
