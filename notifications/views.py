from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from schools.params import int_list

from .services import inbox_of, notifications_mark_read


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
