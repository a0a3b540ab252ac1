from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from .services import inbox_of, notifications_mark_read


@login_required
def centre(request):
    page = Paginator(inbox_of(request.user), 30).get_page(request.GET.get("page"))
    return render(request, "notifications/centre.html", {"page": page})


@login_required
@require_POST
def mark_read(request):
    ids = request.POST.getlist("id")
    notifications_mark_read(user=request.user,
                            ids=[int(i) for i in ids if i.isdigit()] if ids else None)
    return redirect("notifications:centre")
