"""Teacher pay (R12) through the API: the month's draft from the sessions served × class-hours
× the rate in force, substitutes paid for what they served, providers' staff grouped,
publication posting one balanced entry and telling each staff member, corrections of a
published month carried into a later one, payment once, the database refusing any rewrite of a
published payroll, and who may do what."""

import datetime
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.db import InternalError, connection, transaction
from django.utils import timezone

from attendance import services as attendance
from attendance.models import ClassSession
from attendance.selectors import sessions_served
from billing.ledger import trial_balance
from billing.models import JournalEntry, PayRate, Payroll, PayrollLine
from billing.payroll import add_months, month_start
from notifications.models import Notification
from scheduling.models import Menu, TemporaryClass
from schools.models import AuditEntry, ServiceSlot, Staff
from tests import factories as f

NOON, AFTERNOON = ServiceSlot.Kind.NOON, ServiceSlot.Kind.AFTERNOON
THIS = month_start(timezone.localdate())
LAST = add_months(THIS, -1)
BEFORE = add_months(THIS, -2)


def weekdays(month: datetime.date) -> list[datetime.date]:
    """The month's Mondays to Fridays (the cast's terms run noon and afternoon on them)."""
    days, day = [], month
    while day.month == month.month:
        if day.isoweekday() <= 5:
            days.append(day)
        day += datetime.timedelta(days=1)
    return days


class Sessions:
    """Sessions served, made as the daily job makes them (one per temporary class and date),
    with a roll called unless said otherwise; each teacher heads a class of their own per
    slot kind."""

    def __init__(self, cast):
        self.cast = cast
        self.classes: dict[tuple, TemporaryClass] = {}
        self.menus: dict[int, Menu] = {}

    def _class(self, term, kind: str, teacher: Staff) -> TemporaryClass:
        key = (term.pk, kind, teacher.pk)
        if key not in self.classes:
            if term.pk not in self.menus:
                self.menus[term.pk] = Menu.objects.create(
                    school=term.school, term=term, week=datetime.date(2026, 3, 2),
                    choice_deadline=timezone.now(), status=Menu.Status.ALLOCATED,
                    created_by=self.cast.principal)
            slot = term.slots.get(kind=kind, weekday=1)
            self.classes[key] = TemporaryClass.objects.create(
                menu=self.menus[term.pk], slot=slot, kind="study_hall", grade=3,
                name=f"{teacher.name}{slot.get_kind_display()}班", capacity=40,
                head_teacher=teacher, start=slot.start, end=slot.end)
        return self.classes[key]

    def serve(self, day: datetime.date, kind: str, teacher: Staff, *, term=None,
              roll: bool = True) -> ClassSession:
        term = term or self.cast.term
        slot = term.slots.get(kind=kind, weekday=day.isoweekday())
        return ClassSession.objects.create(
            school=term.school, term=term, temporary_class=self._class(term, kind, teacher),
            slot=slot, date=day, start=slot.start, end=slot.end, teacher=teacher,
            roll_called_at=timezone.now() if roll else None)


@pytest.fixture
def sessions(cast):
    return Sessions(cast)


@pytest.fixture
def staff(cast):
    """王老师 and 李老师 (the homeroom teachers) and 赵老师 (`teacher`), the school's own; 陈教练
    and 周教练 of a sports club (陈 without an account) and 林老师 of an art centre."""
    club, art = "飞跃体育俱乐部", "彩虹美术中心"
    return SimpleNamespace(
        wang=Staff.objects.get(user=cast.homeroom_teacher),
        li=Staff.objects.get(user=cast.homeroom_teacher2),
        zhao=cast.teacher.staff_profile,
        chen=f.StaffFactory(school=cast.school, user=None, name="陈教练", kind="provider",
                            provider_name=club),
        zhou=f.StaffFactory(school=cast.school, kind="provider", provider_name=club,
                            user=f.UserFactory(username="coach", display_name="周教练")),
        lin=f.StaffFactory(school=cast.school, kind="provider", provider_name=art,
                           user=f.UserFactory(username="painter", display_name="林老师")),
        club=club, art=art)


