"""Delivery channels. In-app needs no delivery (the row is the message). E-mail goes through
Django's mail backend with a stable Message-ID derived from the row's dedupe key; SMS through
the backend named by settings.SMS_BACKEND, whose one method `send(phone, text, key=...)` passes
the key on as the gateway's client message id, so a gateway that deduplicates drops a resend.

A channel raises DeliveryError for a failure worth retrying (a gateway or mail server down),
PermanentFailure for one that retrying cannot mend (a number that is not a mobile number, an
address the server refuses), NoAddress when the recipient has none on the channel."""

import hashlib
import json
import logging
import re
import smtplib
import urllib.error
import urllib.request
from email.utils import parseaddr
from typing import NamedTuple

from django.conf import settings
from django.core.mail import EmailMessage
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _

logger = logging.getLogger(__name__)


class DeliveryError(Exception):
    """A transient failure: the row is tried again later, with backoff."""


class PermanentFailure(Exception):
    """Retrying cannot help; the reason is shown to the school."""


class NoAddress(Exception):
    """The recipient has no address on this channel: nothing to send, nothing to retry."""


class SMS(NamedTuple):
    phone: str
    text: str
    key: str


class BaseSMSBackend:
    def send(self, phone: str, text: str, *, key: str) -> None:  # pragma: no cover
        raise NotImplementedError


class ConsoleSMSBackend(BaseSMSBackend):
    """Development: the message is written to the log."""

    def send(self, phone: str, text: str, *, key: str) -> None:
        logger.info("SMS to %s (%s): %s", phone, key, text)
        print(f"[SMS] {phone}: {text}", flush=True)


class LocmemSMSBackend(BaseSMSBackend):
    """Tests: messages collect in `LocmemSMSBackend.outbox` (shared by every thread)."""

    outbox: list[SMS] = []

    def send(self, phone: str, text: str, *, key: str) -> None:
        LocmemSMSBackend.outbox.append(SMS(phone, text, key))


class WebhookSMSBackend(BaseSMSBackend):
    """A gateway reached by an HTTP POST of JSON (a district's SMS platform, or an adapter in
    front of a carrier's API): `{"phone", "text", "client_msg_id"}` to settings.SMS_WEBHOOK_URL,
    with the key also as the `Idempotency-Key` header. 2xx is accepted; 400/404/422 is a
    permanent refusal (its `error` is the reason); anything else is retried."""

    def send(self, phone: str, text: str, *, key: str) -> None:
        body = json.dumps({"phone": phone, "text": text, "client_msg_id": key}).encode()
        request = urllib.request.Request(
            settings.SMS_WEBHOOK_URL, data=body, method="POST",
            headers={"Content-Type": "application/json", "Idempotency-Key": key})
        try:
            with urllib.request.urlopen(request, timeout=settings.SMS_TIMEOUT):
                return
        except urllib.error.HTTPError as exc:
            if exc.code in (400, 404, 422):
                raise PermanentFailure(_gateway_reason(exc)) from exc
            raise DeliveryError(f"HTTP {exc.code}") from exc
        except OSError as exc:  # URLError among them
            raise DeliveryError(str(getattr(exc, "reason", exc))) from exc


def _gateway_reason(exc: urllib.error.HTTPError) -> str:
    """The gateway's own words, kept for the school's delivery page: any run of digits long
    enough to be a phone number is masked, as the page masks addresses."""
    try:
        reason = str(json.loads(exc.read() or b"{}").get("error") or f"HTTP {exc.code}")
    except (ValueError, AttributeError, OSError):
        return f"HTTP {exc.code}"
    return re.sub(r"\d{7,}", lambda m: mask_phone(m.group()), reason)[:500]


def sms_backend() -> BaseSMSBackend:
    return import_string(settings.SMS_BACKEND)()


def phone_of(user) -> str:
    if user is None:
        return ""
    guardian = getattr(user, "guardian_profile", None)
    if guardian is not None and guardian.phone:
        return guardian.phone
    staff = getattr(user, "staff_profile", None)
    if staff is not None and staff.phone:
        return staff.phone
    return ""


MOBILE = re.compile(r"1[3-9]\d{9}")


def mask_phone(phone: str) -> str:
    return f"{phone[:3]}****{phone[-4:]}" if len(phone) >= 8 else "****"


def mask_email(address: str) -> str:
    local, _sep, domain = address.partition("@")
    return f"{local[:1]}***@{domain}" if domain else "***"


def message_id(key: str) -> str:
    """The same key gives the same Message-ID on every worker, so a resent e-mail is
    recognisably the same message."""
    digest = hashlib.sha256(key.encode()).hexdigest()[:32]
    domain = parseaddr(settings.DEFAULT_FROM_EMAIL)[1].rpartition("@")[2] or "localhost"
    return f"<{digest}@{domain}>"


def send_email(notification) -> None:
    address = notification.recipient.email
    if not address:
        raise NoAddress
    message = EmailMessage(notification.subject, _with_link(notification), None, [address],
                           headers={"Message-ID": message_id(notification.dedupe_key)})
    try:
        message.send()
    except smtplib.SMTPRecipientsRefused as exc:
        codes = [code for code, _msg in exc.recipients.values()]
        if codes and all(500 <= code < 600 for code in codes):
            raise PermanentFailure(_("邮件服务器拒收该地址（%(code)s）")
                                   % {"code": codes[0]}) from exc
        raise DeliveryError(str(exc)) from exc
    except OSError as exc:  # SMTP refused or unreachable: try again later
        raise DeliveryError(str(exc)) from exc


def _phone(notification) -> str:
    return notification.to_phone or phone_of(notification.recipient)


def send_sms(notification) -> None:
    phone = _phone(notification)
    if not phone:
        raise NoAddress
    if not MOBILE.fullmatch(phone):
        raise PermanentFailure(_("不是有效的手机号码"))
    try:
        sms_backend().send(phone, f"【课后服务】{notification.body}",
                           key=notification.dedupe_key)
    except OSError as exc:
        raise DeliveryError(str(exc)) from exc


def address_of(notification) -> str:
    """The recipient's address on the row's channel, masked, for the school's failure list."""
    if notification.channel == "sms":
        phone = _phone(notification)
        return mask_phone(phone) if phone else ""
    if notification.channel == "email" and notification.recipient_id:
        address = notification.recipient.email
        return mask_email(address) if address else ""
    return ""


def _with_link(notification) -> str:
    if not notification.url:
        return notification.body
    base = getattr(settings, "SITE_URL", "").rstrip("/")
    return f"{notification.body}\n\n{base}{notification.url}"


SENDERS = {"email": send_email, "sms": send_sms}
