"""The one way to read an evidence file: the private storage has no URL, and this view hands a
file only to the readers of its application (`selectors.evidence_visible_to`); anyone else gets
404, as if it did not exist."""

from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404
from django.views.decorators.http import require_safe

from . import selectors
from .evidence import stored_type


@login_required
@require_safe
def evidence_file(request, pk: int):
    evidence = get_object_or_404(selectors.evidence_visible_to(request.user), pk=pk)
    try:
        handle = evidence.file.open("rb")
    except FileNotFoundError as exc:
        raise Http404 from exc
    # The stored name's extension was chosen from the checked type, never the uploader's.
    extension = evidence.file.name.rsplit(".", 1)[-1]
    # An attachment, never rendered inline: a crafted file cannot run as a page of the site.
    response = FileResponse(handle, as_attachment=True,
                            content_type=stored_type(evidence.file.name),
                            filename=f"evidence-{evidence.pk}.{extension}")
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response
