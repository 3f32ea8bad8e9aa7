"""Read models over HTTP: read-your-writes, record, timeline, caseloads, reports, CSV."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.conftest import FakeClock
from tests.e2e.auth_helpers import SMS_WORKER, api_client, settings_for, sign_in
from tests.e2e.test_api import PATIENT, post, received_and_referred


@pytest.fixture
def client(tmp_path: Path, clock: FakeClock) -> Iterator[TestClient]:
    """The API, signed in as the scenario's SMS worker at HMP Leeds."""
    with api_client(settings_for(tmp_path), clock) as c:
        c.headers.update(sign_in(c, SMS_WORKER))
        yield c


def get(client: TestClient, path: str, **params: Any) -> Any:
    return client.get(f"/api/v1{path}", params=params)


def test_a_clinician_reads_their_own_write(client: TestClient) -> None:
    pid = received_and_referred(client)
    risk = post(client, f"/{pid}/episodes/1/risk-assessments",
                {"level": "high", "risks": ["overdose"], "acct_open": False}).json()
    record = get(client, f"/patients/{pid}/record", min_position=risk["position"]).json()
    assert record["risk_level"] == "high"
    assert record["named_risks"] == ["overdose"]
    assert "high_risk" in record["alerts"]
    assert record["setting"] == "prison"
    assert record["location"] == "HMP Leeds"
    assert record["active_episode"] == 1


def test_the_5_day_review_becomes_overdue_as_time_passes(client: TestClient,
                                                        clock: FakeClock) -> None:
    pid = received_and_referred(client)
    last = post(client, f"/{pid}/episodes/1/caseload-assignments",
                {"worker_id": "sms-1", "site": "HMP Leeds"}).json()["position"]
    mine = get(client, "/caseloads", worker="sms-1", min_position=last).json()["items"]
    first = mine[0]["reviews"][0]
    assert (first["kind"], first["status"]) == ("day_5", "due")
    clock.advance(days=6)  # no event arrives; the review is overdue all the same
    mine = get(client, "/caseloads", worker="sms-1").json()["items"]
    assert mine[0]["reviews"][0]["status"] == "overdue"
    assert mine[0]["overdue"] is True
    workforce = get(client, "/reports/workforce", site="HMP Leeds").json()["rows"]
    assert workforce == [{"site": "HMP Leeds", "worker": "sms-1", "active_caseload": 1,
                          "unassigned": 0, "reviews_due_7_days": 0, "reviews_overdue": 1}]


def test_timeline_shows_attribution_and_entries_in_error(client: TestClient) -> None:
    pid = received_and_referred(client)
    at = post(client, f"/{pid}/episodes/1/dual-diagnoses", {"status": "yes"}).json()["position"]
    timeline = get(client, f"/patients/{pid}/timeline", min_position=at).json()["items"]
    dual = timeline[-1]
    assert dual["event_type"] == "DualDiagnosisAssessed"
    assert (dual["actor_id"], dual["role"], dual["site"]) == ("sms-1", "sms_worker",
                                                               "HMP Leeds")
    last = post(client, f"/{pid}/entries/{dual['version']}/entered-in-error",
                {"reason": "Wrong patient"}).json()["position"]
    timeline = get(client, f"/patients/{pid}/timeline", min_position=last).json()["items"]
    assert timeline[-2]["in_error_reason"] == "Wrong patient"
    assert timeline[-1]["event_type"] == "EntryMarkedInError"
    only = get(client, f"/patients/{pid}/timeline", event_type="ReferredToSms").json()
    assert [i["event_type"] for i in only["items"]] == ["ReferredToSms"]


def test_timeline_by_clinical_day(client: TestClient, clock: FakeClock) -> None:
    pid = received_and_referred(client)  # 2 March 2026
    clock.advance(days=2, hours=14)  # 23:00 on 4 March in England (GMT)
    late = post(client, f"/{pid}/episodes/1/dual-diagnoses", {"status": "yes"}).json()
    clock.advance(hours=2)  # 01:00 on 5 March
    last = post(client, f"/{pid}/episodes/1/dual-diagnoses", {"status": "no"}).json()
    on_4th = get(client, f"/patients/{pid}/timeline", min_position=last["position"],
                 **{"from": "2026-03-04", "to": "2026-03-04"}).json()["items"]
    assert [i["version"] for i in on_4th] == [late["position"] and 5]
    since_3rd = get(client, f"/patients/{pid}/timeline", **{"from": "2026-03-03"}).json()
    assert len(since_3rd["items"]) == 2
    assert len(get(client, f"/patients/{pid}/timeline", to="2026-03-02").json()["items"]) == 4
    backwards = get(client, f"/patients/{pid}/timeline",
                    **{"from": "2026-03-05", "to": "2026-03-04"})
    assert (backwards.status_code, backwards.json()["errors"][0]["field"]) == (422, "to")


def test_timeline_pages(client: TestClient) -> None:
    pid = received_and_referred(client)
    first = get(client, f"/patients/{pid}/timeline", limit=2, min_position=5).json()
    assert len(first["items"]) == 2
    assert first["next_offset"] == 2
    rest = get(client, f"/patients/{pid}/timeline", limit=2, offset=2).json()
    assert rest["next_offset"] is None
    assert [i["version"] for i in first["items"] + rest["items"]] == [1, 2, 3, 4]


