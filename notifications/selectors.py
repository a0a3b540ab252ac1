"""What other stages and pages read of the outbox."""

import datetime

from django.db.models import Q, QuerySet

from .models import Notification

# A row's recipient with the profiles its phone number is read from (channels.phone_of): an SMS
# and a line of the delivery page each need them, not one query apiece.
RECIPIENT = ("recipient__guardian_profile", "recipient__staff_profile")

Status = Notification.Status
Urgency = Notification.Urgency
UNDELIVERED = (Status.PENDING, Status.SENDING)


def delayed_alerts(school_ids) -> QuerySet[Notification]:
    """The schools' alerts not yet delivered, oldest first."""
    return (Notification.objects.filter(school_id__in=list(school_ids),
                                        urgency=Urgency.ALERT, status__in=UNDELIVERED)
            .select_related(*RECIPIENT).order_by("created_at")[:200])


def failed_deliveries(school_ids, *, since: datetime.datetime) -> QuerySet[Notification]:
    """Messages about the schools that could not be delivered (refused, attempts exhausted),
    and alerts with no address on their channel, newest first. A notice skipped for want of an
    e-mail address is not a failure: the family has it in the app."""
    return (Notification.objects.filter(
        Q(status=Status.FAILED) | Q(status=Status.SKIPPED, urgency=Urgency.ALERT),
        school_id__in=list(school_ids), created_at__gte=since)
            .select_related(*RECIPIENT).order_by("-created_at", "-id"))
