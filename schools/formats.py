"""Dates, times and weekdays as people read them, in the active language (Django's localized
formats: "11月23日 16:30" in Chinese, "Nov. 23, 4:30 p.m." in English), never hand-written
strftime patterns."""

import datetime

from django.utils import formats, timezone

from .models import WEEKDAY_NAMES


def weekday_name(weekday: int) -> str:
    """周一 … 周日 / Mon … Sun (1 = Monday)."""
    return str(WEEKDAY_NAMES.get(weekday, weekday))


def day_label(day: datetime.date) -> str:
    """A date without its year (11月23日 / November 23)."""
    return formats.date_format(day, "MONTH_DAY_FORMAT")


def date_label(day: datetime.date) -> str:
    """A date with its year (2026年11月23日 / Nov. 23, 2026)."""
    return formats.date_format(day, "DATE_FORMAT")


def time_label(value: datetime.time) -> str:
    return formats.time_format(value, "TIME_FORMAT")


def moment_label(moment: datetime.datetime) -> str:
    """A local date and time without the year (11月23日 20:00)."""
    local = timezone.localtime(moment) if timezone.is_aware(moment) else moment
    return f"{day_label(local.date())} {time_label(local.time())}"