def _url(school, month, action=""):
    label = month if isinstance(month, str) else f"{month:%Y-%m}"
    return f"/api/v1/schools/{school.pk}/payroll/{label}/{action}"


def _draft(api, cast, month, user=None, school=None):
    return api(user or cast.principal).post(_url(school or cast.school, month), format="json")


def _publish(api, cast, month, user=None, school=None):
    return api(user or cast.principal).post(_url(school or cast.school, month, "publish/"),
                                            format="json")


def _pay(api, cast, month, user=None, reference="PAY-2026-001"):
    return api(user or cast.finance).post(_url(cast.school, month, "paid/"),
                                          {"reference": reference}, format="json")


def _lines(body, staff_member) -> list[dict]:
    return [line for line in body["lines"] if line["staff"] == staff_member.pk]


@pytest.mark.django_db
def test_the_draft_pays_sessions_served_by_class_hours_and_rate(cast, staff, sessions, api):
    days = weekdays(LAST)
    for day in days[:2]:
        sessions.serve(day, NOON, staff.wang)          # 2 class-hours each
    for day in days[:3]:
        sessions.serve(day, AFTERNOON, staff.wang)     # 1 class-hour each
    # Not paid: a session without a roll call, one of this month, one of another school.
    sessions.serve(days[3], NOON, staff.wang, roll=False)
    sessions.serve(weekdays(THIS)[0], NOON, staff.wang)
    other = f.StaffFactory(school=cast.other_school)
    sessions.serve(days[0], NOON, other, term=cast.other_term)

    response = _draft(api, cast, LAST)

    assert response.status_code == 200, response.json()
    body = response.json()
    assert body == {**body, "school": cast.school.pk, "month": f"{LAST:%Y-%m}",
                    "status": "draft", "total": "420.00", "providers": []}
    assert body["lines"] == [{
        "staff": staff.wang.pk, "name": staff.wang.name, "provider": "", "sessions": 5,
        "substitute_sessions": 0, "class_hours": "7.0", "rate": "60.00", "amount": "420.00",
        "for_month": f"{LAST:%Y-%m}", "note": ""}]
    payroll = Payroll.objects.get(school=cast.school, month=LAST)
    assert payroll.total == Decimal("420.00") and payroll.status == "draft"
    assert AuditEntry.objects.filter(action="billing.payroll.drafted").count() == 1
    # Recomputing replaces the draft's lines.
    sessions.serve(days[4], AFTERNOON, staff.wang)
    again = _draft(api, cast, LAST).json()
    assert again["total"] == "480.00" and len(again["lines"]) == 1
    assert PayrollLine.objects.filter(payroll=payroll).count() == 1
    # The principal and finance read it as stored.
    for user in (cast.principal, cast.finance):
        assert api(user).get(_url(cast.school, LAST)).json() == again


@pytest.mark.django_db
def test_a_substitute_session_is_paid_to_the_substitute(cast, staff, sessions, api):
    day, next_day = weekdays(LAST)[:2]
    covered = sessions.serve(day, NOON, staff.wang)
    sessions.serve(next_day, NOON, staff.wang)
    attendance.session_set_teacher(session=covered, teacher=staff.zhao, user=cast.principal,
                                   reason="王老师病假")

    body = _draft(api, cast, LAST).json()

    [wang] = _lines(body, staff.wang)
    [zhao] = _lines(body, staff.zhao)
    assert (wang["sessions"], wang["substitute_sessions"], wang["amount"]) == (1, 0, "120.00")
    assert (zhao["sessions"], zhao["substitute_sessions"], zhao["amount"]) == (1, 1, "120.00")
    assert body["total"] == "240.00"


