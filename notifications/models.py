"""The outbox: every message to a person is one row per channel under a unique dedupe key.

Delivery claims a row (state `sending`, committed) before it sends, sends with the row's key as
the channel's idempotency key, then records the result. A claim left behind by a worker that
died is taken over after its urgency's timeout and resent with the same key; `crash_retries`
records it, so a possible duplicate at a channel that does not deduplicate is visible."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Notification(models.Model):
    class Channel(models.TextChoices):
        IN_APP = "in_app", _("站内通知")
        EMAIL = "email", _("电子邮件")
        SMS = "sms", _("短信")

    class Status(models.TextChoices):
        PENDING = "pending", _("待发送")
        SENDING = "sending", _("发送中")
        SENT = "sent", _("已发送")
        FAILED = "failed", _("发送失败")
        SKIPPED = "skipped", _("无联系方式")

    class Urgency(models.TextChoices):
        # Each has its own Celery queue (settings.NOTIFICATION_QUEUES); alerts are consumed
        # first and by a worker of their own.
        ALERT = "alert", _("紧急提醒")
        NOTICE = "notice", _("通知")
        BULK = "bulk", _("汇总")

    # Null only for an SMS to someone without an account (an adult a guardian authorised to
    # collect a child), who is named and reached through `to_name` and `to_phone`.
    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                                  null=True, blank=True, related_name="notifications",
                                  verbose_name=_("接收人"))
    to_name = models.CharField(_("接收人姓名"), max_length=50, blank=True)
    to_phone = models.CharField(_("接收手机"), max_length=20, blank=True)
    # The school the message is about: its principal and office see the school's failed
    # deliveries and delayed alerts.
    school = models.ForeignKey("schools.School", on_delete=models.CASCADE, null=True,
                               blank=True, related_name="+", verbose_name=_("学校"))
    channel = models.CharField(_("渠道"), max_length=10, choices=Channel.choices)
    urgency = models.CharField(_("紧急程度"), max_length=10, choices=Urgency.choices,
                               default=Urgency.NOTICE)
    purpose = models.CharField(_("用途"), max_length=60)
    # "<purpose>:<object>:<recipient or date>#<channel>" — one row, whatever retries; sent to
    # the channel as its idempotency key (SMS client message id, e-mail Message-ID).
    dedupe_key = models.CharField(_("去重键"), max_length=200, unique=True)
    subject = models.CharField(_("标题"), max_length=200)
    body = models.TextField(_("内容"))
    url = models.CharField(_("链接"), max_length=300, blank=True)
    payload = models.JSONField(_("数据"), default=dict, blank=True)
    status = models.CharField(_("状态"), max_length=10, choices=Status.choices,
                              default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(_("尝试次数"), default=0)
    # Times a claim was found abandoned (the worker died mid-send) and taken over: the channel
    # may have received the message before; the same key went with each send.
    crash_retries = models.PositiveSmallIntegerField(_("崩溃后重发次数"), default=0)
    last_error = models.TextField(_("最近错误"), blank=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    # Not before this moment (a transient failure backs off).
    due_at = models.DateTimeField(_("计划发送时间"), default=timezone.now)
    # When a delivery task was last handed to the broker; null when none is known to be there
    # (never published, or publishing failed): the rescan publishes it at once.
    queued_at = models.DateTimeField(_("入队时间"), null=True, blank=True)
    claimed_at = models.DateTimeField(_("认领时间"), null=True, blank=True)
    claimed_by = models.CharField(_("认领者"), max_length=120, blank=True)
    sent_at = models.DateTimeField(_("发送时间"), null=True, blank=True)
    read_at = models.DateTimeField(_("阅读时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("通知")
        verbose_name_plural = _("通知")
        ordering = ["-created_at", "-id"]
        indexes = [
            # The notification centre and the unread badge.
            models.Index(fields=["recipient", "channel", "read_at"], name="notif_inbox_idx"),
            # The rescan and the health check: undelivered rows by urgency and age.
            models.Index(fields=["urgency", "created_at"],
                         condition=Q(status__in=["pending", "sending"]),
                         name="notif_undelivered_idx"),
            # A school's failed deliveries.
            models.Index(fields=["school", "-created_at"],
                         condition=Q(status__in=["failed", "skipped"]),
                         name="notif_failed_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~Q(status="sent") | Q(sent_at__isnull=False),
                name="notif_sent_has_sent_at"),
            models.CheckConstraint(
                condition=~Q(status="sending") | Q(claimed_at__isnull=False),
                name="notif_sending_is_claimed"),
            models.CheckConstraint(
                condition=Q(recipient__isnull=False) | (Q(channel="sms") & ~Q(to_phone="")),
                name="notif_has_recipient"),
        ]

    def __str__(self) -> str:
        return f"{self.get_channel_display()} → {self.addressee}: {self.subject}"

    @property
    def addressee(self) -> str:
        return str(self.recipient) if self.recipient_id else self.to_name
