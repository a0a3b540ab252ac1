"""`manage.py seed_demo [--password P] [--url U] [--quiet]`: the whole demo, stage by stage,
each through its own demo module (the roster, enrollment and scheduling in their apps, then
attendance in portal.demo_attendance); later stages add theirs here. Idempotent: a second run
adds nothing. It ends with the table of the demo accounts, what to try with each, and the
address to open."""

import contextlib
import logging
from collections.abc import Iterator

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.core.management.base import BaseCommand
from django.db import connection, transaction
from django.test.utils import override_settings
from django.utils import timezone

from enrollment.demo import seed as seed_enrollment
from portal.demo_attendance import seed as seed_attendance
from portal.demo_billing import seed as seed_billing
from portal.demo_oversight import seed as seed_oversight
from scheduling.demo import seed as seed_scheduling
from schools.demo import ACCOUNTS, DEFAULT_PASSWORD, display_width, pad
from schools.demo import seed as seed_roster
from schools.models import School
from schools.selectors import current_term


@contextlib.contextmanager
def quiet_delivery() -> Iterator[None]:
    """Keep the seeded notices off the console: with no broker they are delivered in-process on
    commit, several hundred of them, each logged by Celery and printed by the console e-mail
    and SMS backends. Inside this block they go to the in-memory backends instead (the outbox
    rows and in-app notices are real either way)."""
    logger = logging.getLogger("celery.app.trace")
    level = logger.level
    logger.setLevel(logging.WARNING)
    try:
        with override_settings(EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend",
                               SMS_BACKEND="notifications.channels.LocmemSMSBackend"):
            yield
    finally:
        logger.setLevel(level)


# What to try first with each demo account, in the order of one child's way through the
# service. A stage that adds pages adds its hint here; an account without one is listed last.
TRY = {
    "parent": "/enrollment/ 为张小明报名；/scheduling/menus/ 为张小红选课；"
              "/attendance/ 张小红的考勤、接送码与授权接送人；/billing/ 孩子的费用",
    "parent2": "/enrollment/ 刘洋的报名（待班主任审核）",
    "homeroom": "/enrollment/review/ 审核本班报名（张小明报名后也在这里）",
    "homeroom2": "/enrollment/review/ 审核本班报名（含刘洋）",
    "principal": "/enrollment/decide/ 审定报名、退出；/scheduling/menus/ 分班；"
                 "/attendance/ 今日接送与往日的日终确认；/billing/term/ 减免与学期结算",
    "teacher": "/attendance/ 今天张小红所在班的点名与放学交接；"
               "/scheduling/teachers/week/ 本周带的临时班",
    "principal2": "/ 另一所学校：看不到实验小学的任何数据",
    "finance": "/billing/register/ 登记收费、打印收据；/billing/trial-balance/ 试算平衡表",
    "district": "/oversight/ 区域概况：各校参与率、合规检查与口径；/ 各校待办",
    "admin": "/admin/ Django 管理后台",
}


def analyse() -> None:
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


class Command(BaseCommand):
    help = "建立示范数据（示范区教育局、三所学校、约 1000 名学生与演示账号）；可重复运行。"

    def add_arguments(self, parser):
        parser.add_argument("--password", default=DEFAULT_PASSWORD,
                            help=f"演示账号的密码（默认 {DEFAULT_PASSWORD}）")
        parser.add_argument("--url", default="",
                            help="账号表下方提示打开的网址（默认 SITE_URL）")
        parser.add_argument("--quiet", action="store_true", help="不打印账号表")

    def handle(self, *args, **options):
        password = options["password"]
        quiet = options["quiet"]
        if not quiet:
            self.stdout.write("正在建立示范数据（首次约需一两分钟）……")
        today = timezone.localdate()
        password_hash = make_password(password)  # hashed once: the demo accounts share it
        # The enrollment notices are delivered on commit: kept off the console (see there).
        with quiet_delivery(), transaction.atomic():
            schools = seed_roster(password_hash=password_hash, today=today)
            # Thousands of rows are written in this one transaction: before each stage, refresh
            # the planner's statistics (ANALYZE counts the transaction's own rows), or it may
            # plan the next stage's joins for empty tables and take minutes over them.
            analyse()
            # The enrollment stage's demo data: plans, applications, enrolments.
            seed_enrollment(stdout=None if quiet else self.stdout)
            analyse()
            # The scheduling stage's: this week's menu allocated, next week's open.
            seed_scheduling(stdout=None if quiet else self.stdout)
            analyse()
            # The attendance stage's: the recent service days closed, today's open.
            seed_attendance(stdout=None if quiet else self.stdout)
            analyse()
            # The billing stage's: the fee standard, payments, waivers, last month's payroll.
            seed_billing(stdout=None if quiet else self.stdout)
            analyse()
            # The district's other schools, each with its own shape for the dashboard.
            seed_oversight(stdout=None if quiet else self.stdout)
        if not quiet:
            self.print_summary(schools, password, options["url"] or settings.SITE_URL)

    def print_summary(self, schools: dict[str, School], password: str, url: str) -> None:
        out = self.stdout
        for school in schools.values():
            term = current_term(school.pk, timezone.localdate())
            out.write(f"{school.name}（{school.code}）：{school.students.count()} 名学生，"
                      f"{school.homerooms.count()} 个班，当前学期 {term.name if term else '—'}")
        order = [u for u in TRY if u in ACCOUNTS] + [u for u in ACCOUNTS if u not in TRY]
        rows = [("账号", "角色", "先试试")] + [
            (u, ACCOUNTS[u].role, TRY.get(u, ACCOUNTS[u].sees)) for u in order]
        widths = [max(display_width(r[i]) for r in rows) for i in range(2)]
        out.write("")
        out.write(self.style.MIGRATE_HEADING(f"演示账号（密码均为 {password}）"))
        for i, (username, role, hint) in enumerate(rows):
            line = f"  {pad(username, widths[0])}  {pad(role, widths[1])}  {hint}"
            out.write(self.style.MIGRATE_LABEL(line) if i == 0 else line)
        out.write("")
        out.write(self.style.SUCCESS(f"打开 {url.rstrip('/')}/ ，用上面任一账号登录，"
                                     f"密码 {password}"))
