import datetime

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from schools.models import MANAGER_ROLES
from schools.params import int_list
from schools.selectors import school_ids_for

from .channels import address_of
from .health import alert_backlog, health_report
from .selectors import delayed_alerts, failed_deliveries
from .services import inbox_of, notifications_mark_read, skip_reason


@login_required
def centre(request):
    page = Paginator(inbox_of(request.user), 30).get_page(request.GET.get("page"))
    return render(request, "notifications/centre.html", {"page": page})


@login_required
@require_POST
def mark_read(request):
    ids = int_list(request.POST.getlist("id"), "id")
    notifications_mark_read(user=request.user, ids=ids or None)
    return redirect("notifications:centre")


@login_required
def deliveries(request):
    """The school's principal and office: alerts still undelivered, and messages that could not
    be delivered, with the reason and the masked address, so someone can phone instead."""
    schools = school_ids_for(request.user, MANAGER_ROLES)
    if not schools:
        raise Http404
    since = timezone.now() - datetime.timedelta(days=30)
    page = Paginator(failed_deliveries(schools, since=since), 50).get_page(
        request.GET.get("page"))
    waiting = list(delayed_alerts(schools))
    for n in [*waiting, *page]:
        n.address = address_of(n)
        n.reason = skip_reason(n)
    return render(request, "notifications/deliveries.html", {
        "waiting": waiting, "page": page, "backlog": alert_backlog(schools)})


@never_cache
@require_http_methods(["GET", "HEAD"])
def healthz(request):
    """For load balancers and operators: JSON, 503 when the database is down or an alert has
    waited longer than settings.ALERT_DELAY_LIMIT."""
    status, body = health_report()
    return JsonResponse(body, status=status, json_dumps_params={"ensure_ascii": False})
