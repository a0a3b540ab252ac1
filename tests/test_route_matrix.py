"""Every route of the project × every role of the cast × an object inside and one outside the
role's scope: the status each answers, written out by hand from DESIGN.md's scoping rules
(guardian → own children; homeroom teacher → own class; serving teacher → the temporary classes
they head; principal and finance → own school; district officer → own district; outside scope
is 404; an anonymous page redirects to the login, an anonymous API call is refused).

A route added to the URLconf without an entry here fails `test_every_route_is_in_the_matrix`;
an entry whose route is gone fails it too.

Reading an entry: `get(args, scope, cells)` — a GET with the URL's arguments taken, in order,
from the world's objects named in `args`; `post(...)` the same with a POST of `body` (chosen so
that nothing changes: an empty or refused input, so that 404 out of scope stands against the
400/409 the same call gets in scope). `cells` maps roles (space-separated; "*" for every role
not named) to one status, or "own/other": the status with the role's own object, then with one
outside its scope. Which objects those are, per role, is `SCOPES[scope]`."""

import datetime
import re
import types
import uuid
from decimal import Decimal
from typing import NamedTuple

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.shortcuts import resolve_url
from django.test import Client, override_settings
from django.urls import URLPattern, URLResolver, get_resolver, path
from django.utils import timezone

from attendance import services as attendance
from attendance.models import ClassSession, Handoff, Incident
from attendance.pickup import daily_code
from billing import services as billing
from billing import settlement
from billing.models import Payment
from enrollment import services as enrollment
from notifications.models import Notification
from notifications.services import notify
from oversight.models import Workbook
from scheduling import services as scheduling
from scheduling.models import Menu, Placement, TemporaryClass
from schools.models import Role, RosterImport, ServiceSlot, Staff
from tests import factories as f
from tests.enrollment.conftest import plan  # noqa: F401

ROLES = ("anon", "parent", "parent2", "homeroom", "homeroom2", "teacher", "principal",
         "principal2", "finance", "officer", "officer2")
CAST_ATTR = {"homeroom": "homeroom_teacher", "homeroom2": "homeroom_teacher2"}

# Which world objects stand for "own" and "other", per role. A: the parent's child in homeroom 1
# (whose temporary class the serving teacher heads); A2: parent2's child in homeroom 2, same
# school; B: the other school of the district; C: the school of the other district.
_CHILD = {"anon": "A A2", "parent": "A A2", "parent2": "A2 A", "homeroom": "A A2",
          "homeroom2": "A2 A", "teacher": "A A2", "principal": "A B", "principal2": "B A",
          "finance": "A B", "officer": "A C", "officer2": "C A"}
SCOPES = {
    # One child's things (the student, their application, enrolment, class, placement).
    "child": _CHILD,
    # A school's things (term, plan, menu, roster import): guardians and staff of school A see
    # them all, so "other" is another school.
    "school": {**{r: "A B" for r in ROLES}, "principal2": "B A", "officer": "A C",
               "officer2": "C A"},
    # The parent's two children sit in homerooms 1 and 2.
    "homeroom": {**_CHILD, "parent": "A B"},
    # Guardian A has a child in homeroom 2 as well.
    "guardian": {**_CHILD, "homeroom2": "A2 B"},
    # Each user's own notification against another user's.
    "self": {**{r: f"{r} parent" for r in ROLES}, "anon": "parent parent2",
             "parent": "parent parent2"},
}


class Route(NamedTuple):
    method: str
    scope: str
    args: tuple[str, ...]
    cells: dict
    query: dict
    body: dict | None


def get(args: str, scope: str, cells: dict, query: dict | None = None) -> Route:
    return Route("GET", scope, tuple(args.split()), cells, query or {}, None)


def post(args: str, scope: str, cells: dict, body: dict | None = None) -> Route:
    return Route("POST", scope, tuple(args.split()), cells, {}, body or {})


def everyone(status) -> Route:
    return get("", "school", {"*": status})


def signed_in(anon: int, status: int = 200) -> Route:
    return get("", "school", {"anon": anon, "*": status})


PRINCIPALS = "principal principal2"
PARENTS = "parent parent2"
HOMEROOMS = "homeroom homeroom2"
PAGE = 302  # an anonymous page: to the login
API = 401  # an anonymous API call (token authentication first: 401 with WWW-Authenticate)

