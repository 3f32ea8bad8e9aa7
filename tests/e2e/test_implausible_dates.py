"""Dates and times at the calendar's ends (0001, 9999, with -12:00 and +14:00 offsets) are
refused where they enter, with a 422 naming the field and the rule: in every command body
and every query that takes a date or time. None is a 500."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.conftest import FakeClock
from tests.e2e.auth_helpers import SMS_WORKER, api_client, settings_for, sign_in, user_for
from tests.e2e.test_api import PATIENT, post, received_and_referred

EXTREME_TIMES = ("0001-01-01T00:30:00+14:00", "0001-01-01T00:00:00-12:00",
                 "9999-12-31T23:00:00-12:00", "9999-12-31T23:59:59+14:00",
                 "1899-12-31T23:59:59+00:00")
EXTREME_DAYS = ("0001-01-01", "9999-12-31", "1899-12-31")


@pytest.fixture
def client(tmp_path: Path, clock: FakeClock) -> Iterator[TestClient]:
    with api_client(settings_for(tmp_path), clock) as c:
        c.headers.update(sign_in(c, SMS_WORKER))
        yield c


def refused(response: Any, field: str) -> None:
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    fields = [e["field"] for e in response.json()["errors"]]
    assert any(f == field or f.endswith("." + field) for f in fields), fields


@pytest.mark.parametrize("moment", EXTREME_TIMES)
def test_an_appointment_at_the_calendars_ends_is_refused(client: TestClient,
                                                         moment: str) -> None:
    pid = received_and_referred(client)
    response = post(client, f"/{pid}/appointments", {
        "kind": "gp", "agency": "Surgery", "starts_at": moment, "ends_at": moment,
        "place": "Leeds"})
    refused(response, "starts_at")
    refused(response, "ends_at")  # every error at once


def test_an_appointment_more_than_two_years_ahead_is_refused(client: TestClient,
                                                             clock: FakeClock) -> None:
    pid = received_and_referred(client)
    response = post(client, f"/{pid}/appointments", {
        "kind": "gp", "agency": "Surgery", "starts_at": "2028-03-04T09:00:00+00:00",
        "ends_at": "2028-03-04T10:00:00+00:00", "place": "Leeds"})
    refused(response, "starts_at")
    assert response.json()["errors"][0]["rule"] == "time.out_of_range"


@pytest.mark.parametrize("moment", EXTREME_TIMES)
def test_clinical_times_at_the_calendars_ends_are_refused(client: TestClient,
                                                          moment: str) -> None:
    pid = received_and_referred(client)
    refused(post(client, f"/{pid}/custody/transfers",
                 {"to_establishment": "HMP Hull", "occurred_at": moment}), "occurred_at")
    refused(post(client, f"/{pid}/reception-screens", {
        "physical_health_concern": False, "alcohol_use": False, "substance_use": True,
        "withdrawal_symptoms": False, "mental_health_concern": False, "self_harm_risk": False,
        "acct_opened": False, "next_dose_due": moment}), "next_dose_due")


@pytest.mark.parametrize("day", EXTREME_DAYS)
def test_dates_at_the_calendars_ends_are_refused(client: TestClient, day: str) -> None:
    refused(post(client, "", {**PATIENT, "date_of_birth": day, "nhs_number": None}),
            "date_of_birth")
    pid = received_and_referred(client)
    refused(post(client, f"/{pid}/episodes/1/care-plans", {
        "goals": ["Stay well"], "interventions": [], "named_worker": "sms-1",
        "next_review_date": day}), "next_review_date")
    refused(post(client, f"/{pid}/release-plans", {
        "expected_release_date": day, "release_area": "Leeds", "gp_registered": False,
        "community_treatment_referral": False, "reconnect_referral": False,
        "naloxone_supplied": True}), "expected_release_date")


@pytest.mark.parametrize("day", EXTREME_DAYS)
def test_report_and_log_periods_at_the_calendars_ends_are_refused(
        tmp_path: Path, clock: FakeClock, day: str) -> None:
    with api_client(settings_for(tmp_path), clock) as c:
        clinician = sign_in(c, SMS_WORKER)
        pid = post(TestClient(c.app, headers=clinician), "", PATIENT).json()["patient_id"]
        for user, path in ((SMS_WORKER, f"/api/v1/patients/{pid}/timeline"),
                           (SMS_WORKER, "/api/v1/reports/outcomes"),
                           (SMS_WORKER, "/api/v1/reports/continuity"),
                           (SMS_WORKER, "/api/v1/reports/ndtms"),
                           (user_for("auditor"), "/api/v1/audit/access")):
            for param in ("from", "to"):
                other = "to" if param == "from" else "from"
                response = c.get(path, headers=sign_in(c, user),
                                 params={param: day, other: "2026-03-01"})
                assert response.status_code == 422, (path, param, response.text)
                assert response.headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize("moment", EXTREME_TIMES)
def test_as_of_at_the_calendars_ends_is_refused(client: TestClient, moment: str) -> None:
    pid = received_and_referred(client)
    response = client.get(f"/api/v1/patients/{pid}/record", params={"as_of": moment})
    refused(response, "as_of")


@pytest.mark.parametrize("number", [0, 1700000000, "0", "0.0"])
def test_a_date_or_time_given_as_a_number_is_refused_not_read_as_a_unix_time(
        client: TestClient, number: int | str) -> None:
    """1970-01-01 is a plausible day: the number must be refused as a number, not parsed."""
    body = {**PATIENT, "date_of_birth": number}
    refused(post(client, "", body), "date_of_birth")
    pid = received_and_referred(client)
    refused(client.get(f"/api/v1/patients/{pid}/timeline", params={"to": str(number)}), "to")
    refused(client.get(f"/api/v1/patients/{pid}/record", params={"as_of": str(number)}),
            "as_of")
    refused(post(client, f"/{pid}/episodes/1/reviews", {
        "kind": "day_5", "outcome": "completed", "occurred_at": number}), "occurred_at")
