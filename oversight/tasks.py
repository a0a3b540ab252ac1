"""Oversight's long jobs: building a compliance workbook, with its progress on the page."""

from celery import shared_task
from django.utils import timezone

from .models import Workbook
from .workbooks import SHEETS, build


@shared_task
def build_workbook(workbook_id: int) -> str:
    """Build the workbook's file; its record shows how far it got, and how it ended."""
    workbook = Workbook.objects.select_related("district", "school", "requested_by").get(
        pk=workbook_id)
    if workbook.status == Workbook.Status.DONE:
        return workbook.status
    Workbook.objects.filter(pk=workbook.pk).update(status=Workbook.Status.RUNNING)

    def progress(done: int, total: int) -> None:
        Workbook.objects.filter(pk=workbook.pk).update(done=done, total=total)

    try:
        content = build(workbook, progress)
    except Exception as exc:  # recorded for the page, then raised for the worker's log
        Workbook.objects.filter(pk=workbook.pk).update(
            status=Workbook.Status.FAILED, error=str(exc)[:300], finished_at=timezone.now())
        raise
    Workbook.objects.filter(pk=workbook.pk).update(
        status=Workbook.Status.DONE, content=content, rows=workbook.rows, done=SHEETS,
        total=SHEETS, finished_at=timezone.now())
    return Workbook.Status.DONE