MATRIX: dict[str, Route] = {
    # --- pages -----------------------------------------------------------------------------
    "": signed_in(PAGE),
    "roster/students/<int:pk>/": get("student", "child", {"anon": PAGE, "*": "200/404"}),
    "roster/homerooms/": signed_in(PAGE),
    "roster/homerooms/<int:pk>/": get("homeroom", "homeroom",
                                      {"anon": PAGE, "teacher": 404, "*": "200/404"}),
    "roster/import/": get("", "school", {"anon": PAGE, PRINCIPALS: "200/404", "*": 404},
                          query={"school": "school"}),
    # A failed import confirmed again is refused (409) and imports nothing.
    "roster/import/<int:pk>/confirm/": post("import", "school",
                                            {"anon": PAGE, PRINCIPALS: "409/404", "*": 404}),
    "roster/import/template.xlsx": get("", "school", {"anon": PAGE, PRINCIPALS: 200, "*": 404}),
    "roster/import/export.xlsx": get("", "school",
                                     {"anon": PAGE, PRINCIPALS: "200/404", "*": 404},
                                     query={"school": "school"}),
    "notifications/": signed_in(PAGE),
    "notifications/read/": signed_in(PAGE, 405),
    # The school's principal and office: their school's undelivered alerts and failures.
    "notifications/deliveries/": get("", "school", {"anon": PAGE, PRINCIPALS: 200, "*": 404}),
    # For load balancers: no sign-in, no personal data.
    "healthz": get("", "school", {"*": 200}),
    # Staff without children go to their queue; roles without one have no such page.
    "enrollment/": get("", "school", {"anon": PAGE, PARENTS: 200,
                                      f"{HOMEROOMS} {PRINCIPALS}": 302, "*": 404}),
    "enrollment/terms/<int:term_id>/plan/": get("term", "school", {"anon": PAGE, "*": "200/404"}),
    "enrollment/terms/<int:term_id>/plan/edit/": get(
        "term", "school", {"anon": PAGE, PRINCIPALS: "200/404", "*": 404}),
    "enrollment/terms/<int:term_id>/apply/<int:student_id>/": get(
        "term student", "child", {"anon": PAGE, PARENTS: "200/404", "*": 404}),
    "enrollment/terms/<int:term_id>/survey/<int:student_id>/": get(
        "term student", "child", {"anon": PAGE, PARENTS: "200/404", "*": 404}),
    "enrollment/applications/<int:pk>/": get(
        "application", "child",
        {"anon": PAGE, "teacher finance officer officer2": "404/404", "*": "200/404"}),
    "enrollment/applications/<int:pk>/agreement/": get(
        "application", "child",
        {"anon": PAGE, "teacher finance officer officer2": "404/404", "*": "200/404"}),
    "enrollment/applications/<int:pk>/resubmit/": get(
        "application", "child", {"anon": PAGE, PARENTS: "200/404", "*": 404}),
    # The applications are approved: cancelling one is refused with a message, nothing changes.
    "enrollment/applications/<int:pk>/cancel/": post(
        "application", "child", {"anon": PAGE, PARENTS: "302/404", "*": 404}),
    "enrollment/applications/<int:pk>/review/": post(
        "application", "child", {"anon": PAGE, HOMEROOMS: "302/404", "*": 404}),
    "enrollment/applications/<int:pk>/decide/": post(
        "application", "child", {"anon": PAGE, PRINCIPALS: "302/404", "*": 404}),
    # A child's evidence file, to the readers of its application only.
    "enrollment/evidence/<int:pk>/": get(
        "evidence", "child",
        {"anon": PAGE, "teacher finance officer officer2": "404/404", "*": "200/404"}),
    "enrollment/review/": get("", "school", {"anon": PAGE, HOMEROOMS: 200, "*": 404}),
    "enrollment/decide/": get("", "school", {"anon": PAGE, PRINCIPALS: 200, "*": 404}),
    "enrollment/enrolments/<int:pk>/leave/": get(
        "enrolment", "child", {"anon": PAGE, PARENTS: "200/404", "*": 404}),
    # A guardian's list of their own children's leave; cancelling one before its day.
    "enrollment/leave/": signed_in(PAGE),
    "enrollment/leave/<int:pk>/cancel/": post(
        "leave", "child", {"anon": PAGE, PARENTS: "302/404", "*": 404}),
    "enrollment/enrolments/<int:pk>/withdraw/": get(
        "enrolment", "child", {"anon": PAGE, PARENTS: "200/404", "*": 404}),
    # No decision and no reason: refused with a message.
    "enrollment/withdrawals/<int:pk>/decide/": post(
        "withdrawal", "child", {"anon": PAGE, PRINCIPALS: "302/404", "*": 404}),
    "scheduling/menus/": signed_in(PAGE),
    "scheduling/menus/<int:pk>/": get("menu", "school", {"anon": PAGE, "*": "200/404"}),
    # The menus are allocated: removing, publishing and allocating are refused with a message.
    "scheduling/menus/<int:pk>/items/<int:item_pk>/remove/": post(
        "menu item", "school", {"anon": PAGE, PRINCIPALS: "302/404", "*": 404}),
    "scheduling/menus/<int:pk>/publish/": post(
        "menu", "school", {"anon": PAGE, PRINCIPALS: "302/404", "*": 404}),
    "scheduling/menus/<int:pk>/allocate/": post(
        "menu", "school", {"anon": PAGE, PRINCIPALS: "302/404", "*": 404}),
    "scheduling/menus/<int:pk>/classes/": get("menu", "school", {"anon": PAGE, "*": "200/404"}),
    # Opening a study hall for children waiting for a seat: the school's managers only.
    "scheduling/menus/<int:pk>/study-halls/": post(
        "menu", "school", {"anon": PAGE, PRINCIPALS: "302/404", "*": 404}),
    "scheduling/menus/<int:pk>/choose/<int:student_pk>/": get(
        "menu student", "child", {"anon": PAGE, PARENTS: "200/404", "*": 404}),
    # Homeroom teachers head no temporary class in this world.
    "scheduling/classes/<int:pk>/": get(
        "class", "child", {"anon": PAGE, HOMEROOMS: 404, "*": "200/404"}),
    "scheduling/activities/": get("", "school", {"anon": PAGE, PRINCIPALS: 200, "*": 404}),
    "scheduling/students/<int:pk>/week/": get("student", "child",
                                              {"anon": PAGE, "*": "200/404"}),
    # Any staff member with a login has a week; principals and finance here have no staff row.
    "scheduling/teachers/week/": get("", "school",
                                     {"anon": PAGE, f"{HOMEROOMS} teacher": 200, "*": 404}),
    "scheduling/rooms/week/": get("", "school", {"anon": PAGE, PRINCIPALS: 200, "*": 404}),

    # --- API -------------------------------------------------------------------------------
    "api/v1/auth/token/": post("", "school", {"*": 400}),
    "api/v1/schema/": everyone(200),
    "api/v1/docs/": everyone(200),
    "api/v1/me/": signed_in(API),
    "api/v1/students/": signed_in(API),
    "api/v1/students/<int:pk>/": get("student", "child", {"anon": API, "*": "200/404"}),
    "api/v1/students/<int:pk>/history/": get(
        "student", "child", {"anon": API, PARENTS: 404, "*": "200/404"}),
    "api/v1/terms/": signed_in(API),
    "api/v1/terms/<int:pk>/": get("term", "school", {"anon": API, "*": "200/404"}),
    "api/v1/schools/": signed_in(API),
    "api/v1/schools/<int:pk>/": get("school", "school", {"anon": API, "*": "200/404"}),
    "api/v1/homerooms/": signed_in(API),
    "api/v1/homerooms/<int:pk>/": get("homeroom", "homeroom",
                                      {"anon": API, "teacher": 404, "*": "200/404"}),
    "api/v1/staff/": signed_in(API),
    # A: homeroom 1's head teacher, A2: homeroom 2's; staff see their own row, the school and
    # the district all of theirs; the serving teacher only their own row (not A).
    "api/v1/staff/<int:pk>/": get("staff", "child",
                                  {"anon": API, f"{PARENTS} teacher": 404, "*": "200/404"}),
    "api/v1/guardians/": signed_in(API),
    # No guardian contacts for the district (PIPL) nor for a serving teacher.
    "api/v1/guardians/<int:pk>/": get(
        "guardian", "guardian", {"anon": API, "teacher officer officer2": 404, "*": "200/404"}),
    "api/v1/notifications/": signed_in(API),
    "api/v1/notifications/<int:pk>/read/": post("notification", "self",
                                                {"anon": API, "*": "200/404"}),
    "api/v1/terms/<int:term_id>/plan/": get("term", "school", {"anon": API, "*": "200/404"}),
    "api/v1/applications/": signed_in(API),
    # Approved applications sent for review or approval again: 409 in scope, nothing changes.
    "api/v1/applications/bulk-review/": post(
        "", "child", {"anon": API, HOMEROOMS: "409/404", "*": 404},
        body={"ids": ["@application"]}),
    "api/v1/applications/bulk-decide/": post(
        "", "child", {"anon": API, PRINCIPALS: "409/404", "*": 404},
        body={"ids": ["@application"]}),
    "api/v1/applications/<int:pk>/": get(
        "application", "child",
        {"anon": API, "teacher finance officer officer2": "404/404", "*": "200/404"}),
    "api/v1/applications/<int:pk>/review/": post(
        "application", "child", {"anon": API, HOMEROOMS: "400/404", "*": 404}),
    "api/v1/applications/<int:pk>/decide/": post(
        "application", "child", {"anon": API, PRINCIPALS: "400/404", "*": 404}),
    "api/v1/applications/<int:pk>/cancel/": post(
        "application", "child", {"anon": API, PARENTS: "409/404", "*": 404}),
    "api/v1/applications/<int:pk>/resubmit/": post(
        "application", "child", {"anon": API, PARENTS: "400/404", "*": 404}),
    "api/v1/enrolments/": signed_in(API),
    "api/v1/enrolments/<int:pk>/withdrawal/": post(
        "enrolment", "child", {"anon": API, PARENTS: "400/404", "*": 404}),
    "api/v1/withdrawals/<int:pk>/decide/": post(
        "withdrawal", "child", {"anon": API, PRINCIPALS: "400/404", "*": 404}),
    # Leave for a past day is refused (400) for one's own child; another's child is 404.
    "api/v1/leave/": post("", "child", {"anon": API, PARENTS: "400/404", "*": 404},
                          body={"student": "@student", "slot": "@slot", "date": "@past_monday",
                                "reason": "看病"}),
    "api/v1/menus/": signed_in(API),
    "api/v1/menus/<int:pk>/": get("menu", "school", {"anon": API, "*": "200/404"}),
    "api/v1/menus/<int:pk>/items/": post("menu", "school",
                                         {"anon": API, PRINCIPALS: "400/404", "*": 404}),
    "api/v1/menus/<int:pk>/publish/": post("menu", "school",
                                           {"anon": API, PRINCIPALS: "409/404", "*": 404}),
    # Only a guardian ranks, for their own child; the menu is allocated, so 409.
    "api/v1/menus/<int:pk>/choices/": post(
        "menu", "child", {"anon": API, PARENTS: "409/404", "*": 404},
        body={"student": "@student", "slot": "@slot", "ranked": []}),
    "api/v1/menus/<int:pk>/allocate/": post("menu", "school",
                                            {"anon": API, PRINCIPALS: "409/404", "*": 404}),
    "api/v1/temporary-classes/": signed_in(API),
    "api/v1/temporary-classes/<int:pk>/": get(
        "class", "child", {"anon": API, HOMEROOMS: 404, "*": "200/404"}),
    "api/v1/temporary-classes/<int:pk>/members/": post(
        "class", "child", {"anon": API, PRINCIPALS: "400/404", "*": 404}),
    "api/v1/placements/<int:pk>/move/": post(
        "placement", "child", {"anon": API, PRINCIPALS: "400/404", "*": 404}),
    # --- attendance: the session's serving teacher acts; the principal sees the day --------
    # A serving teacher's sessions, a guardian's children; the principal is sent to the day.
    "attendance/": get("", "school", {"anon": PAGE, PRINCIPALS: 302, "*": 200}),
    "attendance/sessions/<int:pk>/": get(
        "session", "child", {"anon": PAGE, f"teacher {PRINCIPALS}": "200/404", "*": 404}),
    # The page shows the principal's own school's day, whatever the date.
    "attendance/days/<str:date>/": get("sday", "school", {"anon": PAGE, PRINCIPALS: 200,
                                                          "*": 404}),
    # A child's attendance: their guardian and the staff who look after the child; not finance,
    # not the district.
    "attendance/children/<int:pk>/": get(
        "student", "child", {"anon": PAGE, "finance officer officer2": "404/404", "*": "200/404"}),
    # A class's weekly record: who heads or served it, its school's managers, the district.
    "attendance/classes/<int:pk>/week/": get(
        "class", "child", {"anon": PAGE, f"teacher {PRINCIPALS} officer officer2": "200/404",
                           "*": 404}),
    # The month's teachers' attendance: the school's managers (draft) and staff (published).
    "attendance/months/<str:month>/": get(
        "month", "school", {"anon": PAGE, f"teacher {PRINCIPALS} {HOMEROOMS}": 200,
                            "*": 404}),
    # The district's dashboard; a principal is taken to their own school's page.
    "oversight/": get("", "school", {"anon": PAGE, "officer officer2": 200, PRINCIPALS: 302,
                                     "*": 403}),
    "oversight/schools/<int:pk>/": get(
        "school", "school", {"anon": PAGE, f"{PRINCIPALS} officer officer2": "200/404",
                             "*": 403}),
    # The district's workbook, read and downloaded by the district's own staff (one built
    # today with the same filters is downloaded at once: the world holds one).
    "oversight/workbooks/compliance.xlsx": get("", "school", {"anon": PAGE,
                                                              "officer officer2": 200,
                                                              "*": 403}),
    "oversight/workbooks/<int:pk>/": get("workbook", "school", {
        "anon": PAGE, "officer officer2": "200/404", "*": 403}),
    "oversight/workbooks/<int:pk>/download/": get("workbook", "school", {
        "anon": PAGE, "officer officer2": "200/404", "*": 403}),
    # Oversight: the district's own staff; a school's indicators also for its managers; a
    # guardian, a teacher or finance is refused (403) before any school is looked up.
    "api/v1/oversight/participation/": get("", "school", {"anon": API, "officer officer2": 200,
                                                          "*": 403}),
    "api/v1/oversight/schools/<int:pk>/indicators/": get(
        "school", "school", {"anon": API, f"{PRINCIPALS} officer officer2": "200/404",
                             "*": 403}),
    # Billing pages: a guardian's own children; the school's finance and principal.
    "billing/": get("", "school", {"anon": PAGE, f"{PARENTS} {PRINCIPALS} finance": 200,
                                   "*": 404}),
    "billing/students/<int:pk>/": get(
        "student", "child", {"anon": PAGE, f"{PARENTS} {PRINCIPALS} finance": "200/404",
                             "*": 404}),
    "billing/receipts/<int:pk>/": get(
        "payment", "child", {"anon": PAGE, f"{PARENTS} {PRINCIPALS} finance": "200/404",
                             "*": 404}),
    "billing/register/": get("", "school", {"anon": PAGE, "finance": 200, "*": 404}),
    "billing/refunds/": get("", "school", {"anon": PAGE, "finance": 200, "*": 404}),
    "billing/trial-balance/": get("", "school", {"anon": PAGE, f"{PRINCIPALS} finance": 200,
                                                 "*": 404}),
    "billing/term/": get("", "school", {"anon": PAGE, PRINCIPALS: 200, "*": 404}),
    "billing/account/": get("", "school", {"anon": PAGE, f"{PRINCIPALS} finance": 200,
                                           "*": 404}),
    "billing/payroll/<str:month>/": get("month", "school", {"anon": PAGE,
                                                           f"{PRINCIPALS} finance": 200,
                                                           "*": 404}),
    "billing/exports/<str:report>.<str:fmt>": get(
        "report fmt", "school", {"anon": PAGE, f"{PRINCIPALS} finance": 200, "*": 404}),
    "billing/terms/<int:pk>/settle-job/": get("term", "school",
                                              {"anon": PAGE, PRINCIPALS: "200/404", "*": 404}),
    "api/v1/sessions/": signed_in(API),
    "api/v1/sessions/<int:pk>/": get(
        "session", "child", {"anon": API, f"teacher {PRINCIPALS}": "200/404", "*": 404}),
    # Empty bodies: 400 for the session's teacher, 404 for everyone else.
    **{f"api/v1/sessions/<int:pk>/{action}/": post(
        "session", "child", {"anon": API, "teacher": "400/404", "*": 404})
       for action in ("roll-call", "incidents", "handoffs", "record")},
    "api/v1/sessions/<int:pk>/teacher/": post(
        "session", "child", {"anon": API, PRINCIPALS: "400/404", "*": 404}),
    "api/v1/schools/<int:pk>/days/<isodate:date>/": get(
        "school sday", "school", {"anon": API, PRINCIPALS: "200/404", "*": 404}),
    # Every child of that day is on leave: nothing is left, so the day closes (once).
    "api/v1/schools/<int:pk>/days/<isodate:date>/close/": post(
        "school sday", "school", {"anon": API, PRINCIPALS: "200/404", "*": 404}),
    "api/v1/students/<int:pk>/pickup-adults/": get(
        "student", "child", {"anon": API, "finance officer officer2": "404/404", "*": "200/404"}),
    "api/v1/pickup-adults/<int:pk>/": get("adult", "child", {"anon": API, "*": 405}),
    "api/v1/students/<int:pk>/delegations/": post(
        "student", "child", {"anon": API, PARENTS: "400/404", "*": 404}),
    "api/v1/students/<int:pk>/pickup-code/": get(
        "student", "child", {"anon": API, PARENTS: "200/404", "*": 404}),
    "api/v1/students/<int:pk>/walk-home/": post(
        "student", "child", {"anon": API, PARENTS: "400/404", "*": 404}),
    "api/v1/students/<int:pk>/restricted-adults/": post(
        "student", "child", {"anon": API, PRINCIPALS: "400/404", "*": 404}),
    "api/v1/students/<int:pk>/attendance/": get(
        "student", "child", {"anon": API, "finance officer officer2": "404/404", "*": "200/404"}),
    "api/v1/handoffs/<int:pk>/dispute/": post(
        "handoff", "child", {"anon": API, PARENTS: "400/404", "*": 404},
        body={"note": "x" * 501}),
    # Acknowledging is idempotent: the guardian's own incident answers 200.
    "api/v1/incidents/<int:pk>/acknowledge/": post(
        "incident", "child", {"anon": API, PARENTS: "200/404", "*": 404}),
    "api/v1/incidents/<int:pk>/resolve/": post(
        "incident", "child", {"anon": API, f"teacher {PRINCIPALS}": "400/404", "*": 404}),
    # Any body that passes validation swaps (or, for a placement with itself, crashes: see
    # tests/scheduling/test_swap_itself.py); the swap's scope checks are in
    # tests/scheduling/test_api.py.
    "api/v1/placements/swap/": signed_in(API, 405),
    # --- billing: guardians read their own statement; finance records; the ledger is read by
    # the school's finance and principal and by the district ----------------------------------
    "api/v1/terms/<int:term_id>/fee-standards/": get("term", "school",
                                                     {"anon": API, "*": "200/404"}),
    "api/v1/students/<int:pk>/statement/": get(
        "student", "child", {"anon": API, f"{PARENTS} {PRINCIPALS} finance": "200/404",
                             "*": 404}),
    # An empty body: finance is told the Idempotency-Key is missing; no one else records.
    "api/v1/payments/": post("", "school", {"anon": API, "finance": 400, "*": 403}),
    "api/v1/payments/<int:pk>/void/": post("payment", "child",
                                           {"anon": API, "finance": "400/404", "*": 403}),
    "api/v1/payments/<int:pk>/fiscal-receipt/": post(
        "payment", "child", {"anon": API, "finance": "400/404", "*": 403}),
    "api/v1/payments/<int:pk>/transfer/": post("payment", "child",
                                               {"anon": API, "finance": "400/404", "*": 403}),
    **{f"api/v1/schools/<int:pk>/ledger/{report}/": get(
        "school", "school", {"anon": API, f"{PRINCIPALS} finance officer officer2": "200/404",
                             "*": 404})
       for report in ("trial-balance", "journal")},
    "api/v1/schools/<int:pk>/expenses/": get(
        "school", "school", {"anon": API, f"{PRINCIPALS} finance officer officer2": "200/404",
                             "*": 404}),
    "api/v1/schools/<int:pk>/subsidies/": get(
        "school", "school", {"anon": API, f"{PRINCIPALS} finance officer officer2": "200/404",
                             "*": 404}),
    # Lists, each scoped to the caller (an empty list outside the roles that hold them).
    "api/v1/waivers/": signed_in(API),
    "api/v1/refunds/": signed_in(API),
    # An empty reason: the principal of the waiver's school is told to give one.
    "api/v1/waivers/<int:pk>/revoke/": post("waiver", "child",
                                            {"anon": API, PRINCIPALS: "400/404", "*": 404}),
    # The term has not ended: its principal is refused with 409, no one else sees it.
    "api/v1/terms/<int:pk>/settle/": post("term", "school",
                                          {"anon": API, PRINCIPALS: "409/404", "*": 404}),
    # Teacher pay: drafting next month is refused (not begun), publishing this month too (not
    # ended); paying needs a published payroll; the rates are read by principal and finance.
    "api/v1/schools/<int:pk>/payroll/<str:month>/": post(
        "school next_month", "school", {"anon": API, PRINCIPALS: "409/404", "*": 403}),
    "api/v1/schools/<int:pk>/payroll/<str:month>/publish/": post(
        "school month", "school", {"anon": API, PRINCIPALS: "409/404", "*": 403}),
    "api/v1/schools/<int:pk>/payroll/<str:month>/paid/": post(
        "school month", "school", {"anon": API, "finance": 404, "*": 403}),
    "api/v1/schools/<int:pk>/pay-rates/": get(
        "school", "school", {"anon": API, f"{PRINCIPALS} finance": "200/404", "*": 404}),
    # Marking sent is idempotent; done and failed with an empty body are told what is missing.
    "api/v1/refunds/<int:pk>/sent/": post("refund", "child",
                                          {"anon": API, "finance": "200/404", "*": 404}),
    **{f"api/v1/refunds/<int:pk>/{step}/": post(
        "refund", "child", {"anon": API, "finance": "400/404", "*": 404})
       for step in ("done", "failed")},
}

