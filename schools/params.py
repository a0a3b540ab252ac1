"""One way to read query parameters, for pages and the API alike: a malformed filter is a 400
naming the parameter (`InvalidParameter`), never a silent empty list and never a 500. Integers
are ASCII digits in the database's range (a Unicode digit such as "²" or a 30-digit number
is refused); text has no control characters; a choice is one of its choices."""

import datetime
import re

from django.utils.translation import gettext_lazy as _

from .errors import PolicyViolation

_DIGITS = re.compile(r"[0-9]{1,18}")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
MAX_TEXT = 200


class InvalidParameter(PolicyViolation):
    """A malformed query parameter (400, with the parameter as the field)."""

    code = "invalid_parameter"

    def __init__(self, name: str, message):
        super().__init__(message, field=name)


def _raw(params, name: str) -> str | None:
    value = params.get(name)
    if value is None:
        return None
    value = value.strip()
    return value or None


def int_param(params, name: str) -> int | None:
    """An id or count filter; None when absent or empty."""
    value = _raw(params, name)
    if value is None:
        return None
    if not _DIGITS.fullmatch(value):
        raise InvalidParameter(name, _("参数 %(name)s 须为整数。") % {"name": name})
    return int(value)


def date_param(params, name: str) -> datetime.date | None:
    value = _raw(params, name)
    if value is None:
        return None
    try:
        if not value.isascii():
            raise ValueError
        return datetime.date.fromisoformat(value)
    except ValueError:
        raise InvalidParameter(
            name, _("参数 %(name)s 须为日期（YYYY-MM-DD）。") % {"name": name}) from None


def choice_param(params, name: str, choices) -> str | None:
    """One of `choices` (values of a TextChoices, or any iterable of strings)."""
    value = _raw(params, name)
    if value is None:
        return None
    allowed = [str(c) for c in getattr(choices, "values", choices)]
    if value not in allowed:
        raise InvalidParameter(name, _("参数 %(name)s 须为以下之一：%(choices)s。")
                               % {"name": name, "choices": "、".join(allowed)})
    return value


def bool_param(params, name: str) -> bool | None:
    value = _raw(params, name)
    if value is None:
        return None
    if value.lower() in ("1", "true", "yes"):
        return True
    if value.lower() in ("0", "false", "no"):
        return False
    raise InvalidParameter(name, _("参数 %(name)s 须为 true 或 false。") % {"name": name})


def text_param(params, name: str, *, max_length: int = MAX_TEXT) -> str | None:
    value = _raw(params, name)
    if value is None:
        return None
    if _CONTROL.search(value) or len(value) > max_length:
        raise InvalidParameter(name, _("参数 %(name)s 含有不允许的字符或过长。") % {"name": name})
    return value


def int_list(values, name: str, *, max_items: int = 500) -> list[int]:
    """Several integers under one name (form posts of ticked ids)."""
    if len(values) > max_items:
        raise InvalidParameter(name, _("参数 %(name)s 的项数过多。") % {"name": name})
    out = []
    for value in values:
        if not _DIGITS.fullmatch(value.strip()):
            raise InvalidParameter(name, _("参数 %(name)s 须为整数。") % {"name": name})
        out.append(int(value))
    return out
