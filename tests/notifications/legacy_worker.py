"""A Celery worker delivering the way the outbox did before claims: the row locked, the message
sent without an idempotency key, the result committed in the same transaction. The fault tests
run it as their control — the faults they inject must show a duplicate here.

    python -m tests.notifications.legacy_worker -A config worker ...
"""

import os
import sys

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
django.setup()

from django.db import transaction  # noqa: E402
from django.utils import timezone  # noqa: E402

from notifications import channels, tasks  # noqa: E402
from notifications.models import Notification  # noqa: E402


def deliver_without_claim(*, notification_id: int) -> str:
    with transaction.atomic():
        n = (Notification.objects.select_for_update(of=("self",)).select_related("recipient")
             .filter(pk=notification_id).first())
        if n is None or n.status != Notification.Status.PENDING:
            return "gone" if n is None else n.status
        n.attempts += 1
        channels.sms_backend().send(channels.phone_of(n.recipient), f"【课后服务】{n.body}",
                                    key="")
        n.status, n.sent_at = Notification.Status.SENT, timezone.now()
        n.save(update_fields=["status", "attempts", "sent_at"])
    return n.status


tasks.notification_deliver = deliver_without_claim

if __name__ == "__main__":
    from celery.__main__ import main

    sys.argv[0] = "celery"
    sys.exit(main())
