"""The clinician's forms over HTTP: each step saves through the API, or shows why beside the field.

A success redirects to the record at the write's log position; a refusal re-renders the
form with the message beside the input it concerns and in the summary, and writes nothing.
Every POST needs the session's CSRF token: without it the answer is 403 and nothing is saved.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.conftest import FakeClock
from tests.e2e.auth_helpers import PASSWORD, SMS_WORKER, add_user, api_client, settings_for, sign_in
from tests.e2e.test_api import received_and_referred

_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')
_IN_4_WEEKS = (date.today() + timedelta(weeks=4)).isoformat()
_ON_RELEASE = f"{date.today() + timedelta(weeks=4, days=1)}T10:00"


def real_clock() -> FakeClock:
    """Real time: the UI shows times (break-glass "until") against the wall clock."""
    return FakeClock(datetime.now(UTC).replace(microsecond=0))


@dataclass
class Ui:
    """A browser-like client: the UI's session cookie, plus API headers to check what it did."""

    client: TestClient
    api_headers: dict[str, str]

    def token(self, path: str = "/ui/caseload") -> str:
        found = _TOKEN.search(self.client.get(path).text)
        assert found, f"no CSRF token on {path}"
        return found.group(1)

    def submit(self, path: str, fields: dict[str, Any]) -> Any:
        """Post a form as the browser would, with the page's CSRF token."""
        return self.client.post(path, data={"csrf_token": self.token(path), **fields},
                                follow_redirects=False)

    def page(self, path: str, **params: Any) -> str:
        """A page once the read models have caught up with every write so far."""
        position = self.client.get("/health").json()["position"]
        response = self.client.get(path, params={"min_position": position, **params})
        assert response.status_code == 200, response.text
        return str(response.text)

    def api(self, path: str, **params: Any) -> Any:
        response = self.client.get(f"/api/v1/patients{path}", params=params,
                                   headers=self.api_headers)
        assert response.status_code == 200, response.text
        return response.json()

    def events(self, pid: str, event_type: str) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = self.api(f"/{pid}/timeline", event_type=event_type)["items"]
        return items


def ui_signed_in(client: TestClient, username: str) -> None:
    page = client.get("/ui/sign-in")
    token = _TOKEN.search(page.text)
    assert token
    response = client.post("/ui/sign-in", follow_redirects=False, data={
        "csrf_token": token.group(1), "username": username, "password": PASSWORD})
    assert response.status_code == 303, response.text


def signed_in_ui(tmp_path: Path, clock: FakeClock) -> Iterator[Ui]:
    """The SMS worker at HMP Leeds, signed in to the UI."""
    with api_client(settings_for(tmp_path), clock) as client:
        headers = sign_in(client, SMS_WORKER)
        ui_signed_in(client, SMS_WORKER.username)
        yield Ui(client, headers)


def accepted_patient(ui: Ui) -> str:
    """A patient received at HMP Leeds, referred and accepted (episode 1)."""
    ui.client.headers.update(ui.api_headers)
    try:
        return received_and_referred(ui.client)
    finally:
        del ui.client.headers["Authorization"]


clock = pytest.fixture(real_clock, name="clock")
ui = pytest.fixture(signed_in_ui, name="ui")
pid = pytest.fixture(accepted_patient, name="pid")


def saved(ui: Ui, response: Any, pid: str, slug: str) -> str:
    """The record page after a successful step; asserts the redirect names the write."""
    assert response.status_code == 303, response.text
    location = response.headers["location"]
    assert location.startswith(f"/ui/patients/{pid}?done={slug}&min_position=")
    return str(ui.client.get(location).text)


