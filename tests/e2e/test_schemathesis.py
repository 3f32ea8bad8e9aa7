"""Schemathesis over every operation in /openapi.json, signed in, with all of its checks.

Its engine runs as ``st run`` does: the schema's examples, the coverage phase (boundary and
invalid values, missing parameters, undeclared methods), fuzzing with valid and invalid
data, and stateful sequences. Every answer must be declared (status, content type, headers,
JSON schema), invalid input refused, valid input refused only by a rule no schema can
state, a missing token refused, and never a 5xx. Most requests name a patient with a full
record (and its episode, entries and appointments), so reads answer real records and
commands meet real states; each operation is called by a role that may use it. Bounded (a
few examples per operation, a fixed seed) so it runs in CI.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import schemathesis
from fastapi.testclient import TestClient
from schemathesis.engine import events, from_schema

from sonar.api.main import create_app
from sonar.bootstrap import build_application, build_record_store, build_runner
from tests.e2e.auth_helpers import SMS_WORKER, add_user, settings_for, sign_in, user_for
from tests.e2e.test_api import post, received_and_referred

MAX_EXAMPLES = 25
# A request the schema allows can still break a rule no schema can state: an NHS number's
# check digit, 'to' before 'from', a clinical time in the future, a step the record's state
# forbids, FHIR content. The API refuses those with a 422 naming the rule, which
# positive_data_acceptance is told to expect; the check below then holds the schema to
# everything the API's own schema validation refuses.
POSITIVE_DATA_STATUSES = ["2xx", "401", "403", "404", "409", "422"]
# Schema validation the published schema cannot express exactly: the plausible window is
# compared in UTC (1900-01-01T00:30+01:00 is 1899), and bodies are strict JSON (2.0 is a
# number, not an integer, though JSON Schema calls it one).
BEYOND_THE_SCHEMA = frozenset({"schema.time_out_of_range", "schema.int_type"})
SEEDED = 0.8  # how often a request names the seeded patient rather than a generated id


@schemathesis.check
def schema_valid_input_passes_schema_validation(
        ctx: schemathesis.CheckContext, response: schemathesis.Response,
        case: schemathesis.Case) -> bool | None:
    """Input the schema allows is refused, if at all, by a rule beyond the schema."""
    del ctx
    if case.meta is None or not case.meta.generation.mode.is_positive:
        return None
    if response.status_code != 422:
        return None
    problem = response.json()
    refused = {e.get("rule") for e in problem.get("errors") or []}
    if problem.get("rule") == "validation.schema" and not refused <= BEYOND_THE_SCHEMA:
        raise AssertionError("Input the schema allows was refused by schema validation: "
                             f"{problem.get('detail')}")
    return None


def a_full_record(client: TestClient) -> dict[str, Any]:
    """A patient in HMP Leeds on the SMS worker's caseload, with a TOP, risk, care and
    release plans, family consent and booked appointments: the values requests name."""
    pid = received_and_referred(client)
    soon = datetime.now(UTC) + timedelta(days=3)
    for path, body in (
            ("/episodes/1/caseload-assignments", {"worker_id": "sms-1", "site": "HMP Leeds"}),
            ("/episodes/1/tops", {"stage": "start", "answers": {"opiates_days": 20}}),
            ("/episodes/1/risk-assessments", {"level": "high", "risks": ["overdose"]}),
            ("/episodes/1/care-plans", {"goals": ["Stabilise"], "interventions": [],
                                        "named_worker": "sms-1",
                                        "next_review_date": soon.date().isoformat()}),
            ("/release-plans", {"expected_release_date": soon.date().isoformat(),
                                "release_area": "Leeds", "gp_registered": False,
                                "gp_practice": None, "community_treatment_referral": False,
                                "community_service": None, "reconnect_referral": False,
                                "medicines": [], "ost_bridging": False,
                                "naloxone_supplied": True}),
            ("/sharing/family-notification-consents", {
                "family_member": "Pat Holt", "relationship": "sister",
                "contact_channel": "text_message", "contact_address": "07700 900123"})):
        assert post(client, f"/{pid}{path}", body).status_code == 201, path
    booked = post(client, f"/{pid}/appointments", {
        "kind": "probation", "agency": "Probation", "agency_contact": None,
        "starts_at": soon.isoformat(), "ends_at": (soon + timedelta(hours=1)).isoformat(),
        "place": "Leeds"})
    assert booked.status_code == 201, booked.text
    entries = client.get(f"/api/v1/patients/{pid}").json()["episodes"][0]["entries"]
    return {"patient_id": pid, "episode": 1, "appointment_id": booked.json()["appointment_id"],
            "entry_version": entries[0]["entry_version"]}


@pytest.fixture(scope="module")
def fuzzed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """The API with a full record, and the headers of each role the fuzzing signs in as."""
    config = settings_for(tmp_path_factory.mktemp("fuzz"))
    application = build_application(config)
    runner = build_runner(config, application)
    runner.migrate()
    api = create_app(config, application, runner, build_record_store(config))
    with TestClient(api) as client:
        sms = sign_in(client, SMS_WORKER)
        client.headers.update(sms)
        seeded = a_full_record(client)
        released = user_for("patient")
        add_user(api, released, seeded["patient_id"])  # their own record, the seeded one
        yield {"api": api, "seeded": seeded, "sms_worker": sms,
               "patient": sign_in(client, released),
               "auditor": sign_in(client, user_for("auditor"))}


def failures_of(event: events.EngineEvent) -> Iterator[str]:
    """What went wrong in one engine event, one line per distinct failure."""
    if isinstance(event, events.ScenarioFinished | events.FuzzScenarioFinished):
        for checks in event.recorder.checks.values():
            for check in checks:
                if check.failure_info is not None:
                    failure = check.failure_info.failure
                    yield (f"{check.name}: {failure.operation}: {failure.title}\n"
                           f"{failure.message}\n{check.failure_info.code_sample}")
    elif isinstance(event, events.NonFatalError):
        yield f"error: {event.label}: {event.info}"
    elif isinstance(event, events.FatalError):
        yield f"fatal: {event.exception!r}"


def fuzzing_config(fuzzed: dict[str, Any]) -> dict[str, Any]:
    seeded = fuzzed["seeded"]
    return {
        "seed": 20260302,
        "headers": fuzzed["sms_worker"],
        # The audit log is the auditor's; the diary under /me is the released person's.
        "operations": [{"include-path-regex": "^/api/v1/audit/", "headers": fuzzed["auditor"]},
                       {"include-path-regex": "^/api/v1/me/", "headers": fuzzed["patient"]}],
        "checks": {"enabled": True,  # every check schemathesis has, and the one above
                   "positive_data_acceptance": {"expected-statuses": POSITIVE_DATA_STATUSES}},
        "generation": {"mode": "all", "max-examples": MAX_EXAMPLES, "database": "none"},
        "dictionaries": {name: {"values": [value]} for name, value in seeded.items()},
        "parameters": {
            **{f"path.{name}": {"dictionary": name, "probability": SEEDED} for name in seeded},
            # Reads wait up to 5 s for a log position not yet reached (then 503, by
            # design): a generated position would cost that wait each time.
            "query.min_position": 0},
    }


def test_every_operation_answers_as_its_contract_says(fuzzed: dict[str, Any]) -> None:
    config = schemathesis.Config.from_dict(fuzzing_config(fuzzed))
    schema = schemathesis.openapi.from_asgi("/openapi.json", fuzzed["api"], config=config)
    failures: dict[str, None] = {}
    finished = False
    for event in from_schema(schema).execute():
        failures |= dict.fromkeys(failures_of(event))
        finished = finished or isinstance(event, events.EngineFinished)
    assert finished
    assert not failures, "\n\n".join(failures)