# Cells that were leaks, checked on their own: DESIGN.md shows children's priority categories
# and evidence (and the guardian's signature with its IP address) "only to the roles that
# decide with it", the homeroom teacher and the principal; a serving teacher, finance and the
# district once opened these for the children in their scope.
SUSPECTED = {
    route: "teacher finance officer officer2"
    for route in ("enrollment/applications/<int:pk>/",
                  "enrollment/applications/<int:pk>/agreement/", "api/v1/applications/<int:pk>/")
}

# django.contrib.auth's pages: public by design, checked for an anonymous visitor only.
PUBLIC = {
    "accounts/login/": 200,
    "accounts/logout/": 405,
    "accounts/password_change/": 302,
    "accounts/password_change/done/": 302,
    "accounts/password_reset/": 200,
    "accounts/password_reset/done/": 200,
    "accounts/reset/<uidb64>/<token>/": 200,  # an invalid link says so
    "accounts/reset/done/": 200,
    # The tablet's service worker: a script with no data in it, fetched by the browser itself.
    "attendance/sw.js": 200,
}
# Whole areas outside the matrix: the Django admin has its own permission system, the language
# switch is public, files are served by the web server.
EXCLUDED_PREFIXES = ("admin/", "i18n/", "static/", "media/")


# --- The URLconf against the matrix ------------------------------------------------------------