STEPS_SAVED = [
    ("record-reception-screen", "", {
        "physical_health_concern": "no", "alcohol_use": "yes", "substance_use": "yes",
        "withdrawal_symptoms": "yes", "mental_health_concern": "no", "self_harm_risk": "no",
        "acct_opened": "no", "medicines": "Methadone 1mg/ml 60ml daily\nMirtazapine 15mg",
        "next_dose_due": "2026-03-02T18:00", "refer_to_sms": "yes"},
     "ReceptionScreenRecorded", "Reception health screen recorded"),
    ("assess-dual-diagnosis", "episodes/1/", {"status": "yes", "mental_health_service": "In-reach"},
     "DualDiagnosisAssessed", "Dual diagnosis recorded"),
    ("assess-risk", "episodes/1/", {"level": "high", "risks": ["overdose", "violence"]},
     "RiskAssessed", "Risk assessment recorded"),
    ("assign-caseload", "episodes/1/", {"worker_id": "sms-2", "site": "HMP Leeds"},
     "CaseloadAssigned", "Caseload assigned"),
    ("record-brief-intervention", "episodes/1/", {"intervention": "overdose_awareness",
                                           "outcome": "completed"},
     "BriefInterventionRecorded", "Brief intervention recorded"),
    ("revise-care-plan", "episodes/1/", {
        "goals": "Stop using on top of script\nRegister with a GP before release",
        "interventions": ["304681000000107", "harm_reduction"], "named_worker": "sms-1",
        "next_review_date": _IN_4_WEEKS}, "CarePlanRevised", "Care plan saved"),
    ("plan-release", "", {
        "expected_release_date": _IN_4_WEEKS, "release_area": "Leeds",
        "gp_registered": "yes", "gp_practice": "Park Road Surgery",
        "community_treatment_referral": "yes", "community_service": "Forward Leeds",
        "reconnect_referral": "no", "medicines": "Mirtazapine 15mg, 14\nNaproxen 250mg, 7",
        "ost_bridging": "yes", "naloxone_supplied": "yes"}, "ReleasePlanned",
     "Release plan recorded"),
    ("book-appointment", "", {"kind": "drug_alcohol_service", "agency": "Forward Leeds",
                         "starts_at": _ON_RELEASE, "ends_at": _ON_RELEASE.replace("T10", "T11"),
                         "place": "Forward Leeds, 55 Call Lane"},
     "AppointmentBooked", "Appointment booked"),
    ("discharge-episode", "episodes/1/", {"exit_reason": "transferred_in_custody",
                                  "destination": "HMP Hull"}, "Discharged", "Episode discharged"),
]


@pytest.mark.parametrize(("slug", "under", "fields", "event", "done"), STEPS_SAVED,
                         ids=[s[0] for s in STEPS_SAVED])
def test_each_step_form_saves_through_the_api(ui: Ui, pid: str, slug: str, under: str,
                                              fields: dict[str, Any], event: str,
                                              done: str) -> None:
    page = saved(ui, ui.submit(f"/ui/patients/{pid}/{under}{slug}", fields), pid, slug)
    assert done in page
    (entry,) = ui.events(pid, event)
    assert entry["actor_id"] == SMS_WORKER.username


def test_lists_reach_the_api_as_lists(ui: Ui, pid: str) -> None:
    plan = dict(STEPS_SAVED[6][2])
    saved(ui, ui.submit(f"/ui/patients/{pid}/plan-release", plan), pid, "plan-release")
    (entry,) = ui.events(pid, "ReleasePlanned")
    assert entry["payload"]["plan"]["medicines"] == [{"name": "Mirtazapine 15mg", "days": 14},
                                                     {"name": "Naproxen 250mg", "days": 7}]
    screen = dict(STEPS_SAVED[0][2])
    saved(ui, ui.submit(f"/ui/patients/{pid}/record-reception-screen", screen), pid,
          "record-reception-screen")
    (entry,) = ui.events(pid, "ReceptionScreenRecorded")
    assert entry["payload"]["screen"]["medicines"] == ["Methadone 1mg/ml 60ml daily",
                                                       "Mirtazapine 15mg"]
    assert entry["payload"]["screen"]["next_dose_due"].startswith("2026-03-02T18:00:00+00:00")


REFUSED = [
    ("assess-risk", "episodes/1/", {"level": "high", "risks": ["violence"],
                                        "acct_open": "yes"}, "risks", "RiskAssessed"),
    ("assess-risk", "episodes/1/", {"level": "extreme", "risks": ["overdose"]}, "level",
     "RiskAssessed"),
    ("revise-care-plan", "episodes/1/", {"goals": "", "named_worker": "sms-1",
                                  "next_review_date": _IN_4_WEEKS}, "goals", "CarePlanRevised"),
    ("plan-release", "", {**STEPS_SAVED[6][2], "medicines": "Mirtazapine 15mg, 40"},
     "medicines", "ReleasePlanned"),
    ("plan-release", "", {**STEPS_SAVED[6][2], "gp_practice": ""}, "gp_practice",
     "ReleasePlanned"),
    ("record-reception-screen", "", {**STEPS_SAVED[0][2], "acct_opened": ""}, "acct_opened",
     "ReceptionScreenRecorded"),
    ("assess-dual-diagnosis", "episodes/1/", {"status": "maybe"}, "status",
     "DualDiagnosisAssessed"),
    ("record-brief-intervention", "episodes/1/", {"intervention": "overdose_awareness"}, "outcome",
     "BriefInterventionRecorded"),
    ("assign-caseload", "episodes/1/", {"worker_id": "x" * 101, "site": "HMP Leeds"},
     "worker_id", "CaseloadAssigned"),
    ("discharge-episode", "episodes/1/", {"exit_reason": "escaped"}, "exit_reason", "Discharged"),
    ("book-appointment", "", {**STEPS_SAVED[7][2], "ends_at": _ON_RELEASE.replace("T10", "T09")},
     "ends_at", "AppointmentBooked"),
    ("book-appointment", "", {**STEPS_SAVED[7][2], "starts_at": "tomorrow"}, "starts_at",
     "AppointmentBooked"),
]