def test_search_by_nhs_number_prison_number_and_name_with_dob(client: TestClient) -> None:
    pid = received_and_referred(client)
    get(client, "/patients/search", nhs_number="9434765919", min_position=5)
    for params in ({"nhs_number": "943 476 5919"}, {"prison_number": "a1234bc"},
                   {"family_name": "holt", "date_of_birth": "1990-05-01"}):
        found = get(client, "/patients/search", **params).json()["items"]
        assert [f["patient_id"] for f in found] == [pid]
    assert get(client, "/patients/search").status_code == 422


def test_outcomes_and_continuity_reports(client: TestClient, clock: FakeClock) -> None:
    pid = received_and_referred(client)
    post(client, f"/{pid}/episodes/1/tops", {"stage": "start", "answers": {
        "opiates_days": 20, "crack_days": 10, "psychological_health": 5}})
    clock.advance(days=40)
    post(client, f"/{pid}/episodes/1/tops", {"stage": "review", "answers": {
        "opiates_days": 0, "crack_days": 12, "psychological_health": 11}})
    post(client, f"/{pid}/episodes/1/discharge", {"exit_reason": "transferred_not_in_custody"})
    clock.advance(hours=2)
    last = post(client, f"/{pid}/custody/releases", {"release_type": "licence"}).json()
    period = {"from": (clock.now - timedelta(days=60)).date().isoformat(),
              "to": clock.now.date().isoformat(), "min_position": last["position"]}
    report = get(client, "/reports/outcomes", site="HMP Leeds", **period).json()
    assert report["referral_outcomes"] == {"accepted": 1}
    assert report["top_change"]["substances"]["opiates"] == {"abstinent": 1}
    assert report["top_change"]["substances"]["crack"] == {"increased": 1}
    assert report["top_change"]["scores"]["psychological_health"]["mean_change"] == 6
    assert report["discharge_reasons"] == {"transferred_not_in_custody": 1}
    codes = {(c["category"], c["code"]) for c in report["coded_activity"]}
    assert ("referral", "201521000000104") in codes
    by_site = get(client, "/reports/outcomes/by-site", **period).json()
    assert by_site["sites"] == {"HMP Leeds": {"accepted": 1}}
    continuity = get(client, "/reports/continuity", **period).json()
    assert continuity["released_with_treatment_need"] == 1
    assert continuity["referred_on_release"] == 1
    assert continuity["pending"] == 1
    as_csv = client.get("/api/v1/reports/outcomes", params=period,
                        headers={"Accept": "text/csv"})
    assert as_csv.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(as_csv.text)))
    assert {"measure": "top:opiates", "key": "abstinent", "value": "1"}.items() <= rows[
        [r["measure"] for r in rows].index("top:opiates")].items()


def test_an_unknown_patient_record_is_404(client: TestClient) -> None:
    at = post(client, "", PATIENT).json()["position"]
    response = get(client, "/patients/00000000-0000-4000-8000-000000000000/record",
                   min_position=at)
    assert response.status_code == 404


def test_a_report_period_backwards_is_422(client: TestClient) -> None:
    response = get(client, "/reports/outcomes", **{"from": "2026-03-02", "to": "2026-03-01"})
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "to"


def test_the_whole_record_dates_reviews_by_today_in_england(client: TestClient,
                                                            clock: FakeClock) -> None:
    clock.now = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)
    pid = received_and_referred(client)  # treatment starts 1 June: 5-day review due 6 June
    clock.now = datetime(2026, 6, 6, 22, 59, tzinfo=UTC)  # 23:59 on 6 June (BST)
    reviews = client.get(f"/api/v1/patients/{pid}").json()["episodes"][0]["reviews"]
    assert (reviews[0]["kind"], reviews[0]["status"]) == ("day_5", "due")
    clock.now = datetime(2026, 6, 6, 23, 1, tzinfo=UTC)  # 00:01 on 7 June (BST)
    reviews = client.get(f"/api/v1/patients/{pid}").json()["episodes"][0]["reviews"]
    assert reviews[0]["status"] == "overdue"


def test_a_report_period_is_of_days_in_england(client: TestClient, clock: FakeClock) -> None:
    clock.now = datetime(2026, 6, 1, 23, 30, tzinfo=UTC)  # 00:30 on 2 June (BST)
    pid = received_and_referred(client)
    on = {"min_position": post(client, f"/{pid}/episodes/1/caseload-assignments", {
        "worker_id": "sms-1", "site": "HMP Leeds"}).json()["position"]}
    first = get(client, "/reports/outcomes", **{"from": "2026-06-01", "to": "2026-06-01"},
                **on).json()
    second = get(client, "/reports/outcomes", **{"from": "2026-06-02", "to": "2026-06-02"},
                 **on).json()
    assert (first["referral_outcomes"], second["referral_outcomes"]) == ({}, {"accepted": 1})
    assert second["from"] == "2026-06-02T00:00:00+01:00"
