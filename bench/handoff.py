"""The 16:30 rush: handoffs from eight tablets at once, against a bare insert.

    .venv/bin/python bench/handoff.py [--rounds 5] [--seconds 6] [--children 1500]

Builds a school of its own in the configured database (DATABASE_URL, or the embedded
PostgreSQL): `--children` pupils enrolled in the noon and afternoon slots of this week, seated
in temporary classes of 45, one session per class, every session served by one teacher with an
API token. Starts the app under gunicorn (2 sync workers, DEBUG off) with the benchmark's own
URL configuration (bench/server/urls.py), which adds a bare DRF endpoint that inserts one row
and nothing else. Then drives each endpoint with wrk (Debian's package) from 8 connections, each
a tablet:

- bare: POST /bench/bare/ — token authentication and one INSERT;
- handoff: POST /api/v1/sessions/{id}/handoffs/ — each request a different child, released by
  the child's pickup code: authentication, scoping to the teacher's session, the authorisation
  check, the client_id claim, the insert, the audit row and the guardian's notice.

The two alternate, `--rounds` times `--seconds` each, so that a machine whose speed drifts during
the run (a shared host) weighs on both alike: each round's ratio compares two runs made a few
seconds apart. Prints each round, then requests/s, p50 and p99 of each endpoint (the median of
the rounds, and the worst p99) and `ratio: X`, the median of the rounds' ratios (handoff
requests/s over bare). The target is a ratio of at least 0.5 with the handoff's p99 under 50 ms.

It needs REDIS_URL, as production does (config/settings/production.py refuses to start
without it): the outbox's SMS and e-mail rows are then published to their lane in Redis after the
commit. Without it Celery runs each task inside the request (the demo's eager mode), which
production never does. (A release's notice to the guardians is in-app only: it is delivered by
being written and publishes nothing; a refusal's alerts go by SMS too.)

The set-up ends with ANALYZE, as autovacuum would have long before a real 16:30: tables written
a second ago are planned from stale figures (a sequential scan of the guardians for one child).

With DATABASE_URL set it works in a database of its own beside that one (`<name>_handoff`,
created and migrated afresh, dropped at the end): handoffs and audit rows are append-only, so
they are not deleted one by one. On the embedded default it uses that database and leaves its
school (code `BH<pid>`) there.
"""

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from statistics import median

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
TAG = f"BH{os.getpid()}"
CAP = 45


def arg(name: str, default: int) -> int:
    args = sys.argv[1:]
    return int(args[args.index(name) + 1]) if name in args else default


def build_school(n: int):
    """The school, its sessions of this week and the teacher's token; returns (token, pairs)
    where pairs are (session id, student id, that day's pickup code)."""
    from django.db import transaction
    from django.utils import timezone
    from rest_framework.authtoken.models import Token

    from attendance.models import ClassSession
    from attendance.pickup import daily_code
    from enrollment.models import Application, Enrolment, TermPlan
    from scheduling.events import classes_created
    from scheduling.models import Menu, Placement, TemporaryClass
    from schools.models import Role, Staff
    from schools.selectors import monday_of
    from tests.factories import UserFactory, grant, school_with_pupils

    today = timezone.localdate()
    with transaction.atomic():
        pupils = school_with_pupils(n, tag=TAG, grades=[3], homerooms_per_grade=n // 45 + 1,
                                    phone_prefix=f"7{os.getpid() % 100000:05d}",
                                    temp_class_cap=CAP)
        school, term, principal = pupils.school, pupils.term, pupils.principal
        user = UserFactory(username=f"{TAG}-teacher", display_name="压测老师")
        grant(user, Role.TEACHER, school=school)
        teacher = Staff.objects.create(school=school, user=user, name="压测老师")
        token = Token.objects.create(user=user).key
        plan = TermPlan.objects.create(term=term, status="published", version=1,
                                       complaint_phone="0000", published_by=principal,
                                       published_at=timezone.now())
        now = timezone.now()
        apps = Application.objects.bulk_create([
            Application(term=term, student=s, applicant=u, plan=plan, submitted_at=now,
                        status="approved") for s, u in zip(pupils.students, pupils.users,
                                                           strict=True)])
        enrolments = Enrolment.objects.bulk_create([
            Enrolment(term=term, student=s, application=a, start_date=term.start)
            for s, a in zip(pupils.students, apps, strict=True)])
        Enrolment.slots.through.objects.bulk_create([
            Enrolment.slots.through(enrolment_id=e.pk, serviceslot_id=slot.pk)
            for e in enrolments for slot in pupils.slots])
        menu = Menu.objects.create(school=school, term=term, week=monday_of(today),
                                   status=Menu.Status.ALLOCATED, version=1,
                                   created_by=principal, choice_deadline=now)
        classes, members = [], []
        for slot in pupils.slots:
            for i in range(0, n, CAP):
                classes.append(TemporaryClass(
                    menu=menu, slot=slot, kind=TemporaryClass.Kind.STUDY_HALL, grade=3,
                    name=f"{slot}·{i // CAP + 1}班", capacity=CAP, head_teacher=teacher,
                    start=slot.start, end=slot.end))
                members.append(pupils.students[i:i + CAP])
        classes = TemporaryClass.objects.bulk_create(classes)
        Placement.objects.bulk_create([
            Placement(temporary_class=cls, menu=menu, slot_id=cls.slot_id, student=s)
            for cls, group in zip(classes, members, strict=True) for s in group])
        # As an allocation's commit announces them: attendance makes their sessions.
        classes_created.send(sender=TemporaryClass, menu=menu, classes=classes)
        sessions = list(ClassSession.objects.filter(temporary_class__menu=menu))
    by_class = {cls.pk: group for cls, group in zip(classes, members, strict=True)}
    pairs = [(s.pk, child.pk, daily_code(child.pk, s.date))
             for s in sessions for child in by_class[s.temporary_class_id]]
    return token, pairs


