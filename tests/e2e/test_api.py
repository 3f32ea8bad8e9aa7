"""The API over HTTP: the clinical scenario, and clear problem details for bad input."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.conftest import FakeClock
from tests.e2e.auth_helpers import SMS_WORKER, api_client, settings_for, sign_in

PATIENT = {"given_name": "Sam", "family_name": "Holt", "date_of_birth": "1990-05-01",
           "sex": "male", "nhs_number": "9434765919"}


@pytest.fixture
def client(tmp_path: Path, clock: FakeClock) -> Iterator[TestClient]:
    """The API, signed in as the scenario's SMS worker at HMP Leeds."""
    with api_client(settings_for(tmp_path), clock) as c:
        c.headers.update(sign_in(c, SMS_WORKER))
        yield c


def post(client: TestClient, path: str, body: Any, **headers: str) -> Any:
    return client.post(f"/api/v1/patients{path}", json=body, headers=headers)


def received_and_referred(client: TestClient) -> str:
    pid: str = post(client, "", PATIENT).json()["patient_id"]
    assert post(client, f"/{pid}/custody/prison-receptions",
                {"establishment": "HMP Leeds", "prison_number": "A1234BC"}).status_code == 201
    referral = post(client, f"/{pid}/referrals", {
        "source": "reception_screen", "substances": ["heroin", "crack"],
        "injecting_status": "currently", "previously_treated": False})
    assert referral.json()["episode"] == 1
    assert post(client, f"/{pid}/episodes/1/referral-outcome",
                {"outcome": "accepted"}).status_code == 201
    return pid


def test_receive_refer_score_and_review_at_28_days(client: TestClient, clock: FakeClock) -> None:
    pid = received_and_referred(client)
    top = post(client, f"/{pid}/episodes/1/tops", {
        "stage": "start", "answers": {"opiates_days": 28, "crack_days": 12,
                                      "psychological_health": 6, "education_days": None}})
    assert top.status_code == 201
    assert int(top.headers["X-Log-Position"]) == top.json()["position"]
    clock.advance(days=6)
    assert post(client, f"/{pid}/episodes/1/reviews",
                {"kind": "day_5", "outcome": "completed"}).status_code == 201
    clock.advance(days=23)
    review = post(client, f"/{pid}/episodes/1/reviews", {"kind": "day_28", "outcome": "completed"})
    assert review.status_code == 201, review.json()

    record = client.get(f"/api/v1/patients/{pid}").json()
    episode = record["episodes"][0]
    assert record["setting"] == "prison"
    assert record["identity"]["prison_number"] == "A1234BC"
    assert [r["status"] for r in episode["reviews"]] == ["done", "done", "due"]
    answers = episode["entries"][0]["value"]["answers"]
    assert answers["opiates_days"] == 28
    assert "education_days" not in answers  # not answered is not zero


def test_a_bad_top_value_is_422_naming_the_item_and_writes_nothing(client: TestClient) -> None:
    pid = received_and_referred(client)
    before = client.get("/health").json()["position"]
    response = post(client, f"/{pid}/episodes/1/tops",
                    {"stage": "start", "answers": {"opiates_days": 29, "quality_of_life": 12}})
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["errors"] == [{
        "field": "answers.opiates_days", "pointer": "#/answers/opiates_days",
        "rule": "top.days_range",
        "detail": "Opiates / opioids (illicit): days used must be between 0 and 28; got 29."}]
    assert client.get("/health").json()["position"] == before


def test_an_illegal_step_is_409(client: TestClient) -> None:
    pid = post(client, "", PATIENT).json()["patient_id"]
    response = post(client, f"/{pid}/custody/transfers", {"to_establishment": "HMP Hull"})
    assert response.status_code == 409
    assert response.json()["rule"] == "journey.transfer_not_allowed"


def test_an_unknown_patient_is_404(client: TestClient) -> None:
    response = post(client, "/00000000-0000-4000-8000-000000000000/referrals", {
        "source": "self", "substances": ["alcohol"], "injecting_status": "never",
        "previously_treated": False})
    assert response.status_code == 404
    assert response.json()["rule"] == "patient.not_found"