@pytest.mark.parametrize(("slug", "under", "fields", "field", "event"), REFUSED,
                         ids=[f"{r[0]}-{r[3]}" for r in REFUSED])
def test_a_bad_value_is_shown_beside_its_field_and_nothing_is_saved(
        ui: Ui, pid: str, slug: str, under: str, fields: dict[str, Any], field: str,
        event: str) -> None:
    response = ui.submit(f"/ui/patients/{pid}/{under}{slug}", fields)
    assert response.status_code == 422
    page = response.text
    assert "There is a problem" in page
    assert f'href="#f-{field}"' in page  # in the summary, linked to the field
    assert re.search(f'id="f-{field}-error" class="error-message">', page)  # beside it
    assert ui.events(pid, event) == []


def test_the_release_plan_names_the_line_of_a_bad_medicine(ui: Ui, pid: str) -> None:
    fields = {**STEPS_SAVED[6][2], "medicines": "Mirtazapine 15mg, 14\nNaproxen 250mg, 40"}
    page = ui.submit(f"/ui/patients/{pid}/plan-release", fields).text
    assert re.search(r'id="f-medicines-error"[^>]*>.*Line 2: ', page)


def test_the_caseload_form_starts_with_the_clinician_and_their_site(ui: Ui, pid: str) -> None:
    page = ui.client.get(f"/ui/patients/{pid}/episodes/1/assign-caseload").text
    assert 'name="worker_id" aria-describedby="f-worker_id-hint"' in page
    assert f'value="{SMS_WORKER.username}"' in page
    assert f'value="{SMS_WORKER.site}"' in page


def test_the_record_links_every_step_of_the_current_episode(ui: Ui, pid: str) -> None:
    page = ui.page(f"/ui/patients/{pid}")
    for slug in ("assess-dual-diagnosis", "assess-risk", "assign-caseload",
                 "record-brief-intervention", "record-top", "record-review", "revise-care-plan",
                 "discharge-episode"):
        assert f'href="/ui/patients/{pid}/episodes/1/{slug}' in page
    for slug in ("record-reception-screen", "plan-release", "book-appointment"):
        assert f'href="/ui/patients/{pid}/{slug}"' in page


@pytest.mark.parametrize("token", [None, "forged-token"])
def test_a_post_without_the_sessions_token_is_403_and_saves_nothing(
        ui: Ui, pid: str, token: str | None) -> None:
    fields = {"status": "yes", **({"csrf_token": token} if token else {})}
    response = ui.client.post(f"/ui/patients/{pid}/episodes/1/assess-dual-diagnosis", data=fields,
                              follow_redirects=False)
    assert response.status_code == 403
    assert "Nothing was saved" in response.text
    assert ui.events(pid, "DualDiagnosisAssessed") == []


def test_another_sessions_token_does_not_work(ui: Ui, pid: str) -> None:
    stale = ui.token()
    add_user(ui.client.app, SMS_WORKER)  # type: ignore[arg-type]
    ui_signed_in(ui.client, SMS_WORKER.username)  # a new session, a new token
    response = ui.client.post(f"/ui/patients/{pid}/episodes/1/assess-dual-diagnosis",
                              data={"status": "yes", "csrf_token": stale},
                              follow_redirects=False)
    assert response.status_code == 403
    assert ui.events(pid, "DualDiagnosisAssessed") == []


def test_sign_in_and_sign_out_need_the_token_too(ui: Ui) -> None:
    assert ui.client.post("/ui/sign-out", follow_redirects=False).status_code == 403
    assert ui.client.get("/ui/caseload", follow_redirects=False).status_code == 200
    ui.client.cookies.clear()
    response = ui.client.post("/ui/sign-in", follow_redirects=False, data={
        "username": SMS_WORKER.username, "password": PASSWORD})
    assert response.status_code == 403
    assert "sonar_session" not in response.cookies