def project_routes(urlconf=None) -> dict[str, str]:
    """Every route of the URLconf, as its full pattern → its (namespaced) name."""
    routes: dict[str, str] = {}

    def walk(patterns, prefix: str, namespace: str) -> None:
        for p in patterns:
            if isinstance(p, URLResolver):
                inner = f"{namespace}{p.namespace}:" if p.namespace else namespace
                walk(p.url_patterns, prefix + str(p.pattern), inner)
            elif isinstance(p, URLPattern):
                routes[prefix + str(p.pattern)] = f"{namespace}{p.name or '(unnamed)'}"

    walk(get_resolver(urlconf).url_patterns, "", "")
    return routes


def uncovered(urlconf=None) -> tuple[dict[str, str], list[str]]:
    """(routes with no entry → their names, entries naming no route)."""
    routes = {r: name for r, name in project_routes(urlconf).items()
              if not r.startswith(EXCLUDED_PREFIXES)}
    listed = set(MATRIX) | set(PUBLIC)
    return ({r: routes[r] for r in sorted(set(routes) - listed)}, sorted(listed - set(routes)))


def coverage_report(missing: dict[str, str], stale: list[str]) -> str:
    lines = []
    if missing:
        lines.append(f"{len(missing)} route(s) without an entry in tests/test_route_matrix.py "
                     "(add each to MATRIX with every role's status, or to PUBLIC):")
        lines += [f"    {route!r:60} name {name}" for route, name in missing.items()]
    if stale:
        lines.append(f"{len(stale)} entr(y/ies) naming a route that no longer exists:")
        lines += [f"    {route!r}" for route in stale]
    return "\n".join(lines)


