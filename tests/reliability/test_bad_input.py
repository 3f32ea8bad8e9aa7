"""Bad input at every command route, on PostgreSQL: Hypothesis-generated junk bodies (derived
from each route's OpenAPI schema), oversized bodies (with and without Content-Length), wrong
content types and unicode edge cases. Never a 5xx, always a problem document, and nothing
written on a refusal (the log's head is compared before and after every request).

Complements tests/e2e/test_schemathesis.py (schema-valid-ish fuzzing of every operation) and
tests/e2e/test_injection.py (hostile text stored and returned exactly).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import psycopg
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import SecretStr

from sonar.api.main import create_app
from sonar.bootstrap import build_application, build_record_store, build_runner
from sonar.config import Settings
from sonar.eventstore.application import SonarApplication
from sonar.readmodels.runner import ProjectionRunner
from tests.conftest import postgres_url
from tests.e2e.auth_helpers import PASSWORD, SECRET, SMS_WORKER, add_user
from tests.reliability.conftest import LiveServer, settings_on

pytestmark = pytest.mark.postgres

EXAMPLES = 8  # per route and strategy; derandomized, so CI sees the same cases each run
LIMIT = 100_000  # a small body limit for this app, so oversized cases stay cheap


@dataclass
class Target:
    api: FastAPI
    client: TestClient
    app: SonarApplication
    runner: ProjectionRunner
    settings: Settings
    patient: str

    def head(self) -> int:
        return self.app.position()


@contextmanager
def signed_in(config: Settings) -> Iterator[
        tuple[FastAPI, TestClient, SonarApplication, ProjectionRunner]]:
    """The API on ``config``'s store with the SMS worker signed in; closed afterwards."""
    app = build_application(config)
    runner = build_runner(config, app)
    runner.migrate()
    records = build_record_store(config)
    api = create_app(config, app, runner, records)
    add_user(api, SMS_WORKER)
    try:
        with TestClient(api, raise_server_exceptions=False) as client:
            token = client.post("/api/v1/auth/token", data={
                "username": SMS_WORKER.username, "password": PASSWORD}).json()["access_token"]
            client.headers["Authorization"] = f"Bearer {token}"
            yield api, client, app, runner
    finally:
        app.close()
        runner.store.close()
        records.close()


@pytest.fixture(scope="module")
def target() -> Iterator[Target]:
    url = postgres_url()
    assert url is not None
    schema = f"t_bad_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    config = settings_on(url, schema, max_body_bytes=LIMIT)
    try:
        with signed_in(config) as (api, client, app, runner):
            pid = client.post("/api/v1/patients", json={
                "given_name": "Fuzz", "family_name": "Target", "date_of_birth": "1980-02-03",
                "sex": "female"}).json()["patient_id"]
            one = f"/api/v1/patients/{pid}"
            for path, body in [
                ("/custody/prison-receptions", {"establishment": "HMP Leeds"}),
                ("/referrals", {"source": "self", "substances": ["alcohol"],
                                "injecting_status": "never", "previously_treated": False}),
                ("/episodes/1/referral-outcome", {"outcome": "accepted"}),
            ]:
                assert client.post(one + path, json=body).status_code == 201
            yield Target(api, client, app, runner, config, pid)
    finally:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA IF EXISTS {schema}_records CASCADE")
            conn.execute(f"DROP SCHEMA {schema} CASCADE")


def command_routes(api: FastAPI) -> list[tuple[str, dict[str, Any]]]:
    """Every POST operation under /api/v1 with a JSON body, from the OpenAPI document, with
    the body's JSON schema (sign-in takes a form and is left to the schemathesis test)."""
    spec = api.openapi()
    routes = []
    for path, operations in spec["paths"].items():
        post = operations.get("post")
        if post is None or not path.startswith("/api/v1/") or path.endswith("/auth/token"):
            continue
        content = post.get("requestBody", {}).get("content", {})
        schema = content.get("application/json", {}).get("schema", {})
        routes.append((path, _resolve(schema, spec)))
    return routes


def _resolve(schema: dict[str, Any], spec: dict[str, Any]) -> dict[str, Any]:
    ref = schema.get("$ref")
    if ref:
        found: dict[str, Any] = spec
        for part in ref.lstrip("#/").split("/"):
            found = found[part]
        return found
    return schema


def concrete(path: str, patient: str) -> str:
    return (path.replace("{patient_id}", patient).replace("{episode}", "1")
            .replace("{entry_version}", "2")
            .replace("{appointment_id}", "00000000-0000-4000-8000-00000000abcd"))


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.integers(min_value=10**30)
    | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=50),
    lambda inner: st.lists(inner, max_size=5)
    | st.dictionaries(st.text(max_size=15), inner, max_size=5),
    max_leaves=20)


