"""The choice-deadline reminder: guardians of enrolled children without any choice on a menu
closing tomorrow, once; nobody for a menu closing later; nobody who has chosen."""

import datetime

import pytest
from django.utils import timezone

from notifications.models import Notification
from scheduling import reminders, services
from scheduling.models import Menu
from scheduling.tasks import send_choice_deadline_reminders

pytestmark = pytest.mark.django_db
PURPOSE = "scheduling.choice_deadline"


@pytest.fixture
def open_menu(cast, enrolment):
    football = services.activity_create(school=cast.school, user=cast.principal, name="足球",
                                        category="sports", grades=[3], capacity=40)
    today = timezone.localdate()
    menu = services.menu_create(school=cast.school, user=cast.principal,
                                week=today + datetime.timedelta(days=7 - today.weekday()),
                                choice_deadline=timezone.now() + datetime.timedelta(days=3))
    for slot in cast.term.slots.filter(kind="afternoon"):
        services.menu_item_add(menu=menu, user=cast.principal, activity=football, slot=slot)
    return services.menu_publish(menu=menu, user=cast.principal, acknowledge_warnings=True)


def closing_tomorrow(menu: Menu) -> None:
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    Menu.objects.filter(pk=menu.pk).update(choice_deadline=timezone.make_aware(
        datetime.datetime.combine(tomorrow, datetime.time(20, 0))))


def reminded(user) -> int:
    return Notification.objects.filter(recipient=user, purpose=PURPOSE,
                                       channel="in_app").count()


def test_guardians_without_a_choice_are_reminded_once(cast, open_menu):
    assert reminders.choice_deadline_tomorrow() == 0  # closes in three days
    closing_tomorrow(open_menu)
    assert send_choice_deadline_reminders.delay().get() > 0
    assert reminded(cast.parent) == 1
    assert cast.child.name in Notification.objects.get(
        recipient=cast.parent, purpose=PURPOSE, channel="in_app").body
    assert reminders.choice_deadline_tomorrow() == 0  # a rerun sends nothing
    assert reminded(cast.parent) == 1
    assert reminded(cast.parent2) == 0  # not enrolled


def test_a_guardian_who_has_chosen_is_not_reminded(cast, open_menu):
    slot = cast.term.slots.get(kind="afternoon", weekday=1)
    services.choices_set(menu=open_menu, student=cast.child, slot=slot,
                         items=list(open_menu.items.filter(slot=slot)), user=cast.parent)
    closing_tomorrow(open_menu)
    reminders.choice_deadline_tomorrow()
    assert reminded(cast.parent) == 0