@pytest.mark.django_db
def test_a_rate_change_mid_month_splits_the_month_by_session_date(cast, staff, sessions, api,
                                                                  settings):
    """Before the school's first version the setting's default is paid; from the 15th the
    new version. Each line is rounded once, half up: 4.5 class-hours at 33.33 is 149.985 →
    149.99 (rounding each session's 49.995 would have paid 150.00)."""
    settings.BILLING_DEFAULT_PAY_RATE = "50.00"
    # A version set back then (today a version can only start from today on).
    PayRate.objects.create(school=cast.school, rate=Decimal("33.33"),
                           effective_from=LAST.replace(day=15), set_by=cast.principal)
    ServiceSlot.objects.filter(term=cast.term, kind=AFTERNOON).update(
        class_hours=Decimal("1.5"))
    days = weekdays(LAST)
    early = [d for d in days if d.day < 15][:2]
    late = [d for d in days if d.day >= 15][:3]
    for day in early + late:
        sessions.serve(day, AFTERNOON, staff.wang)

    body = _draft(api, cast, LAST).json()

    by_rate = {line["rate"]: line for line in _lines(body, staff.wang)}
    assert set(by_rate) == {"50.00", "33.33"}
    assert (by_rate["50.00"]["sessions"], by_rate["50.00"]["class_hours"],
            by_rate["50.00"]["amount"]) == (2, "3.0", "150.00")
    assert (by_rate["33.33"]["sessions"], by_rate["33.33"]["class_hours"],
            by_rate["33.33"]["amount"]) == (3, "4.5", "149.99")
    assert body["total"] == "299.99"


@pytest.mark.django_db
def test_providers_staff_are_grouped_by_provider(cast, staff, sessions, api):
    day = weekdays(LAST)[0]
    sessions.serve(day, NOON, staff.chen)
    sessions.serve(day, AFTERNOON, staff.zhou)
    sessions.serve(day, AFTERNOON, staff.lin)
    sessions.serve(day, AFTERNOON, staff.wang)

    body = _draft(api, cast, LAST).json()

    assert body["providers"] == sorted([
        {"provider": staff.club, "staff": sorted([staff.chen.pk, staff.zhou.pk]),
         "amount": "180.00"},
        {"provider": staff.art, "staff": [staff.lin.pk], "amount": "60.00"}],
        key=lambda p: p["provider"])
    assert _lines(body, staff.chen)[0]["provider"] == staff.club
    assert _lines(body, staff.wang)[0]["provider"] == ""
    # The school's own teachers come first.
    assert body["lines"][0]["staff"] == staff.wang.pk
    assert body["total"] == "300.00"


@pytest.mark.django_db(transaction=True)
def test_publishing_posts_one_balanced_entry_and_tells_each_staff_member(cast, staff,
                                                                        sessions, api):
    """Run with commits: the database checks the entry's balance when the request commits."""
    days = weekdays(LAST)
    sessions.serve(days[0], NOON, staff.wang)
    sessions.serve(days[1], AFTERNOON, staff.zhao)
    sessions.serve(days[0], NOON, staff.chen)
    sessions.serve(days[0], AFTERNOON, staff.lin)
    _draft(api, cast, LAST)

    response = _publish(api, cast, LAST)

    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "published"
    payroll = Payroll.objects.get(school=cast.school, month=LAST)
    entry = payroll.entry
    assert entry.kind == JournalEntry.Kind.PAYROLL
    assert entry.source == f"payroll:{cast.school.pk}:{LAST:%Y-%m}"
    assert response.json()["entry"] == entry.label
    lines = {(line.account, line.debit, line.credit) for line in entry.lines.all()}
    assert lines == {("5001", Decimal("180.00"), 0), ("5002", Decimal("180.00"), 0),
                     ("2211", 0, Decimal("360.00"))}
    rows = trial_balance(cast.school.pk, entry.date)
    assert sum(r.debit for r in rows) == sum(r.credit for r in rows) == Decimal("360.00")
    # Each staff member with an account is told their own pay, and only they: 陈教练 has no
    # account, 李老师 served nothing.
    told = {n.recipient_id: n for n in Notification.objects.filter(
        purpose="billing.payroll_published", channel="in_app")}
    assert set(told) == {cast.homeroom_teacher.pk, cast.teacher.pk, staff.lin.user_id}
    assert "120.00" in told[cast.homeroom_teacher.pk].body
    assert "60.00" in told[cast.teacher.pk].body and "120.00" not in told[cast.teacher.pk].body
    assert AuditEntry.objects.filter(action="billing.payroll.published").count() == 1
    # Published payrolls are never rewritten: neither published again nor redrafted.
    again = _publish(api, cast, LAST)
    assert again.status_code == 409 and again.json()["code"] == "payroll_published"
    redraft = _draft(api, cast, LAST)
    assert redraft.status_code == 409 and redraft.json()["code"] == "payroll_published"
    assert JournalEntry.objects.filter(kind="payroll").count() == 1
    assert Notification.objects.filter(purpose="billing.payroll_published").count() == 3


