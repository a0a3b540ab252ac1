"""A city's oversight (R14): the district dashboard, the compliance workbook, and a per-student
sheet of a quarter of a million rows, on a synthetic city.

    .venv/bin/python bench/oversight.py [--schools 300] [--students 300000] [--rows 250000]
                                        [--keep]

Builds, in a database of its own next to the configured one (DATABASE_URL, or the embedded
PostgreSQL; created here, dropped at the end unless --keep), one district of N schools and M
pupils on roll, in bulk SQL: schools of 300 to 1,700 pupils, seven in ten serving 90% or more
of them and the rest 60% to 90%; one school in five a middle school with evening study (one in
four of those ending after 20:30); one in twenty ending at 17:00 and one in twenty with no fee
standard; a term begun eight weeks ago with each served pupil enrolled in the afternoon,
Monday to Friday (one in ten four days), one in a hundred withdrawn; priority applications,
refusals with their reasons; the term's charges and nine in ten paid; and last week's
attendance: a temporary class of 45 per school and weekday, a session each with its roll call
(about 95% present, 2% on leave, 3% absent), incidents and late pickups.

Then each measurement runs in a fresh process, so its peak memory is its own:
- the district dashboard (`GET /oversight/`) as district staff: time and queries, and the
  participation API's;
- the compliance workbook for the whole district, built by its Celery job;
- a per-student sheet of `--rows` rows (the enrolled pupils of the city's schools, one school
  after another, as the workbook's 学生明细 writes them), and, in the same run, bare
  xlsxwriter in constant_memory mode writing the same rows from the same query.

Targets (issue 13): the dashboard under 2 s for the whole city; the workbook under 10 s; the
per-student sheet within 1.2x of bare xlsxwriter, under 150 MiB peak.
"""

import datetime
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

import django  # noqa: E402

django.setup()

from django.db import connection, transaction  # noqa: E402

TAG = "BOV"
SEMESTER = "2026-2027学年第一学期"
PASSWORD = "bench-oversight-123"


def arg(name: str, default: int) -> int:
    args = sys.argv[1:]
    return int(args[args.index(name) + 1]) if name in args else default


def rss_mib() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def week_monday(today: datetime.date) -> datetime.date:
    """Monday of the last full week before today: the week of attendance."""
    return today - datetime.timedelta(days=today.weekday() + 7)


# --- The city, in bulk SQL ------------------------------------------------------------------------

def _sizes(schools: int, students: int) -> list[tuple[int, int]]:
    """Per school: pupils on roll and how many are served, deterministic."""
    raw = [300 + (i * 7919) % 1401 for i in range(schools)]
    scale = students / sum(raw)
    sizes = [max(50, round(r * scale)) for r in raw]
    sizes[-1] += students - sum(sizes)
    out = []
    for i, size in enumerate(sizes):
        share = (0.90 + 0.10 * ((i * 37) % 100) / 99 if i % 10 < 7
                 else 0.60 + 0.29 * ((i * 53) % 100) / 99)
        out.append((size, int(size * share)))
    return out


def build(schools: int, students: int) -> None:
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.utils import timezone

    from schools.models import District, Membership, Role

    started = time.perf_counter()
    call_command("migrate", verbosity=0)
    migrated = time.perf_counter() - started
    today = timezone.localdate()
    monday = week_monday(today)
    start, end = monday - datetime.timedelta(weeks=8), today + datetime.timedelta(days=60)
    sizes = _sizes(schools, students)
    with transaction.atomic():
        user = get_user_model().objects.create_user(f"{TAG.lower()}-district", password=PASSWORD,
                                                    display_name="区教育局")
        district = District.objects.create(name="城区教育局", code=f"{TAG}D")
        Membership.objects.create(user=user, role=Role.DISTRICT, district=district)
        p = {"district": district.pk, "user": user.pk, "tag": TAG, "start": start, "end": end,
             "monday": monday, "today": today, "semester": SEMESTER, "now": timezone.now(),
             "withdrawn_on": monday - datetime.timedelta(days=10)}
        with connection.cursor() as c:
            for label, sql in _statements(sizes):
                t = time.perf_counter()
                c.execute(sql, p)
                print(f"    {label}: {c.rowcount:,} rows ({time.perf_counter() - t:.1f} s)",
                      flush=True)
    with connection.cursor() as c:
        c.execute("ANALYZE")
    print(f"set-up: {schools} schools, {students:,} pupils, "
          f"{sum(s for _, s in sizes):,} served; migrate {migrated:.0f} s, "
          f"build {time.perf_counter() - started - migrated:.0f} s", flush=True)


