"""What the teacher's tablet keeps for when the network drops: the session page carries the
digests of the codes valid that day (never the codes), the API paths and its texts; only the
serving teacher's page carries them; the service worker is served from the attendance path."""

import hashlib
import json
import re

from django.test import Client

from attendance import services
from attendance.pickup import daily_code


def _page(user, session):
    client = Client()
    client.force_login(user)
    return client.get(f"/attendance/sessions/{session.pk}/")


def _offline_data(response) -> dict | None:
    found = re.search(r'<script id="offline-data" type="application/json">(.*?)</script>',
                      response.content.decode())
    return json.loads(found.group(1)) if found else None


def test_the_teachers_page_carries_digests_of_todays_codes_not_the_codes(cast, session):
    delegation = services.delegation_give(student=cast.child, user=cast.parent, name="王阿姨",
                                          phone="13900001111", date=session.date)
    response = _page(cast.teacher, session)
    assert response.status_code == 200
    data = _offline_data(response)
    assert data["session"] == session.pk and data["date"] == session.date.isoformat()
    assert data["api"] == f"/api/v1/sessions/{session.pk}/"
    codes = [daily_code(cast.child.pk, session.date), delegation.code]
    blob = json.dumps(data)
    assert not any(code in blob for code in codes)
    expected = {hashlib.sha256(f"{data['salt']}:{cast.child.pk}:{code}".encode()).hexdigest()
                for code in codes}
    assert set(data["codes"][str(cast.child.pk)]) == expected
    # Another day's code is not among them.
    other = daily_code(cast.child.pk, session.date.replace(day=1))
    assert hashlib.sha256(f"{data['salt']}:{cast.child.pk}:{other}".encode()).hexdigest() \
        not in data["codes"][str(cast.child.pk)]


def test_each_drawing_of_the_page_salts_the_digests_afresh(cast, session):
    first, second = (_offline_data(_page(cast.teacher, session)) for _ in range(2))
    assert first["salt"] != second["salt"]
    assert first["codes"][str(cast.child.pk)] != second["codes"][str(cast.child.pk)]


def test_only_the_serving_teacher_gets_the_offline_data(cast, session):
    response = _page(cast.principal, session)
    assert response.status_code == 200
    assert _offline_data(response) is None
    assert b"tablet.js" not in response.content
    # The class's head teacher, when someone else serves, reads the page without the codes.
    head = session.temporary_class.head_teacher
    if head is not None and head.user is not None and head.user != cast.teacher:
        theirs = _page(head.user, session)
        assert theirs.status_code == 200 and _offline_data(theirs) is None
    # The control: the serving teacher gets them.
    assert _offline_data(_page(cast.teacher, session))["session"] == session.pk


def test_the_service_worker_is_served_from_the_attendance_path(client):
    response = client.get("/attendance/sw.js")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/javascript")
    assert "no-cache" in response["Cache-Control"]
    body = response.content.decode()
    assert "/static/js/tablet.js" in body and "/static/vendor/idb/idb.umd.js" in body