def test_every_route_is_in_the_matrix():
    missing, stale = uncovered()
    assert not missing and not stale, coverage_report(missing, stale)


def _view(request, **kwargs):
    raise AssertionError("never called")


def test_a_route_added_without_an_entry_is_reported():
    urls = types.ModuleType("urls_with_new_routes")
    urls.urlpatterns = [
        *get_resolver().url_patterns,
        path("api/v1/sessions/<int:pk>/pause/", _view, name="api-session-pause"),
        path("attendance/tomorrow/", _view, name="tomorrow"),
        path("admin-tools/", _view),  # only the /admin/ prefix is excluded
    ]
    with override_settings(ROOT_URLCONF=urls):
        missing, stale = uncovered()
    assert missing == {"admin-tools/": "(unnamed)",
                       "api/v1/sessions/<int:pk>/pause/": "api-session-pause",
                       "attendance/tomorrow/": "tomorrow"}
    assert stale == []
    report = coverage_report(missing, stale)
    assert "3 route(s) without an entry" in report and "api-session-pause" in report


def test_a_route_removed_but_still_listed_is_reported():
    urls = types.ModuleType("urls_without_scheduling")
    urls.urlpatterns = [p for p in get_resolver().url_patterns
                        if not str(p.pattern).startswith("scheduling/")]
    with override_settings(ROOT_URLCONF=urls):
        missing, stale = uncovered()
    assert missing == {}
    assert stale == sorted(r for r in MATRIX if r.startswith("scheduling/"))


