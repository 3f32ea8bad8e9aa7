"""ReSet with an injected clock: release planning → appointments → attended / missed →
alerts named, consent revoked mid-way, the scheduler run twice, and continuity of care."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from sonar.notifications.scheduler import run_once
from tests.conftest import FakeClock
from tests.e2e.auth_helpers import SMS_WORKER, api_client, settings_for, sign_in
from tests.e2e.test_api import post, received_and_referred

PLAN = {"expected_release_date": "2026-03-20", "release_area": "Leeds",
        "gp_registered": True, "gp_practice": "Chapeltown Health Centre",
        "community_treatment_referral": True, "community_service": "Forward Leeds",
        "reconnect_referral": True, "medicines": [{"name": "Methadone 60mg", "days": 3}],
        "ost_bridging": True, "naloxone_supplied": True}


@pytest.fixture
def client(tmp_path: Path, clock: FakeClock) -> Iterator[TestClient]:
    with api_client(settings_for(tmp_path), clock) as c:
        c.headers.update(sign_in(c, SMS_WORKER))
        yield c


def book(client: TestClient, pid: str, clock: FakeClock, kind: str, agency: str,
         days: int) -> str:
    start = clock.now + timedelta(days=days)
    response = post(client, f"/{pid}/appointments", {
        "kind": kind, "agency": agency, "agency_contact": f"duty@{agency.lower()}.example",
        "starts_at": start.isoformat(), "ends_at": (start + timedelta(hours=1)).isoformat(),
        "place": "Leeds"})
    assert response.status_code == 201, response.text
    appointment_id: str = response.json()["appointment_id"]
    return appointment_id


def scheduler(client: TestClient) -> int:
    app: Any = client.app
    return run_once(app.state.application, app.state.runner)


def timeline_types(client: TestClient, pid: str) -> list[str]:
    at = client.get("/health").json()["position"]
    items = client.get(f"/api/v1/patients/{pid}/timeline",
                       params={"min_position": at, "limit": 500}).json()["items"]
    return [i["event_type"] for i in items]


def test_release_diary_attended_missed_and_alerts(client: TestClient, clock: FakeClock) -> None:
    pid = received_and_referred(client)
    assert post(client, f"/{pid}/release-plans", PLAN).status_code == 201
    assert post(client, f"/{pid}/sharing/family-notification-consents", {
        "family_member": "Pat Holt", "relationship": "sister",
        "contact_channel": "text_message", "contact_address": "07700 900123"}
    ).status_code == 201
    probation = book(client, pid, clock, "probation", "Probation", days=2)
    treatment = book(client, pid, clock, "drug_alcohol_service", "ForwardLeeds", days=3)
    gp = book(client, pid, clock, "gp", "Chapeltown", days=9)

    summary = client.get(f"/api/v1/patients/{pid}/release-summary").json()
    assert summary["release_plan"]["naloxone_supplied"] is True
    assert [a["kind"] for a in summary["appointments"]] == ["probation",
                                                            "drug_alcohol_service", "gp"]
    page = client.get(f"/api/v1/patients/{pid}/release-summary",
                      headers={"Accept": "text/html"})
    assert "Naloxone supplied" in page.text
    pdf = client.get(f"/api/v1/patients/{pid}/release-summary",
                     headers={"Accept": "application/pdf"})
    assert pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")

    clock.advance(days=1)
    assert post(client, f"/{pid}/custody/releases", {"release_type": "licence",
                                                     "destination_area": "Leeds"}
                ).status_code == 201
    clock.advance(days=3)  # probation (day 2) missed; treatment (day 3) attended
    assert post(client, f"/{pid}/appointments/{treatment}/attendance",
                {"confirmed_by": "agency"}).status_code == 201
    assert scheduler(client) == 1
    assert scheduler(client) == 0  # safe to run twice: nothing more is written
    missed = list(client.get(f"/api/v1/patients/{pid}/timeline", params={
        "event_type": "AppointmentMissed", "min_position": client.get("/health").json()[
            "position"]}).json()["items"])
    assert [m["payload"]["appointment_id"] for m in missed] == [probation]
    assert missed[0]["payload"]["agencies"] == ["Chapeltown", "ForwardLeeds", "Probation"]
    assert missed[0]["payload"]["family_members"] == ["Pat Holt"]
    assert missed[0]["source"] == "scheduler"

    # Consent revoked: the next miss names no family member.
    post(client, f"/{pid}/sharing/family-notification-consents/revocations",
         {"family_member": "Pat Holt"})
    clock.advance(days=7)
    assert scheduler(client) == 1
    latest = client.get(f"/api/v1/patients/{pid}/timeline", params={
        "event_type": "AppointmentMissed", "min_position": client.get("/health").json()[
            "position"]}).json()["items"][-1]
    assert latest["payload"]["appointment_id"] == gp
    assert latest["payload"]["family_members"] == []

    diary = client.get(f"/api/v1/patients/{pid}/appointments").json()["items"]
    assert {d["appointment_id"]: d["status"] for d in diary} == {
        probation: "missed", treatment: "attended", gp: "missed"}
    continuity = client.get("/api/v1/reports/continuity", params={
        "from": (clock.now - timedelta(days=30)).date().isoformat(),
        "to": clock.now.date().isoformat()}).json()
    assert continuity["engaged_within_21_days"] == 1  # the attended treatment appointment


def test_refusals_write_nothing(client: TestClient, clock: FakeClock) -> None:
    pid = received_and_referred(client)
    before = client.get("/health").json()["position"]
    bad_plan = {**PLAN, "gp_practice": None}
    response = post(client, f"/{pid}/release-plans", bad_plan)
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "gp_practice"
    backwards = post(client, f"/{pid}/appointments", {
        "kind": "gp", "agency": "GP", "starts_at": clock.now.isoformat(),
        "ends_at": (clock.now - timedelta(hours=1)).isoformat(), "place": "Leeds"})
    assert backwards.status_code == 422
    unknown = post(client, f"/{pid}/appointments/abc123/attendance", {"confirmed_by": "agency"})
    assert unknown.status_code == 409
    assert client.get("/health").json()["position"] == before



def test_the_released_person_uses_their_own_diary_only(client: TestClient,
                                                       clock: FakeClock) -> None:
    from tests.e2e.auth_helpers import PASSWORD, TestUser, add_user  # noqa: PLC0415

    pid = received_and_referred(client)
    appointment = book(client, pid, clock, "probation", "Probation", days=1)
    person = TestUser("sam-holt", "patient", "Self", "Community")
    add_user(client.app, person, patient_id=pid)  # type: ignore[arg-type]
    token = client.post("/api/v1/auth/token", data={"username": person.username,
                                                    "password": PASSWORD}).json()
    mine = {"Authorization": f"Bearer {token['access_token']}"}
    at = client.get("/health").json()["position"]
    diary = client.get("/api/v1/me/diary", headers=mine, params={"min_position": at}).json()
    assert [d["appointment_id"] for d in diary["items"]] == [appointment]
    page = client.get("/api/v1/me/diary/page", headers=mine)
    assert "width=device-width" in page.text
    assert "Probation" in page.text
    assert client.get(f"/api/v1/patients/{pid}/record", headers=mine).status_code == 403
    clock.advance(days=1, minutes=10)
    confirmed = client.post(f"/api/v1/me/diary/{appointment}/attendance", json={},
                            headers=mine)
    assert confirmed.status_code == 201, confirmed.text
    after = client.get("/api/v1/me/diary", headers=mine, params={
        "min_position": confirmed.json()["position"]}).json()["items"][0]
    assert (after["status"], after["confirmed_by"]) == ("attended", "person")

    # Their own reminders: a phone number they choose; a bad one is refused beside the field.
    bad = client.post("/api/v1/me/reminder-contact", headers=mine,
                      json={"channel": "text_message", "address": "not a number"})
    assert (bad.status_code, bad.json()["errors"][0]["field"]) == (422, "address")
    assert client.post("/api/v1/me/reminder-contact", headers=mine, json={
        "channel": "text_message", "address": "07700 900123"}).status_code == 201
    assert client.post("/api/v1/me/reminder-contact", headers=mine,
                       json={"channel": "letter", "address": "1 Street"}).status_code == 422


def test_a_retried_booking_answers_with_the_same_appointment(client: TestClient,
                                                             clock: FakeClock) -> None:
    pid = received_and_referred(client)
    start = clock.now + timedelta(days=2)
    body = {"kind": "housing", "agency": "Leeds Housing", "place": "Leeds",
            "starts_at": start.isoformat(), "ends_at": (start + timedelta(hours=1)).isoformat()}
    first = post(client, f"/{pid}/appointments", body, **{"Idempotency-Key": "book-1"}).json()
    again = post(client, f"/{pid}/appointments", body, **{"Idempotency-Key": "book-1"}).json()
    assert again["replayed"] is True
    assert again["appointment_id"] == first["appointment_id"]
    diary = client.get(f"/api/v1/patients/{pid}/appointments",
                       params={"min_position": again["position"]}).json()["items"]
    assert [d["appointment_id"] for d in diary] == [first["appointment_id"]]


def test_a_long_record_with_a_booking_still_loads_after_a_restart(tmp_path: Path,
                                                                  clock: FakeClock) -> None:
    """Times from a request body hold only standard time zones, so the snapshot taken at
    the 50th event can be read back by a server that starts afresh."""
    settings = settings_for(tmp_path)
    with api_client(settings, clock) as client:
        client.headers.update(sign_in(client, SMS_WORKER))
        pid = received_and_referred(client)
        booked = book(client, pid, clock, "probation", "Probation", days=2)
        starts_at = (clock.now + timedelta(days=2)).isoformat()
        while client.get(f"/api/v1/patients/{pid}").json()["version"] <= 50:
            assert post(client, f"/{pid}/episodes/1/risk-assessments", {
                "level": "low", "risks": [], "occurred_at": clock.now.isoformat()},
                        ).status_code == 201
    with api_client(settings, clock) as restarted:
        restarted.headers.update(sign_in(restarted, SMS_WORKER))
        summary = restarted.get(f"/api/v1/patients/{pid}/release-summary")
        assert summary.status_code == 200, summary.text
        [appointment] = summary.json()["appointments"]
        assert (appointment["appointment_id"], appointment["starts_at"]) == (booked, starts_at)
