"""R9's records that outlive the day: each temporary class's weekly activity record archived at
the end of its term, and the month's table of teachers' service attendance published to the
school's staff."""

import datetime

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from notifications.services import notify_many
from scheduling.selectors import classes_matching
from schools.audit import audit_record
from schools.errors import Conflict
from schools.models import School, Staff, Term, User

from ..events import AttendanceAction
from ..models import ClassWeekArchive, TeacherMonthTable
from ..records import class_weeks, month_start, teacher_month


@transaction.atomic
def class_weeks_archive(term: Term, today: datetime.date | None = None) -> int:
    """Archive the weekly record of every temporary class of an ended term that has none yet
    (R9: handed in at term end). Idempotent: a class is archived once. Returns how many."""
    if term.end >= (today or timezone.localdate()):
        raise Conflict(_("学期结束后才能存档每周活动记录。"), code="term_not_ended")
    todo = list(classes_matching(Q(menu__term=term, week_archive__isnull=True)).order_by("pk"))
    weeks = class_weeks(todo)
    archives = [ClassWeekArchive(temporary_class=cls, term=term, data=weeks[cls.pk])
                for cls in todo]
    ClassWeekArchive.objects.bulk_create(archives, ignore_conflicts=True)
    if archives:
        audit_record(actor=None, action=AttendanceAction.WEEKS_ARCHIVED, obj=term,
                     school=term.school_id, data={"classes": len(archives)})
    return len(archives)


def archive_ended_terms(today: datetime.date) -> int:
    """The daily job: every term that ended before today with a class not yet archived (a term
    whose classes are all archived, or that had none, is not read again)."""
    pending = classes_matching(Q(menu__term__end__lt=today, week_archive__isnull=True))
    terms = Term.objects.filter(pk__in=pending.values("menu__term_id")).order_by("pk")
    return sum(class_weeks_archive(term, today) for term in terms)


@transaction.atomic
def teacher_month_publish(*, school: School, month: datetime.date, user: User,
                          today: datetime.date | None = None) -> TeacherMonthTable:
    """Publish a finished month's table of teachers' service attendance to the school's staff.
    Once only: the table the staff saw is the one kept."""
    month, today = month_start(month), today or timezone.localdate()
    if month >= month_start(today):
        raise Conflict(_("这个月还没有结束，月底后再公布。"), code="month_not_ended")
    try:
        with transaction.atomic():
            table = TeacherMonthTable.objects.create(
                school=school, month=month, rows=teacher_month(school.pk, month, today),
                published_by=user)
    except IntegrityError:
        raise Conflict(_("这个月的教师考勤表已经公布过了。"), code="already_published") from None
    audit_record(actor=user, action=AttendanceAction.MONTH_PUBLISHED, obj=table, school=school,
                 data={"month": month.isoformat(), "teachers": len(table.rows)})
    label = f"{month.year}-{month.month:02d}"
    url = reverse("attendance:month", args=[label])
    notify_many(
        {"recipient": staff.user, "purpose": "attendance.month_published",
         "dedupe_key": f"attendance.month:{table.pk}:{staff.user_id}", "school": school,
         "subject": _("%(month)s 教师课后服务考勤已公布") % {"month": label},
         "body": _("本月各位老师的课后服务次数和课时已公布，请核对；有出入请联系学校办公室。"),
         "url": url, "channels": ("in_app",)}
        for staff in Staff.objects.filter(school=school, active=True, user__isnull=False)
        .select_related("user"))
    return table