def test_every_entry_names_each_role_once():
    for route, entry in MATRIX.items():
        assert set(expand(entry.cells)) == set(ROLES), route
        assert entry.scope in SCOPES, route
        assert len(entry.args) == len(re.findall(r"<[^>]+>", route)), route


# --- Expanding the table -----------------------------------------------------------------------

def expand(cells: dict) -> dict[str, tuple[int, int]]:
    """role → (status with its own object, status with one outside its scope)."""
    out: dict[str, tuple[int, int]] = {}
    rest = None
    for roles, cell in cells.items():
        own, _slash, other = str(cell).partition("/")
        pair = (int(own), int(other or own))
        if roles == "*":
            rest = pair
            continue
        for role in roles.split():
            assert role in ROLES and role not in out, f"{role} listed twice or unknown"
            out[role] = pair
    if rest is not None:
        out |= {role: rest for role in ROLES if role not in out}
    return out


def _url(route: str, pks: list[int]) -> str:
    values = iter(pks)
    return "/" + re.sub(r"<[^>]+>", lambda _m: str(next(values)), route)


def _fill(value, objects: dict, label: str):
    if isinstance(value, list):
        return [_fill(v, objects, label) for v in value]
    if isinstance(value, str) and value.startswith("@"):
        found = objects[value[1:]][label]
        return found if isinstance(found, str) else found.pk
    return value


def call(client: Client, route: str, entry: Route, objects: dict, label: str):
    url = _url(route, [objects[name][label].pk for name in entry.args])
    query = {param: objects[name][label].pk for param, name in entry.query.items()}
    if entry.method == "GET":
        return url, client.get(url, query)
    body = {key: _fill(value, objects, label) for key, value in entry.body.items()}
    if route.startswith("api/"):
        return url, client.post(url, body, content_type="application/json")
    return url, client.post(url, body)


def _login_redirect(response) -> bool:
    return response.status_code == 302 and response.url.startswith(
        resolve_url(settings.LOGIN_URL))


def run_cell(clients, objects, route: str, role: str, which: str, expected: int) -> str | None:
    """None when the route answers `expected`; else what it did."""
    entry = MATRIX[route]
    label = SCOPES[entry.scope][role].split()[0 if which == "own" else 1]
    cell = f"as {role}, {which} ({label})" if entry.args or entry.query or entry.body else \
        f"as {role}"
    try:
        url, response = call(clients[role], route, entry, objects, label)
    except Exception as exc:  # noqa: BLE001 - a crash is a finding like any other status
        return f"{entry.method} {route} {cell}: raised {exc!r}"
    got = response.status_code
    if got == expected and not (role == "anon" and got == 302 and not _login_redirect(response)):
        return None
    return f"{entry.method} {url} {cell}: expected {expected}, got {got}"


def _cells(route: str):
    entry = MATRIX[route]
    for role, (own, other) in expand(entry.cells).items():
        suspected = role in SUSPECTED.get(route, "").split()
        yield role, "own", own, suspected
        if entry.args or entry.query or entry.body:
            yield role, "other", other, False


# --- The world the routes point into -----------------------------------------------------------

def _next_monday() -> datetime.date:
    today = timezone.localdate()
    return today + datetime.timedelta(days=7 - today.weekday())


def _afternoon(term, weekday: int = 1) -> ServiceSlot:
    return term.slots.get(kind=ServiceSlot.Kind.AFTERNOON, weekday=weekday)


def _publish_plan(term, principal):
    today = timezone.localdate()
    return enrollment.plan_publish(plan=enrollment.plan_save_draft(
        term=term, user=principal, agreement_text="课后服务安全责任书", fee_standard="免费",
        complaint_phone="0356-2020123", withdrawal_rule="提前 7 天书面申请",
        safety_measures="点名、签到签退", applications_open=today - datetime.timedelta(days=3),
        applications_close=today + datetime.timedelta(days=10)), user=principal)


