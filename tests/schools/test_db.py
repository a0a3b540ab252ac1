"""schools.db: one statement for a write and what it entails, and prepared statements."""

import datetime

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.test.utils import CaptureQueriesContext

from schools.audit import audit_sql
from schools.db import Sql, fetch_one_prepared, insert_sql, with_parts
from schools.models import AuditEntry, District

pytestmark = pytest.mark.django_db


def _made_and_audited(code: str, name: str) -> Sql:
    """A district and its audit entry in one statement; the entry reads the new row's id."""
    district = District(code=code, name=name)
    return with_parts({
        "made": insert_sql(district, ignore_conflicts=True, returning=("id",)),
        "audited": audit_sql(actor=None, action="test.district.made", obj=district,
                             school=None, data={"name": name}, source=Sql("made"),
                             object_id=Sql("made.id::text"),
                             more_data=Sql("jsonb_build_object('id', made.id)")),
    }, Sql("SELECT id FROM made"))


def test_the_later_parts_read_the_first_ones_new_row():
    statement = _made_and_audited("T-01", "试验区教育局")
    with connection.cursor() as cursor:
        cursor.execute(statement.text, statement.params)
        [district_id] = cursor.fetchone()
    district = District.objects.get(pk=district_id)
    entry = AuditEntry.objects.get(action="test.district.made")
    assert (district.code, district.name) == ("T-01", "试验区教育局")
    assert district.off_work_time == datetime.time(17, 30)  # the field's default
    assert entry.object_id == str(district_id) and entry.school is None
    assert entry.content_type == ContentType.objects.get_for_model(District)
    assert entry.data == {"name": "试验区教育局", "id": district_id}
    assert entry.at is not None  # auto_now_add, as save() would set it


def test_nothing_is_written_after_a_first_part_that_wrote_nothing():
    """The same code again meets its unique index: no row, so no audit entry."""
    for _ in range(2):
        statement = _made_and_audited("T-02", "试验区教育局")
        with connection.cursor() as cursor:
            cursor.execute(statement.text, statement.params)
            found = cursor.fetchone()
    assert found is None
    assert District.objects.filter(code="T-02").count() == 1
    assert AuditEntry.objects.filter(action="test.district.made").count() == 1


def test_a_statement_is_prepared_once_per_connection():
    statement = Sql("SELECT %s::int + 1, '100%%'", (41,))
    with CaptureQueriesContext(connection) as first:
        assert fetch_one_prepared(statement) == (42, "100%")
    with CaptureQueriesContext(connection) as again:
        assert fetch_one_prepared(Sql(statement.text, (1,))) == (2, "100%")
    assert [q["sql"].split()[0] for q in first.captured_queries] == ["PREPARE", "EXECUTE"]
    assert [q["sql"].split()[0] for q in again.captured_queries] == ["EXECUTE"]


@pytest.mark.django_db(transaction=True)
def test_a_new_connection_prepares_afresh():
    statement = Sql("SELECT %s::text || 'x'", ("a",))
    assert fetch_one_prepared(statement) == ("ax",)
    connection.close()  # the server forgets what this connection prepared
    with CaptureQueriesContext(connection) as after:
        assert fetch_one_prepared(statement) == ("ax",)
    assert [q["sql"].split()[0] for q in after.captured_queries] == ["PREPARE", "EXECUTE"]