def _statements(sizes: list[tuple[int, int]]) -> list[tuple[str, str]]:
    values = ", ".join(f"({i}, {size}, {served})" for i, (size, served) in enumerate(sizes))
    return [
        ("plan of the city", f"""
            CREATE TEMP TABLE bench_s AS
            SELECT v.i, v.size, v.served, v.i %% 5 = 4 AS middle,
                   v.i %% 20 <> 7 AS fee, v.i %% 20 = 3 AS early,
                   v.i %% 20 = 9 AS late_evening,
                   NULL::bigint AS id, NULL::bigint AS term_id, NULL::bigint AS plan_id,
                   NULL::bigint AS menu_id,
                   GREATEST(2, v.size / 14) AS teachers
            FROM (VALUES {values}) AS v(i, size, served)"""),
        ("schools", """
            INSERT INTO schools_school (name, code, stage, temp_class_cap, withdrawal_notice_days,
                latest_end_summer, latest_end_winter, summer_from_month, winter_from_month,
                fee_mode, fee_per_hour, fee_per_term, choices_per_slot, complaint_phone,
                complaint_email, district_id, leave_cutoff, allows_walk_home,
                pickup_grace_minutes, charges_unexplained_absences)
            SELECT '城区第' || (i + 1) || CASE WHEN middle THEN '中学' ELSE '小学' END,
                   %(tag)s || lpad(i::text, 4, '0'),
                   CASE WHEN middle THEN 'middle' ELSE 'primary' END, 45, 7,
                   '18:30', '18:00', 5, 10, 'per_hour', 2.00, 0, 3, '0000-0000000', '',
                   %(district)s, '12:00', false, 10, false
            FROM bench_s ORDER BY i"""),
        ("", """UPDATE bench_s b SET id = s.id FROM schools_school s
                WHERE s.code = %(tag)s || lpad(b.i::text, 4, '0')"""),
        ("grades", """
            INSERT INTO schools_grade (number, name, school_id)
            SELECT g, g || '年级', b.id FROM bench_s b, generate_series(1, 6) g"""),
        ("homerooms", """
            INSERT INTO schools_homeroom (name, grade_id, school_id)
            SELECT h || '班', gr.id, b.id FROM bench_s b
            JOIN schools_grade gr ON gr.school_id = b.id,
            generate_series(1, (b.size / 6) / 45 + 1) h"""),
        ("pupils", """
            INSERT INTO schools_student (student_no, name, gender, boarding, bus_rider,
                priority_categories, active, grade_id, homeroom_id, school_id)
            SELECT 'P' || lpad(k::text, 6, '0'),
                   (ARRAY['王','李','张','刘','陈','杨','黄','赵','周','吴'])[k %% 10 + 1]
                   || (ARRAY['小','子','雨','思','梓','一','欣','浩'])[k %% 8 + 1]
                   || (ARRAY['明','涵','轩','萱','宇','琪','然','晨','阳'])[k %% 9 + 1],
                   CASE WHEN k %% 2 = 0 THEN 'M' ELSE 'F' END,
                   b.middle AND k %% 50 = 7, false,
                   CASE WHEN k %% 33 = 5 THEN ARRAY['low_income']::varchar[]
                        ELSE ARRAY[]::varchar[] END,
                   k %% 200 <> 199, gr.id, hr.id, b.id
            FROM bench_s b CROSS JOIN LATERAL generate_series(0, b.size - 1) k
            JOIN schools_grade gr ON gr.school_id = b.id AND gr.number = k %% 6 + 1
            JOIN schools_homeroom hr ON hr.grade_id = gr.id
                 AND hr.name = ((k / 6) / 45 + 1) || '班'"""),
        ("staff", """
            INSERT INTO schools_staff (name, phone, kind, provider_name, active, school_id)
            SELECT '教师' || n, '', 'teacher', '', n %% 30 <> 29, b.id
            FROM bench_s b, generate_series(1, b.teachers) n
            UNION ALL
            SELECT '外聘' || n, '', 'provider', '少年宫', true, b.id
            FROM bench_s b, generate_series(1, 2) n"""),
        ("terms", """
            INSERT INTO schools_term (name, start, "end", excluded_weekdays, school_id)
            SELECT %(semester)s, %(start)s, %(end)s, '{}', id FROM bench_s"""),
        ("", "UPDATE bench_s b SET term_id = t.id FROM schools_term t WHERE t.school_id = b.id"),
        ("slots", """
            INSERT INTO schools_serviceslot (kind, weekday, start, "end", class_hours, term_id)
            SELECT 'afternoon', d, TIME '15:30',
                   CASE WHEN b.early THEN TIME '17:00' ELSE TIME '17:30' END,
                   2, b.term_id FROM bench_s b, generate_series(1, 5) d
            UNION ALL
            SELECT 'evening', d, TIME '18:30',
                   CASE WHEN b.late_evening THEN TIME '21:00' ELSE TIME '20:30' END,
                   2, b.term_id FROM bench_s b, generate_series(1, 5) d WHERE b.middle"""),
        ("term plans", """
            INSERT INTO enrollment_termplan (version, status, service_days, menu_outline,
                staffing, fee_standard, fee_settlement, withdrawal_rule, safety_measures,
                agreement_text, complaint_phone, complaint_email, applications_open,
                applications_close, slots_snapshot, created_at, published_at, published_by_id,
                term_id)
            SELECT 1, 'published', '周一至周五', '作业辅导与兴趣活动', '本校教师', '每课时 2 元',
                   '学期末多退少补', '提前 7 天申请', '点名、签到签退', '课后服务安全责任书',
                   '0000-0000000', '', %(start)s - 20, %(start)s - 5, '[]', %(now)s, %(now)s,
                   %(user)s, term_id FROM bench_s"""),
        ("", """UPDATE bench_s b SET plan_id = p.id FROM enrollment_termplan p
                WHERE p.term_id = b.term_id"""),
        ("fee standards", """
            INSERT INTO enrollment_feestandard (version, mode, rate, effective_from, approved_by,
                approval_ref, published_at, published_by_id, term_id)
            SELECT 1, 'per_hour', CASE WHEN i %% 40 = 11 THEN 3.00 ELSE 2.00 END, %(start)s,
                   '发展改革委', '价〔2026〕1号', %(now)s, %(user)s, term_id
            FROM bench_s WHERE fee"""),
        ("applications", """
            INSERT INTO enrollment_application (priority_claims, note, status, start_date,
                submitted_at, reviewed_at, decided_at, reason, is_priority, applicant_id,
                decided_by_id, reviewed_by_id, student_id, term_id, plan_id)
            SELECT st.priority_categories, '',
                   CASE WHEN st.rn <= b.served THEN 'approved' ELSE 'rejected' END,
                   %(start)s, %(now)s, %(now)s, %(now)s,
                   CASE WHEN st.rn <= b.served THEN '' ELSE '本学期名额已满，已列入候补' END,
                   cardinality(st.priority_categories) > 0, %(user)s, %(user)s, %(user)s,
                   st.id, b.term_id, b.plan_id
            FROM bench_s b
            JOIN (SELECT s.id, s.school_id, s.priority_categories,
                         row_number() OVER (PARTITION BY s.school_id ORDER BY s.id) AS rn
                  FROM schools_student s WHERE s.active AND NOT s.boarding) st
              ON st.school_id = b.id
            WHERE st.rn <= b.served OR st.rn %% 25 = 0"""),
        ("enrolments", """
            INSERT INTO enrollment_enrolment (start_date, end_date, status, created_at,
                application_id, student_id, term_id)
            SELECT %(start)s, CASE WHEN a.id %% 100 = 42 THEN %(withdrawn_on)s END,
                   CASE WHEN a.id %% 100 = 42 THEN 'ended' ELSE 'active' END, %(now)s,
                   a.id, a.student_id, a.term_id
            FROM enrollment_application a JOIN bench_s b ON b.term_id = a.term_id
            WHERE a.status = 'approved'"""),
        ("withdrawals", """
            INSERT INTO enrollment_withdrawal (requested_at, effective_date, reason, status,
                decided_at, decision_reason, decided_by_id, enrolment_id, requested_by_id)
            SELECT %(now)s, e.end_date, '家庭原因', 'approved', %(now)s, '', %(user)s, e.id,
                   %(user)s
            FROM enrollment_enrolment e JOIN bench_s b ON b.term_id = e.term_id
            WHERE e.status = 'ended'"""),
        ("enrolment slots", """
            INSERT INTO enrollment_enrolment_slots (enrolment_id, serviceslot_id)
            SELECT e.id, sl.id FROM enrollment_enrolment e
            JOIN bench_s b ON b.term_id = e.term_id
            JOIN schools_serviceslot sl ON sl.term_id = e.term_id AND sl.kind = 'afternoon'
            WHERE e.student_id %% 10 <> 3 OR sl.weekday <> 5"""),
        ("menus", """
            INSERT INTO scheduling_menu (week, status, choice_deadline, version, published_at,
                acknowledged_warnings, created_at, created_by_id, published_by_id, school_id,
                term_id)
            SELECT %(monday)s, 'allocated', %(now)s, 1, %(now)s, '[]', %(now)s, %(user)s,
                   %(user)s, id, term_id FROM bench_s"""),
        ("", """UPDATE bench_s b SET menu_id = m.id FROM scheduling_menu m
                WHERE m.school_id = b.id"""),
        ("temporary classes", """
            INSERT INTO scheduling_temporaryclass (kind, name, capacity, room, start, "end",
                head_teacher_id, item_id, menu_id, slot_id, grade)
            SELECT 'study_hall', '托管' || (c + 1) || '班', 45, '', sl.start, sl."end",
                   (SELECT st.id FROM schools_staff st WHERE st.school_id = b.id
                    AND st.kind = 'teacher' ORDER BY st.id
                    OFFSET (c + sl.weekday) %% b.teachers LIMIT 1),
                   NULL, b.menu_id, sl.id, NULL
            FROM bench_s b JOIN schools_serviceslot sl
              ON sl.term_id = b.term_id AND sl.kind = 'afternoon',
            generate_series(0, (SELECT count(*) FROM enrollment_enrolment e
                                WHERE e.term_id = b.term_id) / 45) c"""),
        ("sessions", """
            INSERT INTO attendance_classsession (date, start, "end", substitute, roll_called_at,
                created_at, school_id, slot_id, teacher_id, temporary_class_id, term_id)
            SELECT %(monday)s + sl.weekday - 1, tc.start, tc."end", false,
                   (%(monday)s + sl.weekday - 1 + tc.start) AT TIME ZONE 'Asia/Shanghai'
                   + interval '5 minutes', %(now)s, b.id, sl.id, tc.head_teacher_id, tc.id,
                   b.term_id
            FROM scheduling_temporaryclass tc JOIN bench_s b ON b.menu_id = tc.menu_id
            JOIN schools_serviceslot sl ON sl.id = tc.slot_id"""),
        ("roll-call marks", """
            INSERT INTO attendance_mark (client_id, occurred_at, received_at, status,
                correction, marked_by_id, session_id, student_id)
            SELECT gen_random_uuid(), cs.roll_called_at, cs.roll_called_at,
                   CASE WHEN h < 2 THEN 'leave' WHEN h < 5 THEN 'absent' WHEN h = 5 THEN 'late'
                        ELSE 'present' END, false, %(user)s, cs.id, x.student_id
            FROM (SELECT e.student_id, e.term_id, e.end_date, es.serviceslot_id,
                         (row_number() OVER (PARTITION BY e.term_id ORDER BY e.id) - 1) / 45
                         AS c
                  FROM enrollment_enrolment e
                  JOIN enrollment_enrolment_slots es ON es.enrolment_id = e.id) x
            JOIN scheduling_temporaryclass tc ON tc.slot_id = x.serviceslot_id
             AND tc.name = '托管' || (x.c + 1) || '班'
            JOIN attendance_classsession cs ON cs.temporary_class_id = tc.id
            CROSS JOIN LATERAL (SELECT (x.student_id * 31 + (cs.date - DATE '2000-01-03'))
                                       %% 100 AS h) hash
            WHERE x.end_date IS NULL OR x.end_date >= cs.date"""),
        ("leave", """
            INSERT INTO enrollment_leave (date, reason, reported_at, enrolment_id,
                reported_by_id, slot_id, student_id, late)
            SELECT cs.date, '病假', %(now)s, e.id, %(user)s, cs.slot_id, m.student_id, false
            FROM attendance_mark m JOIN attendance_classsession cs ON cs.id = m.session_id
            JOIN enrollment_enrolment e ON e.student_id = m.student_id
             AND e.term_id = cs.term_id
            WHERE m.status = 'leave'"""),
        ("incidents", """
            INSERT INTO attendance_incident (client_id, occurred_at, received_at, kind, note,
                acknowledged_at, resolved_at, resolution, acknowledged_by_id, reported_by_id,
                resolved_by_id, session_id, student_id)
            SELECT gen_random_uuid(), m.occurred_at, m.occurred_at, 'unwell', '头疼', NULL,
                   m.occurred_at, 'collected', NULL, %(user)s, %(user)s, m.session_id,
                   m.student_id
            FROM attendance_mark m WHERE m.status = 'present' AND m.student_id %% 997 = 5"""),
        ("late pickups", """
            INSERT INTO attendance_latepickup (step, at, session_id, student_id)
            SELECT 1, m.occurred_at + interval '2 hours', m.session_id, m.student_id
            FROM attendance_mark m WHERE m.status = 'present' AND m.student_id %% 499 = 3"""),
        # The ledger's balance checks are deferred triggers that run once per entry and line
        # at commit; every entry below is balanced by construction, so they are switched off
        # for these statements (as a restore of a dump does) rather than run a million times.
        ("", "SET session_replication_role = replica"),
        ("charge entries", """
            INSERT INTO billing_journalentry (year, number, date, kind, source, memo,
                posted_at, posted_by_id, reverses_id, school_id, term_id)
            SELECT extract(year FROM %(start)s::date),
                   row_number() OVER (PARTITION BY b.id ORDER BY e.id), %(start)s, 'charge',
                   'bench-charge:' || e.id, '学期服务费', %(now)s, %(user)s, NULL, b.id,
                   b.term_id
            FROM enrollment_enrolment e JOIN bench_s b ON b.term_id = e.term_id
            WHERE b.fee"""),
        ("charges", """
            INSERT INTO billing_charge (kind, amount, basis, created_at, enrolment_id,
                student_id, term_id, entry_id)
            SELECT 'prepay', 340.00, '{}', %(now)s, e.id, e.student_id, e.term_id, j.id
            FROM enrollment_enrolment e
            JOIN billing_journalentry j ON j.source = 'bench-charge:' || e.id"""),
        ("payment entries", """
            INSERT INTO billing_journalentry (year, number, date, kind, source, memo,
                posted_at, posted_by_id, reverses_id, school_id, term_id)
            SELECT extract(year FROM %(start)s::date),
                   1000000 + row_number() OVER (PARTITION BY b.id ORDER BY c.id), %(start)s,
                   'payment', 'bench-payment:' || c.id, '收课后服务费', %(now)s, %(user)s,
                   NULL, b.id, b.term_id
            FROM billing_charge c JOIN bench_s b ON b.term_id = c.term_id
            WHERE c.id %% 10 <> 0"""),
        ("payments", """
            INSERT INTO billing_payment (kind, amount, method, reference, receipt_year,
                receipt_number, reason, fiscal_code, fiscal_number, received_at, entry_id,
                received_by_id, school_id, student_id, term_id, voids_id)
            SELECT 'payment', c.amount, 'wechat', 'W' || c.id, j.year, j.number - 1000000,
                   '', '', '', %(now)s, j.id, %(user)s, j.school_id, c.student_id, c.term_id,
                   NULL
            FROM billing_charge c
            JOIN billing_journalentry j ON j.source = 'bench-payment:' || c.id"""),
        ("journal lines", """
            INSERT INTO billing_journalline (account, debit, credit, entry_id, student_id)
            SELECT '1221', c.amount, 0, c.entry_id, c.student_id FROM billing_charge c
            UNION ALL
            SELECT '2203', 0, c.amount, c.entry_id, NULL FROM billing_charge c
            UNION ALL
            SELECT '1012', p.amount, 0, p.entry_id, NULL FROM billing_payment p
            UNION ALL
            SELECT '1221', 0, p.amount, p.entry_id, p.student_id FROM billing_payment p"""),
        ("", "SET session_replication_role = DEFAULT"),
    ]