@pytest.mark.parametrize(("body", "field", "rule"), [
    ({**PATIENT, "nhs_number": "9434765918"}, "nhs_number", "nhs_number.check_digit"),
    ({**PATIENT, "sex": "x"}, "sex", "sex.unknown_code"),
    ({**PATIENT, "date_of_birth": "1990-13-01"}, "date_of_birth",
     "schema.date_from_datetime_parsing"),
    ({**PATIENT, "shoe_size": 9}, "shoe_size", "schema.extra_forbidden"),
    ({k: v for k, v in PATIENT.items() if k != "family_name"}, "family_name", "schema.missing"),
])
def test_bad_registration_names_field_and_rule(client: TestClient, body: dict[str, Any],
                                               field: str, rule: str) -> None:
    response = post(client, "", body)
    assert response.status_code == 422
    assert {(e["field"], e["rule"]) for e in response.json()["errors"]} >= {(field, rule)}


def test_future_clinical_time_is_refused(client: TestClient, clock: FakeClock) -> None:
    pid = post(client, "", PATIENT).json()["patient_id"]
    future = (clock.now + timedelta(hours=2)).isoformat()
    response = post(client, f"/{pid}/custody/prison-receptions",
                    {"establishment": "HMP Leeds", "occurred_at": future})
    assert response.status_code == 422
    assert response.json()["errors"][0]["rule"] == "occurred_at.not_in_future"


def test_malformed_json_is_a_problem_not_a_crash(client: TestClient) -> None:
    response = client.post("/api/v1/patients", content=b'{"given_name": ',
                           headers={"Content-Type": "application/json"})
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"


def test_a_method_the_path_is_not_served_with_is_405_naming_every_one_it_is(
        client: TestClient) -> None:
    pid = post(client, "", PATIENT).json()["patient_id"]
    # The diary is read by one route and booked into by another, on the same path.
    response = client.delete(f"/api/v1/patients/{pid}/appointments")
    assert response.status_code == 405
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["Allow"] == "GET, POST"


def test_missing_token_is_401(client: TestClient) -> None:
    response = client.post("/api/v1/patients", json=PATIENT,
                           headers={"Authorization": ""})
    assert response.status_code == 401
    assert response.json()["rule"] == "auth.token_required"
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_idempotency_key_header_makes_a_retry_safe(client: TestClient) -> None:
    first = post(client, "", PATIENT, **{"Idempotency-Key": "abc"})
    again = post(client, "", PATIENT, **{"Idempotency-Key": "abc"})
    assert again.status_code == 201
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json()["patient_id"] == first.json()["patient_id"]
    found = client.get("/api/v1/patients", params={"nhs_number": "9434765919"})
    assert found.json() == {"patient_ids": [first.json()["patient_id"]]}


def test_duplicate_nhs_number_is_409_with_the_existing_record(client: TestClient) -> None:
    first = post(client, "", PATIENT).json()["patient_id"]
    response = post(client, "", PATIENT)
    assert response.status_code == 409
    assert response.json()["existing_patient_id"] == first


def test_entered_in_error_keeps_the_entry_with_its_reason(client: TestClient) -> None:
    pid = received_and_referred(client)
    version = post(client, f"/{pid}/episodes/1/risk-assessments",
                   {"level": "high", "risks": ["overdose"]}).json()["position"]
    del version
    entry = client.get(f"/api/v1/patients/{pid}").json()
    entry_version = entry["episodes"][0]["entries"][0]["entry_version"]
    assert post(client, f"/{pid}/entries/{entry_version}/entered-in-error",
                {"reason": "Recorded against the wrong patient"}).status_code == 201
    after = client.get(f"/api/v1/patients/{pid}").json()
    assert after["episodes"][0]["entries"][0]["in_error"] == "Recorded against the wrong patient"


def test_oversized_body_is_413(client: TestClient) -> None:
    response = client.post("/api/v1/patients", content=b"x" * 1_000_001,
                           headers={"Content-Type": "application/json"})
    assert response.status_code == 413


def test_openapi_and_health_are_served(client: TestClient) -> None:
    assert client.get("/health").json()["status"] == "ok"
    spec = client.get("/openapi.json").json()
    assert "/api/v1/patients/{patient_id}/episodes/{episode}/tops" in spec["paths"]
