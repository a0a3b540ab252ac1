"""Roster read paths on the demo school: how long the pages and API lists a principal and a
guardian open most often take, and how many queries each makes.

    .venv/bin/python bench/roster.py          (seeds the demo data first if it is missing)

Prints one line per path: median and worst of N requests in milliseconds, and the queries."""

import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from schools.models import User  # noqa: E402

RUNS = 30


def measure(client: Client, path: str) -> tuple[float, float, int]:
    timings = []
    for _ in range(RUNS):
        start = time.perf_counter()
        response = client.get(path, HTTP_HOST="127.0.0.1")
        timings.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200, (path, response.status_code)
    with CaptureQueriesContext(connection) as queries:
        client.get(path, HTTP_HOST="127.0.0.1")
    return statistics.median(timings), max(timings), len(queries)


def main() -> None:
    if not User.objects.filter(username="principal").exists():
        call_command("seed_demo", quiet=True)
    paths = {
        "principal": ["/", "/api/v1/students/", "/api/v1/students/?page=10",
                      "/api/v1/homerooms/", "/api/v1/terms/", "/roster/homerooms/"],
        "parent": ["/", "/api/v1/me/", "/api/v1/students/"],
        "district": ["/", "/api/v1/schools/"],
    }
    print(f"{'user':<10} {'path':<28} {'median ms':>9} {'max ms':>8} {'queries':>8}")
    for username, user_paths in paths.items():
        client = Client()
        client.force_login(User.objects.get(username=username))
        for path in user_paths:
            median, worst, n = measure(client, path)
            print(f"{username:<10} {path:<28} {median:9.1f} {worst:8.1f} {n:8d}")


if __name__ == "__main__":
    main()