@pytest.mark.django_db
def test_a_month_is_drafted_once_started_and_published_once_ended(cast, staff, sessions, api):
    later = _draft(api, cast, add_months(THIS, 1))
    assert later.status_code == 409 and later.json()["code"] == "month_not_started"
    assert not Payroll.objects.exists()
    unknown = _publish(api, cast, LAST)
    assert unknown.status_code == 409 and unknown.json()["code"] == "payroll_not_drafted"
    # This month may be drafted as it goes, not published before it ends.
    assert _draft(api, cast, THIS).status_code == 200
    running = _publish(api, cast, THIS)
    assert running.status_code == 409 and running.json()["code"] == "month_not_ended"
    # A draft that the sessions have moved on from is not what the principal approved.
    sessions.serve(weekdays(LAST)[0], NOON, staff.wang)
    assert _draft(api, cast, LAST).json()["total"] == "120.00"
    sessions.serve(weekdays(LAST)[1], NOON, staff.wang)
    stale = _publish(api, cast, LAST)
    assert stale.status_code == 409 and stale.json()["code"] == "payroll_outdated"
    assert _draft(api, cast, LAST).json()["total"] == "240.00"
    assert _publish(api, cast, LAST).json()["total"] == "240.00"


@pytest.mark.django_db
def test_a_session_recorded_after_publication_is_corrected_in_a_later_month(
        cast, staff, sessions, api):
    days = weekdays(BEFORE)
    served = sessions.serve(days[0], AFTERNOON, staff.wang)
    sessions.serve(days[1], AFTERNOON, staff.wang)
    _draft(api, cast, BEFORE)
    published = _publish(api, cast, BEFORE).json()
    assert published["total"] == "120.00"
    # Afterwards: a roll call synced late for 赵老师, and 王老师's session found to have been
    # covered by 赵老师.
    sessions.serve(days[2], NOON, staff.zhao)
    attendance.session_set_teacher(session=served, teacher=staff.zhao, user=cast.principal,
                                   reason="补记代课")

    body = _draft(api, cast, LAST).json()

    label = f"{BEFORE:%Y-%m}"
    [zhao] = _lines(body, staff.zhao)
    [wang] = _lines(body, staff.wang)
    assert (zhao["for_month"], zhao["sessions"], zhao["substitute_sessions"],
            zhao["class_hours"], zhao["amount"]) == (label, 2, 1, "3.0", "180.00")
    assert (wang["for_month"], wang["sessions"], wang["class_hours"],
            wang["amount"]) == (label, -1, "-1.0", "-60.00")
    assert zhao["note"] and wang["note"]
    assert body["total"] == "120.00"
    # The published month is as it was.
    assert api(cast.principal).get(_url(cast.school, BEFORE)).json() == published
    # Once the correction is published, a later month does not correct it again.
    _publish(api, cast, LAST)
    assert _draft(api, cast, THIS).json()["lines"] == []
    # The correction month's accrual takes back 王老师's 60.00 and adds 赵老师's 180.00.
    entry = Payroll.objects.get(school=cast.school, month=LAST).entry
    lines = {(line.account, line.debit, line.credit) for line in entry.lines.all()}
    assert lines == {("5001", Decimal("120.00"), 0), ("2211", 0, Decimal("120.00"))}