LUA = """
local pairs_ = {PAIRS}
local token = "{TOKEN}"
local kind = "{KIND}"
local offset = {OFFSET}
local counter = 0
local threads = {}
function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end
function init(args)
  math.randomseed(os.time() + id * 7919)
end
local function uuid()
  local t = "xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx"
  return (string.gsub(t, "[xy]", function(c)
    local v = (c == "x") and math.random(0, 15) or math.random(8, 11)
    return string.format("%x", v)
  end))
end
request = function()
  local headers = {["Authorization"] = "Token " .. token,
                   ["Content-Type"] = "application/json", ["Host"] = "127.0.0.1"}
  if kind == "bare" then
    return wrk.format("POST", "/bench/bare/", headers, "{}")
  end
  counter = counter + 1
  local i = offset + (counter - 1) * {THREADS} + id + 1
  local p = pairs_[((i - 1) % #pairs_) + 1]
  local body = string.format(
    '{"student": %d, "released_to": "guardian", "pickup_code": "%s", "client_id": "%s"}',
    p[2], p[3], uuid())
  return wrk.format("POST", "/api/v1/sessions/" .. p[1] .. "/handoffs/", headers, body)
end
done = function(summary, latency, requests)
  io.write(string.format("JSON {\\"requests\\": %d, \\"seconds\\": %f, \\"p50\\": %f, " ..
    "\\"p99\\": %f, \\"non2xx\\": %d}\\n", summary.requests, summary.duration / 1e6,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, summary.errors.status))
end
"""


def scratch_database():
    """Point DATABASE_URL at a fresh, migrated database of the benchmark's own; return the
    function that drops it (None on the embedded default)."""
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        return None
    base, _sep, name = url.rpartition("/")
    scratch = f"{name.split('?')[0]}_handoff"
    admin = f"{base}/postgres"

    def psql(sql):
        subprocess.run(["psql", admin, "-q", "-c", sql], check=True,
                       stdout=subprocess.DEVNULL)

    psql(f'DROP DATABASE IF EXISTS "{scratch}"')
    psql(f'CREATE DATABASE "{scratch}"')
    os.environ["DATABASE_URL"] = f"{base}/{scratch}"
    subprocess.run([sys.executable, "manage.py", "migrate", "--no-input", "-v", "0"], cwd=ROOT,
                   check=True, env=os.environ.copy())
    return lambda: psql(f'DROP DATABASE IF EXISTS "{scratch}"')


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run_wrk(port: int, kind: str, token: str, pairs, seconds: int, threads: int,
            offset: int = 0) -> dict:
    """One run of wrk; a handoff run releases the children from `offset` on in `pairs`."""
    lua = (LUA.replace("{PAIRS}", "{" + ",".join(f'{{{s},{c},"{code}"}}'
                                                   for s, c, code in pairs) + "}")
           .replace("{TOKEN}", token).replace("{KIND}", kind)
           .replace("{THREADS}", str(threads)).replace("{OFFSET}", str(offset)))
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as f:
        f.write(lua)
    out = subprocess.run(["wrk", "-t", str(threads), "-c", "8", "-d", f"{seconds}s",
                          "--timeout", "5s", "-s", f.name, f"http://127.0.0.1:{port}"],
                         capture_output=True, text=True, check=True).stdout
    os.unlink(f.name)
    found = re.search(r"^JSON (.*)$", out, re.M)
    if not found:
        sys.exit(f"wrk printed no summary:\n{out}")
    result = json.loads(found.group(1))
    result["rps"] = result["requests"] / result["seconds"]
    return result