def _school_stage(*, school, term, term_plan, principal, pupils) -> dict:
    """Each pupil (student, guardian's user, activity teacher) enrolled on Monday afternoons
    through the services, with a withdrawal requested; next week's menu with one activity per
    pupil, each pupil's first choice, allocated, so each pupil sits in a class of their own."""
    slot = _afternoon(term)
    menu = scheduling.menu_create(school=school, week=_next_monday(), user=principal,
                                  choice_deadline=timezone.now() + datetime.timedelta(days=1))
    out = {"application": [], "enrolment": [], "withdrawal": [], "item": [], "student": [],
           "evidence": [], "leave": []}
    for i, (student, guardian_user, teacher) in enumerate(pupils):
        name = guardian_user.guardian_profile.name
        application = enrollment.application_submit(
            applicant=guardian_user, guardian_name=name, student=student, term=term,
            slots=[slot], priority_claims=["dual_working"],
            signature=enrollment.SignatureInput(agreement_version=term_plan.version,
                                                signed_name=name),
            evidence=[enrollment.EvidenceInput(code="dual_working", file=SimpleUploadedFile(
                "在职证明.png", b"\x89PNG\r\n\x1a\n" + bytes(64), content_type="image/png"))])
        head = student.homeroom.head_teacher
        enrollment.application_review(application=application, decision="approve",
                                      reviewer=head.user if head else principal)
        application = enrollment.application_decide(application=application,
                                                    principal=principal, decision="approve")
        enrolment = application.enrolment
        out["leave"].append(enrollment.leave_report(
            enrolment=enrolment, user=guardian_user, date=_next_monday(), slot=slot,
            reason="看病"))
        withdrawal = enrollment.withdrawal_request(
            enrolment=enrolment, user=guardian_user, reason="搬家",
            effective_date=timezone.localdate() + datetime.timedelta(days=30))
        activity = scheduling.activity_create(
            school=school, user=principal, name=f"兴趣小组{i + 1}", category="club",
            grades=[student.grade.number], capacity=10, teacher=teacher, room=f"活动室{i + 1}")
        item = scheduling.menu_item_add(menu=menu, user=principal, activity=activity, slot=slot)
        for key, value in (("application", application), ("enrolment", enrolment),
                           ("withdrawal", withdrawal), ("item", item), ("student", student),
                           ("evidence", application.evidence.get())):
            out[key].append(value)
    menu = scheduling.menu_publish(menu=menu, user=principal, acknowledge_warnings=True)
    for (student, guardian_user, _teacher), item in zip(pupils, out["item"], strict=True):
        scheduling.choices_set(menu=menu, student=student, slot=slot, items=[item],
                               user=guardian_user)
    # Test setup only: no service moves a deadline into the past.
    Menu.objects.filter(pk=menu.pk).update(
        choice_deadline=timezone.now() - datetime.timedelta(minutes=5))
    scheduling.menu_allocate(menu=menu, user=principal, seed="matrix")
    placements = {p.student_id: p for p in Placement.objects.filter(menu=menu)}
    out["placement"] = [placements[s.pk] for s in out["student"]]
    out["class"] = [TemporaryClass.objects.get(pk=p.temporary_class_id)
                    for p in out["placement"]]
    out |= {"menu": Menu.objects.get(pk=menu.pk), "slot": slot}
    return out