@pytest.mark.django_db
def test_finance_pays_a_published_payroll_once(cast, staff, sessions, api):
    sessions.serve(weekdays(LAST)[0], NOON, staff.wang)
    _draft(api, cast, LAST)
    early = _pay(api, cast, LAST)
    assert early.status_code == 409 and early.json()["code"] == "payroll_not_published"
    _publish(api, cast, LAST)
    for user in (cast.principal, cast.teacher):
        assert _pay(api, cast, LAST, user=user).status_code == 403
    missing = _pay(api, cast, LAST, reference="  ")
    assert missing.status_code == 400 and "reference" in missing.json()

    paid = _pay(api, cast, LAST)

    assert paid.status_code == 200, paid.json()
    payroll = Payroll.objects.get(school=cast.school, month=LAST)
    assert payroll.paid_reference == "PAY-2026-001"
    assert paid.json()["paid_entry"] == payroll.paid_entry.label
    entry = payroll.paid_entry
    assert entry.kind == JournalEntry.Kind.PAYROLL_PAID
    lines = {(line.account, line.debit, line.credit) for line in entry.lines.all()}
    assert lines == {("2211", Decimal("120.00"), 0), ("1002", 0, Decimal("120.00"))}
    twice = _pay(api, cast, LAST, reference="PAY-2026-002")
    assert twice.status_code == 409 and twice.json()["code"] == "payroll_paid"
    assert JournalEntry.objects.filter(kind="payroll_paid").count() == 1
    assert AuditEntry.objects.filter(action="billing.payroll.paid").count() == 1


@pytest.mark.django_db
def test_a_month_with_nothing_served_publishes_without_an_entry(cast, staff, api):
    draft = _draft(api, cast, LAST)
    assert draft.status_code == 200 and draft.json()["lines"] == []
    published = _publish(api, cast, LAST)
    assert published.status_code == 200 and published.json()["total"] == "0.00"
    assert published.json()["entry"] is None
    assert not JournalEntry.objects.exists()
    assert not Notification.objects.filter(purpose="billing.payroll_published").exists()
    nothing = _pay(api, cast, LAST)
    assert nothing.status_code == 409 and nothing.json()["code"] == "payroll_nothing_to_pay"


@pytest.mark.django_db
@pytest.mark.parametrize("sql", [
    "UPDATE billing_payrollline SET amount = amount + 1 WHERE payroll_id = %s",
    "DELETE FROM billing_payrollline WHERE payroll_id = %s",
    "INSERT INTO billing_payrollline (payroll_id, staff_id, provider_name, sessions, "
    "substitute_sessions, class_hours, rate, amount, for_month, note) SELECT payroll_id, "
    "staff_id, '', 1, 0, 1, 61, 61, for_month, '' FROM billing_payrollline "
    "WHERE payroll_id = %s",
    "UPDATE billing_payroll SET total = total + 1 WHERE id = %s",
    "UPDATE billing_payroll SET status = 'draft', published_at = NULL, entry_id = NULL "
    "WHERE id = %s",
    "DELETE FROM billing_payroll WHERE id = %s",
])
def test_the_database_refuses_to_rewrite_a_published_payroll(cast, staff, sessions, api, sql):
    sessions.serve(weekdays(LAST)[0], NOON, staff.wang)
    _draft(api, cast, LAST)
    payroll = Payroll.objects.get(school=cast.school, month=LAST)
    # The control: a draft's lines may be replaced (recomputing does it).
    with transaction.atomic(), connection.cursor() as c:
        c.execute("UPDATE billing_payrollline SET note = note WHERE payroll_id = %s",
                  [payroll.pk])
    _publish(api, cast, LAST)
    with pytest.raises(InternalError, match="published payroll"):
        with transaction.atomic(), connection.cursor() as c:
            c.execute(sql, [payroll.pk])
    assert PayrollLine.objects.get(payroll=payroll).amount == Decimal("120.00")
    assert Payroll.objects.get(pk=payroll.pk).total == Decimal("120.00")