# --- Measurements, each in its own process --------------------------------------------------------

def officer():
    from django.contrib.auth import get_user_model
    return get_user_model().objects.get(username=f"{TAG.lower()}-district")


def dashboard() -> None:
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(officer())
    for label, url in (("dashboard GET /oversight/", "/oversight/"),
                       ("API GET /api/v1/oversight/participation/",
                        "/api/v1/oversight/participation/")):
        times, queries = [], 0
        for run in range(6):
            with CaptureQueriesContext(connection) as captured:
                start = time.perf_counter()
                response = client.get(url)
                elapsed = time.perf_counter() - start
            assert response.status_code == 200, response.status_code
            if run:  # the first warms the process's caches
                times.append(elapsed)
            queries = len(captured)
        print(f"{label}: median {statistics.median(times):.2f} s, max {max(times):.2f} s "
              f"(5 runs after one warm-up), {queries} queries, {len(response.content):,} bytes",
              flush=True)


def workbook() -> None:
    from django.utils import timezone

    from oversight.models import Workbook
    from oversight.tasks import build_workbook
    from schools.models import District

    user = officer()
    before = rss_mib()
    w = Workbook.objects.create(district=District.objects.get(code=f"{TAG}D"),
                                semester=SEMESTER, as_of=timezone.localdate(),
                                requested_by=user)
    start = time.perf_counter()
    status = build_workbook.apply(args=[w.pk]).get()
    elapsed = time.perf_counter() - start
    w.refresh_from_db()
    print(f"compliance workbook (whole district, Celery job): {elapsed:.2f} s, {status}, "
          f"{len(w.content):,} bytes, rows {w.rows}; peak memory {peak_mib():.0f} MiB "
          f"(process at start {before:.0f} MiB)", flush=True)


