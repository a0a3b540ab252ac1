"""The scheduling stage's daily scan (Celery beat): the choice deadline is tomorrow, so the
guardians of enrolled children who have not ranked anything yet are reminded, once per menu.
Publication, placement results and teachers' class lists are sent by the services when they
happen (scheduling.services)."""

import datetime

from django.utils import timezone
from django.utils.translation import gettext as _

from notifications.services import notify_many
from schools.formats import day_label, moment_label
from schools.models import GuardianStudent

from . import selectors
from .models import Choice, Menu


def choice_deadline_tomorrow(today: datetime.date | None = None) -> int:
    """Remind guardians whose enrolled children have no choice on a menu closing tomorrow.
    Returns the number of reminders newly queued (a rerun queues none)."""
    today = today or timezone.localdate()
    tomorrow = today + datetime.timedelta(days=1)
    queued = 0
    for menu in Menu.objects.filter(status=Menu.Status.PUBLISHED).select_related("school"):
        if timezone.localtime(menu.choice_deadline).date() != tomorrow:
            continue
        enrolled = set(selectors.enrolled_in_week(menu).values_list("student_id", flat=True))
        chosen = set(Choice.objects.filter(menu=menu).values_list("student_id", flat=True))
        waiting = enrolled - chosen
        children: dict = {}
        for link in (GuardianStudent.objects.filter(student_id__in=waiting)
                     .select_related("guardian__user", "student").order_by("student__name")):
            children.setdefault(link.guardian.user, []).append(link.student.name)
        deadline = moment_label(menu.choice_deadline)
        queued += notify_many([
            dict(recipient=user, purpose="scheduling.choice_deadline", school=menu.school_id,
                 dedupe_key=f"scheduling.choice_deadline:{menu.pk}:{user.pk}",
                 subject=_("明天截止选课"),
                 body=_("%(names)s 还没有填报 %(week)s 起一周的活动志愿，选课将于 %(deadline)s "
                        "截止；不填报的时段安排托管与阅读。") % {
                     "names": "、".join(names), "week": day_label(menu.week),
                     "deadline": deadline},
                 url=menu.get_absolute_url(), payload={"menu": menu.pk})
            for user, names in children.items()
        ])
    return queued
