"""Delivery channels. In-app needs no delivery (the row is the message); e-mail goes through
Django's mail backend; SMS through a backend named by settings.SMS_BACKEND with one method,
`send(phone, text)`. A production SMS gateway is one more class with that method."""

import logging

from django.conf import settings
from django.core.mail import send_mail
from django.utils.module_loading import import_string

logger = logging.getLogger(__name__)


class DeliveryError(Exception):
    """A transient failure: the delivery task retries with backoff."""


class NoAddress(Exception):
    """The recipient has no address on this channel: nothing to send, nothing to retry."""


class BaseSMSBackend:
    def send(self, phone: str, text: str) -> None:  # pragma: no cover - interface
        raise NotImplementedError


class ConsoleSMSBackend(BaseSMSBackend):
    """Development: the message is written to the log."""

    def send(self, phone: str, text: str) -> None:
        logger.info("SMS to %s: %s", phone, text)
        print(f"[SMS] {phone}: {text}", flush=True)


class LocmemSMSBackend(BaseSMSBackend):
    """Tests: messages collect in `LocmemSMSBackend.outbox` (shared by every thread)."""

    outbox: list[tuple[str, str]] = []

    def send(self, phone: str, text: str) -> None:
        LocmemSMSBackend.outbox.append((phone, text))


def sms_backend() -> BaseSMSBackend:
    return import_string(settings.SMS_BACKEND)()


def phone_of(user) -> str:
    guardian = getattr(user, "guardian_profile", None)
    if guardian is not None and guardian.phone:
        return guardian.phone
    staff = getattr(user, "staff_profile", None)
    if staff is not None and staff.phone:
        return staff.phone
    return ""


def send_email(notification) -> None:
    address = notification.recipient.email
    if not address:
        raise NoAddress
    try:
        send_mail(notification.subject, _with_link(notification), None, [address])
    except OSError as exc:  # SMTP refused or unreachable: try again later
        raise DeliveryError(str(exc)) from exc


def send_sms(notification) -> None:
    phone = phone_of(notification.recipient)
    if not phone:
        raise NoAddress
    try:
        sms_backend().send(phone, f"【课后服务】{notification.body}")
    except OSError as exc:
        raise DeliveryError(str(exc)) from exc


def _with_link(notification) -> str:
    if not notification.url:
        return notification.body
    base = getattr(settings, "SITE_URL", "").rstrip("/")
    return f"{notification.body}\n\n{base}{notification.url}"


SENDERS = {"email": send_email, "sms": send_sms}
