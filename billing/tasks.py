"""Billing's long jobs: a term's settlement at city scale, with its progress for the page."""

from celery import shared_task
from django.core.cache import cache

from schools.errors import DomainError
from schools.models import Term, User

from . import settlement

PROGRESS_TTL = 24 * 3600


def progress_key(term_id: int) -> str:
    return f"billing:settle:{term_id}"


def settle_progress(term_id: int) -> dict | None:
    """How far the term's settlement job got: stage, done, total; then the totals, or the
    error that stopped it."""
    return cache.get(progress_key(term_id))


def settle_queued(term_id: int) -> None:
    """Show the job as waiting from the moment it is sent (a worker may take a while)."""
    cache.set(progress_key(term_id), {"stage": "queued", "done": 0, "total": 0}, PROGRESS_TTL)


@shared_task
def settle_term(term_id: int, user_id: int) -> dict:
    """Settle a term in the background (a city's schools, tens of thousands of enrolments),
    reporting its progress as it goes. Running it again posts only what changed."""
    key = progress_key(term_id)

    def progress(stage: str, done: int, total: int) -> None:
        cache.set(key, {"stage": stage, "done": done, "total": total}, PROGRESS_TTL)

    term = Term.objects.select_related("school").get(pk=term_id)
    user = User.objects.get(pk=user_id)
    progress("started", 0, 0)
    try:
        done = settlement.term_settle(term=term, user=user, progress=progress)
    except DomainError as exc:
        result = {"stage": "failed", "error": str(exc.message)}
    else:
        result = {"stage": "done", "run": done.settlement.run,
                  "entries": done.settlement.entries,
                  "enrolments": done.settlement.enrolments,
                  "total_refund": f"{done.total_refund:.2f}",
                  "total_top_up": f"{done.total_top_up:.2f}"}
    cache.set(key, result, PROGRESS_TTL)
    return result