def shaped(schema: dict[str, Any]) -> st.SearchStrategy[Any]:
    """Objects with the route's own field names (so the junk reaches field validation) holding
    junk values, sometimes with a stray extra field."""
    names = sorted(schema.get("properties", {})) or ["x"]
    return st.dictionaries(st.sampled_from(names), JSON, max_size=len(names)).flatmap(
        lambda body: st.one_of(st.just(body), st.dictionaries(
            st.text(max_size=10), JSON, max_size=2).map(lambda extra: {**extra, **body})))


def check(target: Target, response: httpx.Response, before: int, what: str,
          failures: list[str]) -> None:
    status = response.status_code
    if status >= 500:
        failures.append(f"{status} {what}: {response.text[:200]}")
    elif status >= 400:
        if response.headers.get("content-type") != "application/problem+json":
            failures.append(f"{status} without a problem document {what}")
        if target.head() != before:
            failures.append(f"{status} refused but wrote {what}")


def fuzz_route(target: Target, url: str, bodies: st.SearchStrategy[bytes],
               failures: list[str]) -> None:
    @given(body=bodies)
    @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    def one(body: bytes) -> None:
        before = target.head()
        response = target.client.post(url, content=body,
                                      headers={"Content-Type": "application/json"})
        check(target, response, before, f"POST {url} {body[:80]!r}", failures)

    one()


def sweep(target: Target, make: Callable[[dict[str, Any]], st.SearchStrategy[bytes]],
          ) -> tuple[int, list[str]]:
    failures: list[str] = []
    routes = command_routes(target.api)
    for path, schema in routes:
        fuzz_route(target, concrete(path, target.patient), make(schema), failures)
    return len(routes), failures


def test_command_routes_are_discovered(target: Target) -> None:
    paths = [p for p, _ in command_routes(target.api)]
    assert len(paths) >= 30, paths
    assert "/api/v1/patients" in paths
    assert "/api/v1/patients/{patient_id}/episodes/{episode}/tops" in paths


def test_junk_json_in_the_routes_own_shape_is_refused_cleanly(target: Target) -> None:
    routes, failures = sweep(target, lambda schema: shaped(schema).map(
        lambda body: json.dumps(body).encode()))
    assert routes >= 30
    assert failures == []


def test_arbitrary_json_and_raw_bytes_are_refused_cleanly(target: Target) -> None:
    routes, failures = sweep(target, lambda _schema: st.one_of(
        JSON.map(lambda body: json.dumps(body).encode()), st.binary(max_size=200)))
    assert routes >= 30
    assert failures == []


WRONG_TYPES = [None, "text/plain", "application/xml", "application/x-www-form-urlencoded",
               "multipart/form-data; boundary=xyz", "application/octet-stream", "%%%",
               "application/json; charset=utf-16", "application/json-seq"]


@pytest.mark.parametrize("content_type", WRONG_TYPES)
def test_wrong_content_types_are_a_4xx_problem_and_write_nothing(target: Target,
                                                                 content_type: str | None,
                                                                 ) -> None:
    failures: list[str] = []
    body = json.dumps({"level": "high", "risks": ["overdose"]}).encode()
    for path, _ in command_routes(target.api):
        before = target.head()
        headers = {"Content-Type": content_type} if content_type else {}
        url = concrete(path, target.patient)
        response = target.client.post(url, content=body, headers=headers)
        if response.status_code < 400 and content_type not in (
                None, "application/json; charset=utf-16"):
            failures.append(f"{response.status_code} for {content_type} at {url}")
        check(target, response, before, f"POST {url} as {content_type}", failures)
    assert failures == []


def test_an_oversized_body_is_413_with_or_without_content_length(target: Target) -> None:
    url = concrete("/api/v1/patients/{patient_id}/episodes/{episode}/care-plans",
                   target.patient)
    big = json.dumps({"goals": ["x" * 400] * 1000, "interventions": [],
                      "named_worker": "w", "next_review_date": "2030-01-01"}).encode()
    assert len(big) > LIMIT
    before = target.head()
    declared = target.client.post(url, content=big, headers={
        "Content-Type": "application/json"})

    def chunks() -> Iterator[bytes]:  # no Content-Length: Transfer-Encoding chunked
        for i in range(0, len(big), 8192):
            yield big[i:i + 8192]

    streamed = target.client.post(url, content=chunks(), headers={
        "Content-Type": "application/json"})
    for response in (declared, streamed):
        assert response.status_code == 413, response.text[:300]
        assert response.headers["content-type"] == "application/problem+json"
    assert target.head() == before


