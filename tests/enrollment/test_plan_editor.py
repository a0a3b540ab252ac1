"""The plan editor keeps the application window: its dates round-trip through the browser's
date inputs, and a plan without a window (or one that ends before it starts) is refused."""

import datetime
import re

import pytest

from enrollment.models import TermPlan
from enrollment.services import PLAN_FIELDS

pytestmark = pytest.mark.django_db

URL = "/enrollment/terms/{}/plan/edit/"


def _form_values(html: str) -> dict:
    """What a browser would post back: each input's value and each textarea's text."""
    values = {name: value for name, value in
              re.findall(r'<input[^>]*name="(\w+)"[^>]*value="([^"]*)"', html)}
    for name, text in re.findall(r'<textarea[^>]*name="(\w+)"[^>]*>(.*?)</textarea>', html,
                                 re.S):
        values[name] = text.strip()
    return {k: v.replace("&lt;", "<").replace("&gt;", ">") for k, v in values.items()
            if k in PLAN_FIELDS}


def test_the_window_round_trips_through_the_editor(cast, plan, client):
    client.force_login(cast.principal)
    page = client.get(URL.format(cast.term.pk)).content.decode()
    values = _form_values(page)
    assert values["applications_open"] == plan.applications_open.isoformat()
    assert values["applications_close"] == plan.applications_close.isoformat()

    response = client.post(URL.format(cast.term.pk), {**values, "publish": "1"})
    assert response.status_code == 302
    latest = cast.term.plans.filter(status=TermPlan.Status.PUBLISHED).order_by("-version")[0]
    assert latest.version == 2
    assert (latest.applications_open, latest.applications_close) == (
        plan.applications_open, plan.applications_close)


@pytest.mark.parametrize("window", [
    {"applications_open": "", "applications_close": ""},
    {"applications_close": ""},
])
def test_publishing_without_a_window_is_refused_and_saves_nothing(cast, plan, client, window):
    client.force_login(cast.principal)
    values = _form_values(client.get(URL.format(cast.term.pk)).content.decode())
    response = client.post(URL.format(cast.term.pk), {**values, **window, "publish": "1"})
    assert response.status_code == 200
    assert "报名开始和截止日期" in response.content.decode()
    assert list(cast.term.plans.values_list("version", "status")) == [(1, "published")]


def test_a_window_that_ends_before_it_starts_is_refused(cast, plan, client):
    client.force_login(cast.principal)
    values = _form_values(client.get(URL.format(cast.term.pk)).content.decode())
    start = datetime.date.fromisoformat(values["applications_open"])
    response = client.post(URL.format(cast.term.pk), {
        **values, "applications_close": (start - datetime.timedelta(days=1)).isoformat(),
        "publish": "1"})
    assert response.status_code == 200
    assert "不能早于开始日期" in response.content.decode()
    assert cast.term.plans.filter(status=TermPlan.Status.PUBLISHED).count() == 1