def _pupil_rows(limit: int):
    """The city's enrolled pupils, school after school, as the 学生明细 sheet reads them."""
    import itertools

    from django.utils import timezone

    from enrollment.selectors import enrolled_pupils
    from schools.models import School

    today = timezone.localdate()
    ids = School.objects.filter(code__startswith=TAG).order_by("code").values_list(
        "pk", flat=True)
    return itertools.islice(itertools.chain.from_iterable(
        enrolled_pupils(pk, today) for pk in ids), limit)


def sheet(writer: str, rows: int) -> None:
    from io import BytesIO

    import xlsxwriter

    from oversight.workbooks import PUPIL_HEADERS, mask, pupils_table
    from schools.tables import tables_xlsx

    before = rss_mib()
    start = time.perf_counter()
    if writer == "ours":
        content = tables_xlsx([pupils_table(_pupil_rows(rows))])
    else:
        buffer = BytesIO()
        book = xlsxwriter.Workbook(buffer, {"constant_memory": True, "in_memory": False})
        ws = book.add_worksheet("学生明细")
        ws.write_row(0, 0, [str(h) for h in PUPIL_HEADERS])
        for r, row in enumerate(_pupil_rows(rows), start=1):
            ws.write_row(r, 0, [mask(row["name"]), row["grade"], row["homeroom"],
                                row["weekdays"], row["start"].isoformat(),
                                row["end"].isoformat() if row["end"] else ""])
        book.close()
        content = buffer.getvalue()
    elapsed = time.perf_counter() - start
    print(f"SHEET {writer} {elapsed:.3f} {peak_mib():.1f} {before:.1f} {len(content)}",
          flush=True)