def test_an_endless_chunked_upload_over_a_real_socket_is_cut_off_with_413(
        target: Target) -> None:
    """Over uvicorn, a chunked body with no Content-Length is refused at the limit."""
    url = concrete("/api/v1/patients/{patient_id}/episodes/{episode}/care-plans",
                   target.patient)

    def endless() -> Iterator[bytes]:
        yield b'{"goals": ["'
        for _ in range(256):  # bounded: 256 x 64 KiB = 16 MiB, far past the limit
            yield b"x" * 65536

    before = target.head()
    with LiveServer(target.api) as server:
        try:
            response = httpx.post(server.base_url + url, content=endless(), timeout=30,
                                  headers={**target.client.headers,
                                           "Content-Type": "application/json"})
        except httpx.TransportError:  # the server may answer and close before the end
            response = None
    if response is not None:
        assert response.status_code == 413, response.text[:300]
        assert response.headers["content-type"] == "application/problem+json"
    assert target.head() == before


# --- unicode edge cases in every free-text field --------------------------------------------

UNICODE = {
    "nul": "Leeds\u0000",
    "lone_high_surrogate": "\ud800",
    "lone_low_surrogate": "x\udfffy",
    "rtl_override": "\u202eevil\u202c",
    "bom_and_zero_width": "\ufeff\u200b\u200d",
    "noncharacters": "\ufffe\uffff\U0010ffff",
    "combining_pile": "a" + "\u0301" * 200,
    "emoji_zwj": "\U0001f469\u200d\u2695\ufe0f",
    "c1_control": "\u0085\u009b",
    "very_long": "\u5c71" * 5_000,
}
FREE_TEXT = [  # (route, body builder): each puts the text where a clinician types
    ("/custody/prison-receptions", lambda s: {"establishment": s}),
    ("/custody/prison-receptions", lambda s: {"establishment": "HMP Leeds",
                                              "prison_number": s}),
    ("/episodes/1/care-plans", lambda s: {"goals": [s], "interventions": [],
                                          "named_worker": s, "next_review_date": "2030-01-01"}),
    ("/episodes/1/caseload-assignments", lambda s: {"worker_id": s, "site": s}),
    ("/sharing/dissents", lambda s: {"organisation": s}),
    ("/break-glass", lambda s: {"reason": f"urgent: {s}"}),
]


def raw_json(body: dict[str, Any]) -> bytes:
    """JSON with every non-ASCII character escaped, so lone surrogates go over the wire as
    the \\udxxx escapes a hostile client would send."""
    return json.dumps(body, ensure_ascii=True).encode()


def exercise_free_text(client: TestClient, app: SonarApplication, runner: ProjectionRunner,
                       text: str) -> list[str]:
    """Put ``text`` in every free-text field of a new patient; then the read models must
    still reach the head and serve the record and timeline."""
    pid = client.post("/api/v1/patients", json={
        "given_name": "Uni", "family_name": "Code", "date_of_birth": "1980-02-03",
        "sex": "male"}).json()["patient_id"]
    one = f"/api/v1/patients/{pid}"
    failures: list[str] = []
    for path, build in FREE_TEXT:
        if path == "/custody/prison-receptions":  # a fresh arrival each time
            client.post(one + "/custody/releases", json={"release_type": "licence"})
        before = app.position()
        response = client.post(one + path, content=raw_json(build(text)),
                               headers={"Content-Type": "application/json"})
        status = response.status_code
        if status not in (201, 404, 409, 422):
            failures.append(f"{status} at {path}: {response.text[:200]}")
        elif status != 201 and app.position() != before:
            failures.append(f"{status} refused but wrote at {path}")
    head = app.position()
    try:
        runner.catch_up()
    except Exception as exc:  # reported below as the failure it is
        failures.append(f"read models cannot apply the accepted text: {exc!r}"[:300])
    for view in ("record", "timeline"):
        read = client.get(f"{one}/{view}", params={"min_position": head})
        if read.status_code != 200:
            failures.append(f"GET {view} {read.status_code}: {read.text[:200]}")
    return failures


@pytest.mark.parametrize("name", [n for n in UNICODE if n != "nul"])
def test_unicode_edge_cases_are_stored_or_refused_and_never_break_the_read_models(
        target: Target, name: str) -> None:
    assert exercise_free_text(target.client, target.app, target.runner, UNICODE[name]) == []


def test_a_nul_character_is_refused_or_stored_without_breaking_the_read_models(
        postgres_settings: Settings) -> None:
    """On its own store: an event the read models cannot apply would stall them for ever."""
    config = postgres_settings.model_copy(update={"auth_secret": target_secret()})
    with signed_in(config) as (_, client, app, runner):
        assert exercise_free_text(client, app, runner, UNICODE["nul"]) == []


def target_secret() -> SecretStr:
    return SecretStr(SECRET)
