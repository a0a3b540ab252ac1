"""The schema tells the truth: schemathesis generates requests for every operation of
/api/v1/schema/ — valid ones and invalid ones — and sends them to the live server as a guardian,
a principal and a district officer. Whatever it sends, the API answers no 5xx, and each answer
is what the schema says: a documented status, its content type, a body of its schema, its
required headers.

Requests are drawn from a fixed seed (SCHEMA_FUZZ_SEED changes it) and a bounded number of
examples per operation, without shrinking: a finding is reported as the request that showed
it, with a curl command to replay it. Half the integers that name objects (path, query and
body) are taken from the world of tests/test_route_matrix.py, so that requests reach objects
inside and outside each caller's scope, not only ids that do not exist."""

import logging
import os
import time
from collections import Counter

import hypothesis
import pytest
import requests
import schemathesis
from django.conf import settings
from django.core.cache import caches
from hypothesis import strategies as st
from schemathesis.checks import CHECKS as REGISTERED_CHECKS
from schemathesis.checks import load_all_checks
from schemathesis.core.failures import Failure, FailureGroup

from tests.enrollment.conftest import plan  # noqa: F401
from tests.factories import PASSWORD
from tests.test_route_matrix import world  # noqa: F401

pytestmark = [pytest.mark.fuzz, pytest.mark.django_db(transaction=True)]

ROLES = {"guardian": "parent", "principal": "principal", "district officer": "officer"}
# Per operation and role: valid requests, then invalid ones.
EXAMPLES = {schemathesis.GenerationMode.POSITIVE: 8, schemathesis.GenerationMode.NEGATIVE: 4}
load_all_checks()
CHECKS = REGISTERED_CHECKS.get_by_names([
    "not_a_server_error", "status_code_conformance", "content_type_conformance",
    "response_headers_conformance", "response_schema_conformance"])
SEED = int(os.environ.get("SCHEMA_FUZZ_SEED", "20261"))


def _world_ids(objects: dict) -> list[int]:
    return sorted({obj.pk for by_label in objects.values() for obj in by_label.values()
                   if isinstance(getattr(obj, "pk", None), int)})


def _known(value, ids: list[int]):
    """A strategy for `value` or, as often, ids of the world in its place."""
    if isinstance(value, bool):
        return st.just(value)
    if isinstance(value, int):
        return st.just(value) | st.sampled_from(ids)
    if isinstance(value, list) and value and all(
            isinstance(v, int) and not isinstance(v, bool) for v in value):
        return st.just(value) | st.lists(st.sampled_from(ids), min_size=len(value),
                                         max_size=len(value))
    return st.just(value)


def _with_known_ids(values, ids: list[int]):
    if not isinstance(values, dict):
        return st.just(values)
    return st.fixed_dictionaries({key: _known(value, ids) for key, value in values.items()})


def _load(base_url: str, ids: list[int]):
    schema = schemathesis.openapi.from_url(f"{base_url}/api/v1/schema/?format=json")
    schema.config.update(base_url=base_url)

    @schema.hook
    def flatmap_path_parameters(context, path_parameters):
        return _with_known_ids(path_parameters, ids)

    @schema.hook
    def flatmap_query(context, query):
        return _with_known_ids(query, ids)

    @schema.hook
    def flatmap_body(context, body):
        return _with_known_ids(body, ids)

    return schema


def _token(base_url: str, username: str) -> str:
    response = requests.post(f"{base_url}/api/v1/auth/token/",
                             json={"username": username, "password": PASSWORD}, timeout=30)
    assert response.status_code == 200, response.text
    return response.json()["token"]


def _negatable(operation) -> bool:
    """Whether the operation takes anything an invalid request could get wrong."""
    return bool(len(operation.path_parameters) or len(operation.query) or operation.body)


def _fuzz(operation, token: str, session, findings: dict, counts: Counter) -> None:
    # A connection per request: the live server's keep-alive has, once in a while, answered
    # a request with the leftovers of another; a finding must be about the API.
    auth = {"Authorization": f"Token {token}", "Connection": "close"}
    for mode, examples in EXAMPLES.items():
        if mode == schemathesis.GenerationMode.NEGATIVE and not _negatable(operation):
            continue
        @hypothesis.seed(SEED)
        @hypothesis.settings(max_examples=examples, deadline=None, database=None,
                             phases=[hypothesis.Phase.explicit, hypothesis.Phase.generate],
                             suppress_health_check=list(hypothesis.HealthCheck))
        @hypothesis.given(case=operation.as_strategy(generation_mode=mode, headers=auth))
        def run(case):
            counts[operation.label] += 1
            try:
                case.call_and_validate(session=session, checks=CHECKS, timeout=30)
            except (Failure, FailureGroup) as exc:
                for failure in getattr(exc, "exceptions", [exc]):
                    key = (operation.label, failure.title)
                    findings.setdefault(key, f"{failure.title}: {failure.message}\n"
                                             f"    {case.as_curl_command()}")

        run()


@pytest.fixture
def quiet_refusals():
    """Thousands of 4xx answers are the point here, not news; a 500 is still logged."""
    logger = logging.getLogger("django.request")
    level = logger.level
    logger.setLevel(logging.ERROR)
    yield
    logger.setLevel(level)


def test_every_operation_answers_as_the_schema_says(live_server, world,  # noqa: F811
                                                    quiet_refusals):
    caches[settings.LOGIN_THROTTLE_CACHE].clear()
    started = time.monotonic()
    # "localhost" tries ::1 before 127.0.0.1 on every request: twice as slow.
    base_url = live_server.url.replace("localhost", "127.0.0.1")
    schema = _load(base_url, _world_ids(world.objects))
    operations = [result.ok() for result in schema.get_all_operations()]
    findings: dict = {}
    counts: Counter = Counter()
    session = requests.Session()
    try:
        # Every token first: fuzzing the token endpoint locks this address out of signing in.
        tokens = {role: _token(base_url, world.users[attr].username)
                  for role, attr in ROLES.items()}
        for role, token in tokens.items():
            for operation in operations:
                before = len(findings)
                _fuzz(operation, token, session, findings, counts)
                for key in list(findings)[before:]:
                    findings[key] = f"as {role}: {findings[key]}"
    finally:
        caches[settings.LOGIN_THROTTLE_CACHE].clear()
    print(f"{sum(counts.values())} requests to {len(operations)} operations in "
          f"{time.monotonic() - started:.0f} s")
    report = "\n".join(f"{label}\n  {text}" for (label, _t), text in sorted(findings.items()))
    assert not findings, f"{len(findings)} finding(s):\n{report}"