# --- The run --------------------------------------------------------------------------------------

def child(step: str, url: str, *extra: str) -> str:
    env = {**os.environ, "DATABASE_URL": url}
    env.pop("DATABASE_REPLICA_URL", None)
    done = subprocess.run([sys.executable, __file__, "--step", step, *extra], env=env,
                          capture_output=True, text=True, cwd=ROOT)
    if done.returncode:
        sys.stderr.write(done.stdout + done.stderr)
        raise SystemExit(f"step {step} failed")
    return done.stdout


def main() -> None:
    import psycopg2

    settings = connection.settings_dict
    name = f"{settings['NAME']}_oversight"
    auth = settings["USER"] + (f":{settings['PASSWORD']}" if settings.get("PASSWORD") else "")
    host = settings.get("HOST") or "127.0.0.1"
    url = f"postgres://{auth}@{host}:{settings.get('PORT') or 5432}/{name}"
    admin = {"dbname": "postgres", "user": settings["USER"], "host": host,
             "port": settings.get("PORT") or 5432}
    if settings.get("PASSWORD"):
        admin["password"] = settings["PASSWORD"]
    connection.close()
    schools, students, rows = arg("--schools", 300), arg("--students", 300_000), arg("--rows",
                                                                                      250_000)

    def admin_sql(*statements: str) -> None:
        db = psycopg2.connect(**admin)
        db.autocommit = True
        with db.cursor() as cursor:
            for sql in statements:
                cursor.execute(sql)
        db.close()

    admin_sql(f'DROP DATABASE IF EXISTS "{name}"', f'CREATE DATABASE "{name}"')
    try:
        print(child("build", url, "--schools", str(schools), "--students", str(students)),
              end="", flush=True)
        print(child("dashboard", url), end="", flush=True)
        print(child("workbook", url), end="", flush=True)
        figures = {}
        for writer in ("bare", "ours", "bare", "ours"):  # each twice, alternating
            out = child("sheet", url, "--writer", writer, "--rows", str(rows))
            line = next(x for x in out.splitlines() if x.startswith("SHEET "))
            _tag, who, secs, peak, base, size = line.split()
            figures.setdefault(who, []).append((float(secs), float(peak), float(base),
                                                int(size)))
        names = {"bare": "bare xlsxwriter constant_memory", "ours": "the workbook's writer"}
        for who in ("bare", "ours"):
            best = min(figures[who])
            print(f"per-student sheet, {rows:,} rows, {names[who]}: "
                  f"{best[0]:.2f} s (best of 2), peak {max(f[1] for f in figures[who]):.0f} MiB "
                  f"(process before {best[2]:.0f} MiB), {best[3]:,} bytes")
        ratio = min(figures["ours"])[0] / min(figures["bare"])[0]
        print(f"sheet ratio (ours / bare): {ratio:.2f}")
    finally:
        if "--keep" not in sys.argv:
            admin_sql(f'DROP DATABASE IF EXISTS "{name}"')
            print("bench database dropped")
        else:
            print(f"bench database kept: {name}")


if __name__ == "__main__":
    step = sys.argv[sys.argv.index("--step") + 1] if "--step" in sys.argv else None
    if step == "build":
        build(arg("--schools", 300), arg("--students", 300_000))
    elif step == "dashboard":
        dashboard()
    elif step == "workbook":
        workbook()
    elif step == "sheet":
        sheet(sys.argv[sys.argv.index("--writer") + 1], arg("--rows", 250_000))
    else:
        main()