@pytest.mark.django_db
def test_the_payment_is_filled_in_once_and_rates_are_never_edited(cast, staff, sessions, api):
    sessions.serve(weekdays(LAST)[0], NOON, staff.wang)
    _draft(api, cast, LAST)
    _publish(api, cast, LAST)
    _pay(api, cast, LAST)
    payroll = Payroll.objects.get(school=cast.school, month=LAST)
    with pytest.raises(InternalError, match="published payroll"):
        with transaction.atomic(), connection.cursor() as c:
            c.execute("UPDATE billing_payroll SET paid_reference = 'other' WHERE id = %s",
                      [payroll.pk])
    rate = PayRate.objects.create(school=cast.school, rate=Decimal("60.00"),
                                  effective_from=timezone.localdate(), set_by=cast.principal)
    for sql in ("UPDATE billing_payrate SET rate = 1 WHERE id = %s",
                "DELETE FROM billing_payrate WHERE id = %s"):
        with pytest.raises(InternalError, match="append-only"):
            with transaction.atomic(), connection.cursor() as c:
                c.execute(sql, [rate.pk])


@pytest.mark.django_db
def test_pay_rates_are_versions_from_today_on(cast, api):
    url = f"/api/v1/schools/{cast.school.pk}/pay-rates/"
    today = timezone.localdate()
    before = api(cast.principal).get(url).json()
    assert before == {"school": cast.school.pk, "default": "60.00", "in_force": "60.00",
                      "versions": []}
    for body, field in [
        ({"rate": "0", "effective_from": today}, "rate"),
        ({"rate": "-5", "effective_from": today}, "rate"),
        ({"rate": "1.005", "effective_from": today}, "rate"),
        ({"rate": "60.00", "effective_from": today - datetime.timedelta(days=1)},
         "effective_from"),
        ({"rate": "60.00", "effective_from": "2026-13-01"}, "effective_from"),
    ]:
        refused = api(cast.principal).post(url, body, format="json")
        assert refused.status_code == 400 and field in refused.json(), (body, refused.json())
    made = api(cast.principal).post(url, {"rate": "65.00", "effective_from": today},
                                    format="json")
    assert made.status_code == 201, made.json()
    assert made.json()["rate"] == "65.00" and made.json()["set_by"] == "陈校长"
    same_day = api(cast.principal).post(url, {"rate": "70.00", "effective_from": today},
                                        format="json")
    assert same_day.status_code == 400 and "effective_from" in same_day.json()
    after = api(cast.finance).get(url).json()
    assert after["in_force"] == "65.00" and len(after["versions"]) == 1
    assert AuditEntry.objects.filter(action="billing.pay_rate.set").count() == 1


@pytest.mark.django_db
def test_who_may_draft_publish_pay_and_read(cast, staff, sessions, api):
    sessions.serve(weekdays(LAST)[0], NOON, staff.wang)
    rates = f"/api/v1/schools/{cast.school.pk}/pay-rates/"
    rate = {"rate": "65.00", "effective_from": timezone.localdate().isoformat()}
    # Without the role anywhere: refused (403), as billing refuses a payment by others.
    for user in (cast.teacher, cast.homeroom_teacher, cast.parent, cast.finance, cast.officer):
        assert _draft(api, cast, LAST, user=user).status_code == 403
        assert _publish(api, cast, LAST, user=user).status_code == 403
        assert api(user).post(rates, rate, format="json").status_code == 403
    # Another school's principal holds the role, not at this school: outside scope (404).
    assert _draft(api, cast, LAST, user=cast.principal2).status_code == 404
    assert _publish(api, cast, LAST, user=cast.principal2).status_code == 404
    assert api(cast.principal2).post(rates, rate, format="json").status_code == 404
    assert not Payroll.objects.exists() and not PayRate.objects.exists()
    _draft(api, cast, LAST)
    # Reads: the school's principal and finance; anyone else, 404.
    for user in (cast.principal2, cast.teacher, cast.parent, cast.officer):
        assert api(user).get(_url(cast.school, LAST)).status_code == 404
        assert api(user).get(rates).status_code == 404
    assert api(cast.principal).get(_url(cast.school, THIS)).status_code == 404  # no draft
    # Another school's finance cannot pay this school's payroll.
    other_finance = f.UserFactory(username="finance2")
    f.grant(other_finance, "finance", school=cast.other_school)
    _publish(api, cast, LAST)
    assert _pay(api, cast, LAST, user=other_finance).status_code == 404
    assert api(None).post(_url(cast.school, LAST)).status_code == 401
    # A superuser may do what the principal does.
    root = f.UserFactory(username="root", is_superuser=True, is_staff=True)
    assert _draft(api, cast, BEFORE, user=root).status_code == 200


