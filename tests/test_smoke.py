def test_it_runs_on_postgresql(db):
    from django.db import connection

    assert connection.vendor == "postgresql"
