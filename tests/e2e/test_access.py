"""Legitimate relationship, break-glass, consent and dissent, and the access log, over HTTP."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer import Typer
from typer.testing import CliRunner

from sonar.audit.access_log import AccessLog, AccessRecord
from sonar.bootstrap import build_record_store
from sonar.cli import access as access_cli
from sonar.cli import users as users_cli
from sonar.config import Settings
from tests.conftest import FakeClock
from tests.e2e.auth_helpers import SMS_WORKER, api_client, settings_for, sign_in, user_for
from tests.e2e.test_api import PATIENT, post, received_and_referred

HULL = user_for("prison_clinician", site="HMP Hull", organisation="HMP Hull Healthcare")
PROBATION = user_for("probation", organisation="Probation Service North")


@pytest.fixture
def client(tmp_path: Path, clock: FakeClock) -> Iterator[TestClient]:
    with api_client(settings_for(tmp_path), clock) as c:
        c.headers.update(sign_in(c, SMS_WORKER))
        yield c


def record(client: TestClient, pid: str, headers: dict[str, str]) -> int:
    status: int = client.get(f"/api/v1/patients/{pid}", headers=headers).status_code
    return status


def test_a_clinician_elsewhere_is_refused_until_they_break_glass(client: TestClient,
                                                                 clock: FakeClock) -> None:
    pid = received_and_referred(client)
    hull = sign_in(client, HULL)
    refused = client.get(f"/api/v1/patients/{pid}/timeline", headers=hull)
    assert (refused.status_code, refused.json()["rule"]) == (403, "access.no_relationship")
    too_short = client.post(f"/api/v1/patients/{pid}/break-glass", headers=hull,
                            json={"reason": "need"})
    assert too_short.status_code == 422
    glass = client.post(f"/api/v1/patients/{pid}/break-glass", headers=hull,
                        json={"reason": "Unconscious on arrival at HMP Hull, overdose suspected"})
    assert glass.status_code == 201, glass.text
    assert glass.json()["expires_at"].startswith("2026-03-02T13:00")
    assert record(client, pid, hull) == 200
    banner = client.get(f"/api/v1/patients/{pid}/record",
                        params={"min_position": glass.json()["position"]}).json()
    assert "break_glass" in banner["alerts"]
    assert banner["break_glass_until"] is None  # the Leeds worker did not break glass
    theirs = client.get(f"/api/v1/patients/{pid}/record", headers=hull).json()
    assert theirs["break_glass_until"] == glass.json()["expires_at"]
    clock.advance(hours=4, minutes=1)
    assert record(client, pid, hull) == 403
    auditor = sign_in(client, user_for("auditor"))
    log = client.get("/api/v1/audit/access", params={"patient_id": pid},
                     headers=auditor).json()["items"]
    hull_reads = [(e["status"], e["break_glass"]) for e in log if e["actor_id"] == HULL.username]
    assert hull_reads == [(403, False), (200, True), (200, True), (403, False)]


def test_staff_keep_access_for_the_window_after_the_patient_leaves(client: TestClient,
                                                                   clock: FakeClock) -> None:
    pid = received_and_referred(client)
    post(client, f"/{pid}/episodes/1/discharge", {"exit_reason": "transferred_not_in_custody"})
    clock.advance(hours=1)
    assert post(client, f"/{pid}/custody/transfers",
                {"to_establishment": "HMP Hull"}).status_code == 201
    hull = sign_in(client, HULL)
    assert record(client, pid, hull) == 200  # now at Hull
    clock.advance(days=89)
    assert record(client, pid, {}) == 200  # Leeds: left 89 days ago
    clock.advance(days=2)
    assert record(client, pid, {}) == 403


def test_a_reception_at_your_own_site_starts_the_relationship(client: TestClient,
                                                              clock: FakeClock) -> None:
    pid = received_and_referred(client)
    post(client, f"/{pid}/episodes/1/discharge", {"exit_reason": "transferred_not_in_custody"})
    clock.advance(hours=1)
    post(client, f"/{pid}/custody/releases", {"release_type": "licence"})
    clock.advance(hours=1)
    hull = sign_in(client, HULL)
    elsewhere = client.post(f"/api/v1/patients/{pid}/custody/recalls", headers=hull,
                            json={"recall_type": "standard", "establishment": "HMP Leeds"})
    assert elsewhere.status_code == 403
    here = client.post(f"/api/v1/patients/{pid}/custody/prison-receptions", headers=hull,
                       json={"establishment": "HMP Hull"})
    assert here.status_code == 201, here.text
    assert record(client, pid, hull) == 200


def test_caseload_gives_a_community_worker_access(client: TestClient) -> None:
    pid = received_and_referred(client)
    worker = user_for("community_clinician", site="Leeds Recovery Hub",
                      organisation="Forward Leeds")
    headers = sign_in(client, worker)
    assert record(client, pid, headers) == 403
    post(client, f"/{pid}/episodes/1/caseload-assignments",
         {"worker_id": worker.username, "site": "Leeds Recovery Hub"})
    assert record(client, pid, headers) == 200


def test_dissent_blocks_an_organisation_even_with_a_relationship(client: TestClient) -> None:
    pid = received_and_referred(client)
    probation = sign_in(client, PROBATION)
    assert record(client, pid, probation) == 200
    assert post(client, f"/{pid}/sharing/dissents",
                {"organisation": "Probation Service North"}).status_code == 201
    refused = client.get(f"/api/v1/patients/{pid}", headers=probation)
    assert (refused.status_code, refused.json()["rule"]) == (403, "access.dissent")
    assert record(client, pid, {}) == 200  # the prison team still shares
    assert post(client, f"/{pid}/sharing/dissents/withdrawals",
                {"organisation": "Probation Service North"}).status_code == 201
    assert record(client, pid, probation) == 200


def test_family_notification_consent_is_recorded_and_revocable(client: TestClient) -> None:
    pid = received_and_referred(client)
    assert post(client, f"/{pid}/sharing/family-notification-consents", {
        "family_member": "Jo Holt", "relationship": "sister",
        "contact_channel": "phone", "contact_address": "+44 7700 900456"}).status_code == 201
    assert post(client, f"/{pid}/sharing/family-notification-consents", {
        "family_member": "Al Holt", "relationship": "father",
        "contact_channel": "pigeon"}).status_code == 422
    sharing = client.get(f"/api/v1/patients/{pid}/sharing").json()
    assert sharing["family_notification_consents"] == [
        {"family_member": "Jo Holt", "relationship": "sister", "contact_channel": "phone",
         "contact_address": "+44 7700 900456", "delivered_by": None}]
    assert post(client, f"/{pid}/sharing/family-notification-consents/revocations",
                {"family_member": "Jo Holt"}).status_code == 201
    again = post(client, f"/{pid}/sharing/family-notification-consents/revocations",
                 {"family_member": "Jo Holt"})
    assert (again.status_code, again.json()["rule"]) == (409, "consent.not_recorded")
    assert client.get(f"/api/v1/patients/{pid}/sharing").json()[
        "family_notification_consents"] == []


def test_auditor_sees_who_read_a_patient_and_what_a_user_read(client: TestClient,
                                                              tmp_path: Path) -> None:
    pid = received_and_referred(client)
    registered = post(client, "", {**PATIENT, "nhs_number": None, "given_name": "Ann"}).json()
    other = registered["patient_id"]
    client.get(f"/api/v1/patients/{pid}/fhir", headers={"X-Purpose-Of-Use": "direct_care"})
    found = client.get("/api/v1/patients/search",
                       params={"family_name": "Holt", "date_of_birth": "1990-05-01",
                               "min_position": registered["position"]})
    assert len(found.json()["items"]) == 2
    auditor = sign_in(client, user_for("auditor"))
    assert record(client, other, auditor) == 200  # all history, no relationship needed
    by_patient = client.get("/api/v1/audit/access", params={"patient_id": pid},
                            headers=auditor).json()["items"]
    assert [e["route"] for e in by_patient] == ["/api/v1/patients/{patient_id}/fhir",
                                                "/api/v1/patients/search"]
    assert by_patient[0]["organisation"] == "HMP Leeds Healthcare"
    assert by_patient[0]["purpose"] == "direct_care"
    by_user = client.get("/api/v1/audit/access", params={"user": "sms-1", "from": "2026-03-02",
                                                         "to": "2026-03-02"},
                         headers=auditor).json()["items"]
    assert set(by_user[-1]["patient_ids"]) == {pid, other}
    assert client.get("/api/v1/audit/access", params={"user": "sms-1", "from": "2026-03-03"},
                      headers=auditor).json()["items"] == []
    assert client.get("/api/v1/audit/access", headers=auditor).status_code == 422

    cli = Typer()
    cli.command("access")(access_cli.access)  # as the lead registers it under `sonar audit`
    cli.add_typer(users_cli.users_cli, name="users")
    env = {"SONAR_DATA_DIR": str(tmp_path)}
    out = CliRunner().invoke(cli, ["access", "--patient", pid], env=env)
    assert out.exit_code == 0, out.output
    assert "sms-1" in out.output
    assert "auditor" not in out.output  # the auditor read the other patient
    added = CliRunner().invoke(cli, ["users", "add", "nurse-7", "--role", "custody_nurse",
                                     "--org", "Leeds Police Healthcare", "--site",
                                     "Elland Road Custody", "--password-stdin"],
                               input="a long enough password\n", env=env)
    assert added.exit_code == 0, added.output
    listed = CliRunner().invoke(cli, ["users", "list"], env=env)
    assert "nurse-7" in listed.output
    assert "argon2" not in listed.output


def test_the_access_log_refuses_update_and_delete(client: TestClient, tmp_path: Path) -> None:
    received_and_referred(client)
    client.get("/api/v1/caseloads")
    with sqlite3.connect(tmp_path / "records.db") as conn:
        assert conn.execute("SELECT COUNT(*) FROM access_log").fetchone()[0] == 1
        for statement in ("UPDATE access_log SET actor_id = 'nobody'", "DELETE FROM access_log"):
            with pytest.raises(sqlite3.IntegrityError, match="append-only"):
                conn.execute(statement)


@pytest.mark.postgres
def test_the_access_log_is_append_only_on_postgres(postgres_settings: Settings) -> None:
    import psycopg  # noqa: PLC0415 - only this test needs the driver directly

    store = build_record_store(postgres_settings)  # made the table
    try:
        log = AccessLog(store)
        log.migrate()  # idempotent
        log.append(AccessRecord(datetime.now(UTC), "sms-1", "sms_worker", "Org", "Site",
                                "direct_care", "GET", "/api/v1/patients/{patient_id}",
                                ("p-1",), 200, False, "c-1"))  # row triggers need a row
        for statement in ("UPDATE access_log SET actor_id = 'x'", "DELETE FROM access_log",
                          "TRUNCATE access_log"):
            with pytest.raises(psycopg.errors.RaiseException, match="append-only"), \
                    store.transaction() as tx:
                tx.execute(statement)
        assert len(log.search(actor_id="sms-1")) == 1
        types = {r["column_name"]: r["data_type"] for r in store.fetchall(
            "SELECT column_name, data_type FROM information_schema.columns "
            "WHERE table_name = 'access_log' AND table_schema = current_schema()")}
        assert {c: types[c] for c in ("id", "at", "patient_ids", "break_glass")} == {
            "id": "bigint", "at": "timestamp with time zone", "patient_ids": "jsonb",
            "break_glass": "boolean"}
    finally:
        store.close()