@pytest.mark.django_db
@pytest.mark.parametrize("month", ["2026-13", "2026-3", "26-03", "march", "1999-12",
                                   "２０２６-０３", "2026-03-01"])
def test_a_bad_month_is_refused_naming_the_field(cast, api, month):
    for response in (_draft(api, cast, month), _publish(api, cast, month),
                     api(cast.principal).get(_url(cast.school, month))):
        assert response.status_code == 400, response.json()
        assert "month" in response.json() and "YYYY-MM" in response.json()["month"][0]
    assert not Payroll.objects.exists()


@pytest.mark.django_db
def test_sessions_served_reads_the_sessions_that_took_place_in_one_query(
        cast, staff, sessions, django_assert_num_queries):
    day = weekdays(LAST)[0]
    covered = sessions.serve(day, NOON, staff.wang)
    attendance.session_set_teacher(session=covered, teacher=staff.chen, user=cast.principal)
    sessions.serve(day, AFTERNOON, staff.wang, roll=False)
    sessions.serve(day - datetime.timedelta(days=1), AFTERNOON, staff.wang)

    with django_assert_num_queries(1):
        rows = sessions_served(cast.school.pk, day, day)

    [row] = rows
    assert (row.date, row.teacher_id, row.teacher_name, row.staff_kind, row.provider_name,
            row.class_hours, row.substitute) == (day, staff.chen.pk, "陈教练", "provider",
                                                 staff.club, Decimal("2.0"), True)


@pytest.mark.django_db
def test_drafting_costs_the_same_queries_for_one_teacher_or_many(
        cast, staff, sessions, api, django_assert_max_num_queries):
    days = weekdays(LAST)
    sessions.serve(days[0], NOON, staff.wang)
    _draft(api, cast, LAST)
    with django_assert_max_num_queries(30) as one:
        _draft(api, cast, LAST)
    for member in (staff.li, staff.zhao, staff.chen, staff.zhou, staff.lin):
        for day in days[:3]:
            sessions.serve(day, AFTERNOON, member)
    with django_assert_max_num_queries(30) as many:
        _draft(api, cast, LAST)
    assert len(many.captured_queries) == len(one.captured_queries)


@pytest.mark.django_db
@pytest.mark.parametrize("body", [
    {"rate": "NaN", "effective_from": "2099-01-01"},
    {"rate": "1e5", "effective_from": "2099-01-01"},
    {"rate": "", "effective_from": "2099-01-01"},
    {"rate": "99999999999.99"},
    {"rate": "60.00", "effective_from": "0001-01-01"},
    {"rate": ["60"], "effective_from": 5},
])
def test_odd_input_is_a_400_never_a_500(cast, api, body):
    url = f"/api/v1/schools/{cast.school.pk}/pay-rates/"
    assert api(cast.principal).post(url, body, format="json").status_code == 400
    huge = f"/api/v1/schools/{10**18}/payroll/2026-03/"
    assert api(cast.principal).post(huge).status_code == 404
    assert api(cast.principal).get(huge).status_code == 404
