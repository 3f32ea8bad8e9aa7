"""FHIR over HTTP: a full pathway exports as a valid R4 Bundle; a GP record imports once."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from fhir.resources.R4B.bundle import Bundle

from sonar.domain.identity import nhs_check_digit
from tests.conftest import FakeClock
from tests.e2e.auth_helpers import SMS_WORKER, api_client, settings_for, sign_in

DATA = Path(__file__).parent.parent / "data"
NHS = "999000001" + str(nhs_check_digit("999000001"))  # the synthetic person in tests/data
PATIENT = {"given_name": "Sam", "family_name": "Holt", "date_of_birth": "1990-05-01",
           "sex": "male", "nhs_number": NHS}


@pytest.fixture
def client(tmp_path: Path, clock: FakeClock) -> Iterator[TestClient]:
    """The API, signed in as the scenario's SMS worker at HMP Leeds."""
    with api_client(settings_for(tmp_path), clock) as c:
        c.headers.update(sign_in(c, SMS_WORKER))
        yield c


def post(client: TestClient, path: str, body: Any) -> Any:
    response = client.post(f"/api/v1/patients{path}", json=body)
    assert response.status_code == 201, response.json()
    return response.json()


def import_bundle(client: TestClient, pid: str, body: bytes, partial: bool = False) -> Any:
    return client.post(f"/api/v1/patients/{pid}/gp-record", params={"partial": partial},
                       content=body, headers={"Content-Type": "application/fhir+json"})


def full_pathway(client: TestClient, clock: FakeClock) -> str:
    pid: str = post(client, "", PATIENT)["patient_id"]
    post(client, f"/{pid}/custody/prison-receptions",
         {"establishment": "HMP Leeds", "prison_number": "A1234BC"})
    post(client, f"/{pid}/referrals", {"source": "reception_screen",
                                       "substances": ["heroin", "crack"],
                                       "injecting_status": "currently",
                                       "previously_treated": False})
    post(client, f"/{pid}/episodes/1/referral-outcome", {"outcome": "accepted"})
    post(client, f"/{pid}/episodes/1/dual-diagnoses",
         {"status": "yes", "mental_health_service": "Mental health in-reach"})
    post(client, f"/{pid}/episodes/1/risk-assessments",
         {"level": "high", "risks": ["overdose", "self_harm_suicide"], "acct_open": True})
    post(client, f"/{pid}/episodes/1/tops", {"stage": "start", "answers": {"opiates_days": 20}})
    wrong = client.get(f"/api/v1/patients/{pid}").json()["version"]
    post(client, f"/{pid}/entries/{wrong}/entered-in-error",
         {"reason": "Recorded against the wrong person"})
    post(client, f"/{pid}/episodes/1/tops", {"stage": "start", "answers": {
        "opiates_days": 28, "opiates_amount": 0.5, "crack_days": 12, "shared_needles": True,
        "psychological_health": 6}})
    post(client, f"/{pid}/episodes/1/care-plans", {
        "goals": ["Stabilise on OST"], "interventions": ["304681000000107"],
        "named_worker": "Jo Patel", "next_review_date": "2026-03-30"})
    clock.advance(days=6)
    post(client, f"/{pid}/episodes/1/reviews", {"kind": "day_5", "outcome": "completed"})
    post(client, f"/{pid}/episodes/1/care-plans", {
        "goals": ["Reduce crack use"], "interventions": ["299941000000103"],
        "named_worker": "Jo Patel", "next_review_date": "2026-04-30"})
    return pid


def resources(bundle: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == kind]


def test_a_full_pathway_exports_as_a_valid_fhir_r4_bundle(client: TestClient,
                                                         clock: FakeClock) -> None:
    pid = full_pathway(client, clock)
    response = client.get(f"/api/v1/patients/{pid}/fhir")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/fhir+json")
    bundle = response.json()
    Bundle.model_validate(bundle)  # every resource validates against the R4(B) models

    kinds = Counter(e["resource"]["resourceType"] for e in bundle["entry"])
    assert kinds["Patient"] == kinds["EpisodeOfCare"] == kinds["ServiceRequest"] == 1
    assert kinds["CarePlan"] == 2
    assert kinds["Encounter"] == 1
    [patient] = resources(bundle, "Patient")
    assert {"system": "https://fhir.nhs.uk/Id/nhs-number", "value": NHS} in patient["identifier"]
    assert patient["meta"]["profile"] == [
        "https://fhir.hl7.org.uk/StructureDefinition/UKCore-Patient"]
    codes = {c["code"] for r in resources(bundle, "Condition") for c in r["code"]["coding"]}
    assert {"75544000", "dual_diagnosis"} <= codes  # heroin -> opioid dependence
    plans = sorted(resources(bundle, "CarePlan"), key=lambda p: p["title"])
    assert [p["status"] for p in plans] == ["revoked", "active"]
    assert plans[1]["replaces"] == [{"reference": f"urn:uuid:{plans[0]['id']}"}]
    flags = {f["code"]["coding"][0]["code"] for f in resources(bundle, "Flag")}
    assert {"overdose", "self_harm_suicide", "acct_open"} <= flags


def test_an_entry_marked_in_error_exports_as_entered_in_error(client: TestClient,
                                                              clock: FakeClock) -> None:
    pid = full_pathway(client, clock)
    bundle = client.get(f"/api/v1/patients/{pid}/fhir").json()
    tops = [o for o in resources(bundle, "Observation")
            if o["code"]["coding"][0]["code"] == "top"]
    assert sorted(o["status"] for o in tops) == ["entered-in-error", "final"]
    withdrawn = next(o for o in tops if o["status"] == "entered-in-error")
    assert any("wrong person" in n["text"] for n in withdrawn["note"])
    items = {o["code"]["coding"][0]["code"]: o for o in resources(bundle, "Observation")
             if o["status"] == "final"}
    assert items["opiates_days"]["valueInteger"] == 28
    assert items["shared_needles"]["valueBoolean"] is True
    assert "education_days" not in items  # not answered is not exported as 0