@pytest.fixture
def world(cast, plan, settings, tmp_path):  # noqa: F811
    """objects[name][label]: A and A2 in the cast school, B in the other school, C in the other
    district (see SCOPES); the cast's serving teacher heads A's temporary class."""
    settings.PRIVATE_MEDIA_ROOT = str(tmp_path)  # each application's evidence file
    guardian_b = f.GuardianFactory(user=f.UserFactory(username="parent-b", display_name="钱丽"))
    f.link_guardian(guardian_b, cast.other_school_child)
    guardian_c = f.GuardianFactory(user=f.UserFactory(username="parent-c", display_name="冯军"))
    f.link_guardian(guardian_c, cast.far_child)
    principal_c = f.UserFactory(username="principal-c", display_name="韩校长")
    f.grant(principal_c, Role.PRINCIPAL, school=cast.far_school)
    teacher_staff = Staff.objects.get(user=cast.teacher)

    def staff(school):
        return f.StaffFactory(school=school, user=None)

    a = _school_stage(school=cast.school, term=cast.term, term_plan=plan,
                      principal=cast.principal,
                      pupils=[(cast.child, cast.parent, teacher_staff),
                              (cast.other_child, cast.parent2, staff(cast.school))])
    b = _school_stage(school=cast.other_school, term=cast.other_term,
                      term_plan=_publish_plan(cast.other_term, cast.principal2),
                      principal=cast.principal2,
                      pupils=[(cast.other_school_child, guardian_b.user,
                               staff(cast.other_school))])
    c = _school_stage(school=cast.far_school, term=cast.far_term,
                      term_plan=_publish_plan(cast.far_term, principal_c), principal=principal_c,
                      pupils=[(cast.far_child, guardian_c.user, staff(cast.far_school))])

    def per_child(key):
        return {"A": a[key][0], "A2": a[key][1], "B": b[key][0], "C": c[key][0]}

    def per_school(a_obj, b_obj, c_obj):
        return {"A": a_obj, "A2": a_obj, "B": b_obj, "C": c_obj}

    objects = {key: per_child(key) for key in ("student", "application", "enrolment",
                                               "withdrawal", "class", "placement", "evidence",
                                               "leave")}
    objects |= {key: per_school(a[key], b[key], c[key]) for key in ("menu", "slot")}
    objects["item"] = per_school(a["item"][0], b["item"][0], c["item"][0])
    objects["term"] = per_school(cast.term, cast.other_term, cast.far_term)
    objects["school"] = per_school(cast.school, cast.other_school, cast.far_school)
    objects["homeroom"] = {"A": cast.homeroom, "A2": cast.homeroom2, "B": cast.other_homeroom,
                           "C": cast.far_homeroom}
    objects["guardian"] = {"A": cast.guardian, "A2": cast.guardian2, "B": guardian_b,
                           "C": guardian_c}
    objects["staff"] = {"A": cast.homeroom.head_teacher, "A2": cast.homeroom2.head_teacher,
                        "B": b["class"][0].head_teacher, "C": c["class"][0].head_teacher}
    objects["import"] = per_school(*(
        RosterImport.objects.create(school=s, uploaded_by=cast.principal, filename="名册.xlsx",
                                    content=b"", status=RosterImport.Status.FAILED)
        for s in (cast.school, cast.other_school, cast.far_school)))
    today = timezone.localdate()
    past_monday = (today - datetime.timedelta(days=today.weekday() or 7)).isoformat()
    objects["past_monday"] = per_school(past_monday, past_monday, past_monday)
    day = types.SimpleNamespace(pk=_next_monday().isoformat())
    objects["sday"] = per_school(day, day, day)
    month = types.SimpleNamespace(pk=f"{today:%Y-%m}")
    objects["month"] = per_school(month, month, month)
    following = (today.replace(day=1) + datetime.timedelta(days=32)).replace(day=1)
    next_month = types.SimpleNamespace(pk=f"{following:%Y-%m}")
    objects["next_month"] = per_school(next_month, next_month, next_month)
    report, fmt = types.SimpleNamespace(pk="register"), types.SimpleNamespace(pk="xlsx")
    objects["report"], objects["fmt"] = per_school(report, report, report), per_school(fmt, fmt,
                                                                                        fmt)
    objects["session"] = {k: ClassSession.objects.get(temporary_class=cls)
                          for k, cls in objects["class"].items()}
    objects["incident"], objects["handoff"], objects["adult"] = {}, {}, {}
    for k, session in objects["session"].items():
        student = objects["student"][k]
        reply = attendance.incident_report(session=session, user=cast.principal,
                                           student_id=student.pk, kind="other", note="测试",
                                           client_id=uuid.uuid4())
        objects["incident"][k] = Incident.objects.get(pk=reply.body["id"])
        reply = attendance.handoff_release(
            session=session, user=cast.principal, client_id=uuid.uuid4(),
            data={"student": student.pk, "released_to": "guardian",
                  "pickup_code": daily_code(student.pk, session.date)})
        objects["handoff"][k] = Handoff.objects.get(pk=reply.body["id"])
        objects["adult"][k] = attendance.pickup_adult_add(
            student=student, user=objects["guardian"][k].user, name="李芳", relation="奶奶",
            phone="13900001234")

    objects["payment"] = {
        k: Payment.objects.get(pk=billing.payment_record(
            user=cast.finance, key=f"matrix-{k}", student=student,
            term=objects["enrolment"][k].term, amount=Decimal("10.00"), method="cash"
        ).body["id"]) for k, student in objects["student"].items()}

    principals = {"A": cast.principal, "A2": cast.principal, "B": cast.principal2,
                  "C": principal_c}
    objects["waiver"] = {k: billing.waiver_grant(
        user=principals[k], student=student, term=objects["enrolment"][k].term, kind="full",
        value=None, reason="家庭经济困难", borne_by="school", evidence="低保证")
        for k, student in objects["student"].items()}
    with transaction.atomic():
        objects["refund"] = {k: settlement.refunds_create(
            term=payment.term, owed={payment.student_id: Decimal("1.00")}, user=cast.finance,
            today=today)[0] for k, payment in objects["payment"].items()}

    books = {d: Workbook.objects.create(district=d, as_of=today, requested_by=cast.officer,
                                        status=Workbook.Status.DONE, content=b"PK")
             for d in (cast.district, cast.other_district)}
    objects["workbook"] = per_school(books[cast.district], books[cast.district],
                                     books[cast.other_district])

    users = {role: getattr(cast, CAST_ATTR.get(role, role)) for role in ROLES if role != "anon"}
    objects["notification"] = {}
    for role, user in users.items():
        notify(recipient=user, purpose="test.matrix", dedupe_key=f"test.matrix:{role}",
               subject="测试", body="测试", channels=["in_app"])
        objects["notification"][role] = Notification.objects.get(
            dedupe_key=f"test.matrix:{role}#in_app")
    assert a["class"][0].head_teacher == teacher_staff
    return types.SimpleNamespace(objects=objects, users=users)


@pytest.fixture
def clients(world):
    out = {"anon": Client()}
    for role, user in world.users.items():
        out[role] = Client()
        out[role].force_login(user)
    return out


@pytest.mark.django_db
def test_every_route_answers_each_role_as_the_matrix_says(world, clients):
    wrong = []
    for route in MATRIX:
        for role, which, expected, suspected in _cells(route):
            if not suspected:
                wrong.append(run_cell(clients, world.objects, route, role, which, expected))
    wrong = [w for w in wrong if w]
    assert not wrong, f"{len(wrong)} cell(s) of the route matrix differ:\n" + "\n".join(wrong)


@pytest.mark.django_db
@pytest.mark.parametrize("role", sorted({r for roles in SUSPECTED.values()
                                         for r in roles.split()}))
def test_suspected_leaks_are_closed(world, clients, role):
    wrong = [run_cell(clients, world.objects, route, role, "own",
                      expand(MATRIX[route].cells)[role][0])
             for route, roles in SUSPECTED.items() if role in roles.split()]
    assert not any(wrong), "\n".join(w for w in wrong if w)


@pytest.mark.django_db
def test_the_public_pages_answer_an_anonymous_visitor(client):
    wrong = []
    for route, expected in PUBLIC.items():
        url = _url(route, ["MQ", "set-password"])
        got = client.get(url).status_code
        if got != expected:
            wrong.append(f"GET {url}: expected {expected}, got {got}")
    assert not wrong, "\n".join(wrong)

