"""Sign-in throttling, by account and by address, on Django's cache (Redis in production).

After LOGIN_FAILURES_PER_ACCOUNT wrong passwords for one username, or
LOGIN_FAILURES_PER_ADDRESS from one address, within LOGIN_FAILURE_WINDOW seconds, sign-in for
that account (or from that address) is refused for LOGIN_LOCKOUT seconds, the right password
too; each lock-out leaves an audit row. The address limit is the higher one, so that one
family's or one school's shared address is not locked out by a single forgotten password.

Failures are counted with the cache's atomic increment, so parallel guesses cannot slip past
the limit; a lock holds the time it ends, so that `_now` alone decides when it is over."""

import hashlib
import math
import time

from django.conf import settings
from django.core.cache import caches
from django.utils.translation import ngettext

from .audit import AccountAction, audit_record

# Usernames are at most 150 characters (AbstractUser); anything longer is cut in the audit.
_MAX_USERNAME = 150


def _now() -> float:
    return time.time()


def _cache():
    return caches[settings.LOGIN_THROTTLE_CACHE]


def _scopes(username: str | None, ip: str | None) -> list[tuple[str, str, int]]:
    """(scope, cache key, failures allowed) for the account and for the address."""
    scopes = []
    if username:
        digest = hashlib.sha256(username.strip().casefold().encode("utf-8", "replace"))
        scopes.append(("account", f"login:account:{digest.hexdigest()[:32]}",
                       settings.LOGIN_FAILURES_PER_ACCOUNT))
    if ip:
        scopes.append(("address", f"login:address:{ip}", settings.LOGIN_FAILURES_PER_ADDRESS))
    return scopes


def locked_for(username: str | None, ip: str | None) -> int:
    """Seconds until this account may sign in again from this address; 0 when it may now."""
    now = _now()
    until = max((_cache().get(f"{key}:locked") or 0 for _s, key, _n in _scopes(username, ip)),
                default=0)
    return math.ceil(until - now) if until > now else 0


def locked_message(seconds: int) -> str:
    minutes = max(1, math.ceil(seconds / 60))
    return ngettext("登录失败次数过多，已暂停登录。请在 %(minutes)d 分钟后再试。",
                    "登录失败次数过多，已暂停登录。请在 %(minutes)d 分钟后再试。",
                    minutes) % {"minutes": minutes}


def _increment(cache, key: str) -> int:
    if cache.add(key, 1, timeout=settings.LOGIN_FAILURE_WINDOW):
        return 1
    try:
        return cache.incr(key)
    except ValueError:  # the window ended between add() and incr()
        cache.add(key, 1, timeout=settings.LOGIN_FAILURE_WINDOW)
        return 1


def record_failure(username: str | None, ip: str | None) -> None:
    cache = _cache()
    for scope, key, allowed in _scopes(username, ip):
        # Exactly one failure reaches the limit, however many run in parallel: one lock-out,
        # one audit row. The count starts afresh once the lock is over.
        if _increment(cache, f"{key}:failures") != allowed:
            continue
        cache.set(f"{key}:locked", _now() + settings.LOGIN_LOCKOUT,
                  timeout=settings.LOGIN_LOCKOUT)
        cache.delete(f"{key}:failures")
        audit_record(actor=None, action=AccountAction.LOGIN_LOCKED, obj=None, school=None,
                     data={"username": (username or "")[:_MAX_USERNAME], "ip": ip,
                           "scope": scope})


def record_success(username: str | None) -> None:
    """A right password forgets the account's earlier failures, never the address's: one
    account of one's own must not reset the count of guesses at others'."""
    for scope, key, _n in _scopes(username, None):
        if scope == "account":
            _cache().delete(f"{key}:failures")


def reset(username: str | None = None, ip: str | None = None) -> None:
    """Lift a lock and forget the failures (support, and tests)."""
    for _s, key, _n in _scopes(username, ip):
        _cache().delete_many([f"{key}:failures", f"{key}:locked"])