def main() -> None:
    if not shutil.which("wrk"):
        sys.exit("bench/handoff.py needs wrk (apt-get install wrk)")
    if not os.environ.get("REDIS_URL"):
        sys.exit("bench/handoff.py needs REDIS_URL, as production does: without it Celery runs "
                 "tasks inside the request")
    n_rounds = arg("--rounds", 5)
    seconds = arg("--seconds", 6)
    n = arg("--children", 1500)

    scratch = scratch_database()
    import django

    django.setup()
    from django.db import connection

    started = time.perf_counter()
    token, pairs = build_school(n)
    built = time.perf_counter()
    # The application's tables only: ANALYZE of the whole database takes in the catalogs shared
    # by every database on the server, and waits for whoever else is analysing them.
    tables = connection.introspection.django_table_names(only_existing=True)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE " + ", ".join(connection.ops.quote_name(t) for t in tables))
    print(f"set-up: {n} children, {len(pairs):,} (session, child) pairs in "
          f"{built - started:.1f} s, ANALYZE {time.perf_counter() - built:.1f} s")
    port = free_port()
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "bench.server.settings"}
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "config.wsgi", "-w", "2", "-k", "sync",
         "-b", f"127.0.0.1:{port}", "--log-level", "warning"],
        cwd=ROOT, env=env, start_new_session=True)
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.1)
        threads = 2
        run_wrk(port, "bare", token, pairs, 3, threads)  # warm both workers
        rounds, released = [], 0
        for number in range(1, n_rounds + 1):
            bare = run_wrk(port, "bare", token, pairs, seconds, threads)
            handoff = run_wrk(port, "handoff", token, pairs, seconds, threads, released)
            # Requests still on their way when wrk stops are not counted: leave them a margin.
            released += handoff["requests"] + 2 * 8
            rounds.append((bare, handoff))
            print(f"round {number}: bare {bare['rps']:6.1f}/s p99 {bare['p99']:5.1f} ms · "
                  f"handoff {handoff['rps']:6.1f}/s p99 {handoff['p99']:5.1f} ms · "
                  f"ratio {handoff['rps'] / bare['rps']:.2f}")
        for name, runs in (("bare insert", [b for b, _h in rounds]),
                           ("handoff", [h for _b, h in rounds])):
            print(f"{name:12} {median(r['rps'] for r in runs):8.1f} requests/s  "
                  f"p50 {median(r['p50'] for r in runs):6.1f} ms  "
                  f"p99 {median(r['p99'] for r in runs):6.1f} ms "
                  f"(worst {max(r['p99'] for r in runs):.1f})  "
                  f"({sum(r['requests'] for r in runs):,} requests, "
                  f"{sum(r['non2xx'] for r in runs)} not 2xx)")
        if released > len(pairs):
            print(f"note: {released - len(pairs):,} handoffs repeated a child already released "
                  "(answered 200 or 409): raise --children")
        ratios = [h["rps"] / b["rps"] for b, h in rounds]
        print(f"ratio: {median(ratios):.2f} (rounds {min(ratios):.2f}–{max(ratios):.2f}; "
              "target ≥ 0.5, handoff p99 < 50 ms)")
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(20)
        if scratch:
            from django.db import connections

            connections.close_all()
            scratch()


if __name__ == "__main__":
    main()
