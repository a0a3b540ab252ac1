"""With a replica configured, the district's reads go to it and every write to the primary;
without one, everything stays on the primary."""

import contextlib

import pytest

from config.routers import ReplicaRouter, replica_reads
from oversight.models import Workbook
from schools.models import School


def test_the_router_sends_marked_reads_to_a_configured_replica(monkeypatch):
    from django.conf import settings

    router = ReplicaRouter()
    assert router.db_for_read(School) is None
    with replica_reads():
        assert router.db_for_read(School) is None  # no replica configured: the primary
    monkeypatch.setitem(settings.DATABASES, "replica", dict(settings.DATABASES["default"]))
    with replica_reads():
        assert router.db_for_read(School) == "replica"
        assert router.db_for_write(Workbook) == "default"
    assert router.db_for_read(School) is None
    assert router.allow_migrate("replica", "schools") is False


@pytest.mark.django_db
def test_the_districts_pages_and_api_read_through_the_replica(cast, api, monkeypatch):
    from django.test import Client

    import oversight.selectors

    used = []

    @contextlib.contextmanager
    def recording():
        used.append(True)
        yield

    monkeypatch.setattr(oversight.selectors, "replica_reads", recording)
    assert api(cast.officer).get("/api/v1/oversight/participation/").status_code == 200
    assert api(cast.officer).get(
        f"/api/v1/oversight/schools/{cast.school.pk}/indicators/").status_code == 200
    client = Client()
    client.force_login(cast.officer)
    assert client.get("/oversight/").status_code == 200
    assert len(used) == 3
