"""The client's address, as seen by the first proxy we trust.

Behind a reverse proxy every request's REMOTE_ADDR is the proxy's own: throttling by it would
lock a whole city out after one school's typos, and a signature would record the proxy.
`PROXY_COUNT` (settings, from the environment) says how many proxies of ours stand in front of
the app; the address is then the one the outermost of them saw, read from the right of
X-Forwarded-For (entries further left are the client's to forge). With no proxy (the default)
X-Forwarded-For is ignored."""

import ipaddress

from django.conf import settings


def _valid(address: str) -> str | None:
    try:
        return str(ipaddress.ip_address(address.strip()))
    except ValueError:
        return None


def client_ip(request) -> str | None:
    if request is None:
        return None
    remote = _valid(request.META.get("REMOTE_ADDR") or "")
    proxies = getattr(settings, "PROXY_COUNT", 0)
    if proxies <= 0:
        return remote
    hops = [h for h in (request.META.get("HTTP_X_FORWARDED_FOR") or "").split(",") if h.strip()]
    if len(hops) < proxies:
        return remote
    return _valid(hops[-proxies]) or remote