def test_every_event_has_a_provenance_with_actor_and_both_times(client: TestClient,
                                                               clock: FakeClock) -> None:
    pid = full_pathway(client, clock)
    bundle = client.get(f"/api/v1/patients/{pid}/fhir").json()
    provenances = resources(bundle, "Provenance")
    record = client.get(f"/api/v1/patients/{pid}").json()
    assert len(provenances) == record["version"]
    ids = {f"urn:uuid:{e['resource']['id']}" for e in bundle["entry"]}
    for provenance in provenances:
        assert provenance["agent"][0]["who"]["identifier"]["value"] == "sms-1"
        assert provenance["recorded"]
        assert provenance["occurredDateTime"]
        assert all(t["reference"] in ids for t in provenance["target"])
    nullify = [p for p in provenances if p["activity"]["text"] == "EntryMarkedInError"]
    assert nullify[0]["activity"]["coding"][0]["code"] == "NULLIFY"


def test_a_gp_record_imports_once_and_a_second_import_adds_nothing(client: TestClient) -> None:
    pid: str = post(client, "", PATIENT)["patient_id"]
    body = (DATA / "gp_connect_bundle.json").read_bytes()
    first = import_bundle(client, pid, body)
    assert first.status_code == 201, first.json()
    assert first.json()["imported"] == 7
    assert first.json()["skipped"] == []

    again = import_bundle(client, pid, body)
    assert again.status_code == 200
    assert again.json()["imported"] == 0
    assert again.json()["already_imported"] == 7
    assert again.json()["position"] == first.json()["position"]  # no event was recorded
    provenances = resources(client.get(f"/api/v1/patients/{pid}/fhir").json(),
                            "Provenance")
    imported = [p for p in provenances if p["activity"]["text"] == "GpRecordImported"]
    assert len(imported) == 1
    assert imported[0]["reason"][0]["coding"][0]["code"] == "import"


def test_a_partly_bad_bundle_imports_nothing_and_lists_each_problem(client: TestClient) -> None:
    pid: str = post(client, "", PATIENT)["patient_id"]
    before = client.get("/health").json()["position"]
    response = import_bundle(client, pid, (DATA / "gp_bundle_partly_bad.json").read_bytes())
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["rule"] == "gp_import.invalid"
    assert [(e["pointer"], e["rule"]) for e in problem["errors"]] == [
        ("#/entry/3/resource/code/coding/0/system", "gp_import.unknown_code_system"),
        ("#/entry/4/resource/resourceType", "fhir.unknown_resource_type"),
        ("#/entry/5/resource/effectiveDateTime", "fhir.invalid"),
    ]
    assert client.get("/health").json()["position"] == before


def test_a_partial_import_takes_the_good_entries_and_reports_the_skipped(
        client: TestClient) -> None:
    pid: str = post(client, "", PATIENT)["patient_id"]
    response = import_bundle(client, pid, (DATA / "gp_bundle_partly_bad.json").read_bytes(),
                             partial=True)
    assert response.status_code == 201, response.json()
    report = response.json()
    assert report["imported"] == 2  # the penicillin allergy and asthma
    assert [s["pointer"] for s in report["skipped"]] == [
        "#/entry/3/resource/code/coding/0/system", "#/entry/4/resource/resourceType",
        "#/entry/5/resource/effectiveDateTime", "#/entry/7/resource"]
    assert all(s["reason"] for s in report["skipped"])


@pytest.mark.parametrize(("body", "pointer", "rule"), [
    (b'{"resourceType": "Bundle", "entry": [', "#", "fhir.malformed_json"),
    (b'{"resourceType": "Patient", "id": "p"}', "#/resourceType", "fhir.wrong_resource_type"),
])
def test_a_body_that_is_not_a_bundle_is_422_even_when_partial(
        client: TestClient, body: bytes, pointer: str, rule: str) -> None:
    pid: str = post(client, "", PATIENT)["patient_id"]
    response = import_bundle(client, pid, body, partial=True)
    assert response.status_code == 422
    assert [(e["pointer"], e["rule"]) for e in response.json()["errors"]] == [(pointer, rule)]


def _with_nhs_number(number: str) -> bytes:
    bundle = json.loads((DATA / "gp_connect_bundle.json").read_text())
    bundle["entry"][0]["resource"]["identifier"][0]["value"] = number
    return json.dumps(bundle).encode()


def test_an_invalid_or_another_persons_nhs_number_refuses_the_whole_bundle(
        client: TestClient) -> None:
    pid: str = post(client, "", PATIENT)["patient_id"]
    pointer = "#/entry/0/resource/identifier/0/value"
    invalid = import_bundle(client, pid, _with_nhs_number("9990000019"), partial=True)
    assert invalid.status_code == 422
    assert [(e["pointer"], e["rule"]) for e in invalid.json()["errors"]] == [
        (pointer, "nhs_number.check_digit")]
    other = "999000002" + str(nhs_check_digit("999000002"))
    mismatch = import_bundle(client, pid, _with_nhs_number(other), partial=True)
    assert mismatch.status_code == 422
    assert [(e["pointer"], e["rule"]) for e in mismatch.json()["errors"]] == [
        (pointer, "gp_import.nhs_number_mismatch")]


def test_importing_into_an_unknown_patient_is_404(client: TestClient) -> None:
    response = import_bundle(client, "00000000-0000-0000-0000-000000000000",
                             (DATA / "gp_connect_bundle.json").read_bytes())
    assert response.status_code == 404
