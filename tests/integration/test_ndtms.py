"""NDTMS extract on real stores: a hand-worked cohort, its validation report, sites, the CLI.

Every expected value below is worked out by hand from the steps written through the use
cases, not computed by the code under test.
"""

from __future__ import annotations

import csv
import hashlib
import hmac
import io
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from uuid import UUID

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from sonar.api import policy
from sonar.api.main import create_app
from sonar.api.routes import ndtms as ndtms_routes
from sonar.bootstrap import build_application, build_record_store, build_runner
from sonar.cli.export import export_cli
from sonar.commands.base import Command
from sonar.commands.context import CommandContext, CommandResult
from sonar.commands.journey import ReceiveIntoPrison, ReleaseFromPrison
from sonar.commands.pathway import (
    AssessDualDiagnosis,
    AssignCaseload,
    DischargeEpisode,
    RecordReferralOutcome,
    RecordTop,
    ReferToSms,
    ReviseCarePlan,
)
from sonar.commands.pipeline import CommandBus
from sonar.commands.record import MarkEnteredInError, RegisterPatient
from sonar.config import Settings
from sonar.domain import (
    Actor,
)
from sonar.eventstore.application import SonarApplication
from sonar.reports.ndtms import (
    COLUMNS,
    Cell,
    Period,
    build_extract,
    csv_cell,
    ndtms_rows,
    validation_report,
    write_csv,
)
from tests.conftest import FakeClock
from tests.e2e.auth_helpers import SMS_WORKER, settings_for, sign_in

SALT = b"test-salt-for-ndtms-0123456789"
FEBRUARY = Period(date(2026, 2, 1), date(2026, 2, 28))
WORKER = Actor("sms-1", "sms_worker", "HMP Leeds Healthcare", "HMP Leeds")


def at(app: SonarApplication, moment: str, command: Command) -> CommandResult:
    """Run ``command`` as the worker at a clinical time (UTC), e.g. "2026-01-10 14:00"."""
    when = datetime.fromisoformat(moment).replace(tzinfo=UTC)
    return CommandBus(app).handle(CommandContext(actor=WORKER, correlation_id="ndtms-test"),
                                  command.model_copy(update={"occurred_at": when}))


def ref(patient_id: UUID) -> str:
    """The expected client reference, restated from the specification in docs/ndtms.md."""
    return hmac.new(SALT, str(patient_id).encode(), hashlib.sha256).hexdigest()[:32]


@dataclass(frozen=True)
class Cohort:
    app: SonarApplication
    alex: UUID  # full pathway at HMP Leeds, released in February
    bea: UUID  # HMP Leeds, open 38 days: no care plan, start TOP entered in error
    cal: UUID  # HMP Wakefield, referred in February, awaiting an outcome
    dee: UUID  # one episode before February, one after: no rows
    eli: UUID  # no journey recorded; caseload at HMP Leeds; open 26 days, no care plan
    fay: UUID  # referred in the community after release: another service's return


def register(app: SonarApplication, given: str, born: date, sex: str) -> UUID:
    return at(app, "2025-01-01 09:00", RegisterPatient(
        given_name=given, family_name="Test", date_of_birth=born, sex=sex)).patient_id


def accept(app: SonarApplication, pid: UUID, when: str, episode: int = 1) -> None:
    at(app, when, RecordReferralOutcome(patient_id=pid, episode=episode, outcome="accepted"))


def write_cohort(app: SonarApplication) -> Cohort:
    alex = register(app, "Alex", date(1988, 4, 12), "male")
    at(app, "2026-01-10 10:00", ReceiveIntoPrison(patient_id=alex, establishment="HMP Leeds"))
    at(app, "2026-01-10 14:00",
       ReferToSms(patient_id=alex, source="reception_screen",
                  substances=["heroin", "crack", "benzodiazepines"], injecting_status="previously",
                  previously_treated=True))
    accept(app, alex, "2026-01-11 09:00")
    at(app, "2026-01-12 10:00", AssessDualDiagnosis(patient_id=alex, episode=1, status="yes"))
    at(app, "2026-01-12 11:00", RecordTop(patient_id=alex, episode=1, stage="start", answers={
        "opiates_days": 20, "opiates_amount": 0.5, "crack_days": 0, "injecting_days": 0,
        "shared_needles": False, "psychological_health": 8, "acute_housing_problem": True,
    }, before_custody=True))
    at(app, "2026-01-13 10:00",
       ReviseCarePlan(patient_id=alex, episode=1, goals=["Stabilise on OST"],
                      interventions=["304681000000107", "299941000000103"], named_worker="sms-1",
                      next_review_date=date(2026, 2, 10)))
    at(app, "2026-02-10 10:00",
       ReviseCarePlan(patient_id=alex, episode=1, goals=["Prepare for release"],
                      interventions=["304681000000107", "recovery_support"], named_worker="sms-1",
                      next_review_date=date(2026, 3, 10)))
    at(app, "2026-02-20 09:00",
       DischargeEpisode(patient_id=alex, episode=1, exit_reason="transferred_not_in_custody",
                        destination="Leeds community SMS"))
    at(app, "2026-02-20 10:00",
       ReleaseFromPrison(patient_id=alex, release_type="licence", destination_area="Leeds"))

    bea = register(app, "Bea", date(1975, 11, 30), "female")
    at(app, "2025-12-01 10:00", ReceiveIntoPrison(patient_id=bea, establishment="HMP Leeds"))
    at(app, "2026-01-20 10:00",
       ReferToSms(patient_id=bea, source="self", substances=["alcohol"], injecting_status="never",
                  previously_treated=False))
    accept(app, bea, "2026-01-21 10:00")
    at(app, "2026-01-22 10:00",
       RecordTop(patient_id=bea, episode=1, stage="start",
                 answers={"alcohol_days": 28, "alcohol_amount": 30}))
    top_version = app.get_record(bea).episodes[0].entries[-1].version
    at(app, "2026-01-23 10:00",
       MarkEnteredInError(patient_id=bea, entry_version=top_version, reason="Another person's TOP"))

    cal = register(app, "Cal", date(1999, 6, 15), "other")
    at(app, "2026-02-05 08:00", ReceiveIntoPrison(patient_id=cal, establishment="HMP Wakefield"))
    at(app, "2026-02-05 12:00",
       ReferToSms(patient_id=cal, source="healthcare", substances=["cannabis"],
                  injecting_status="declined", previously_treated=False))

    dee = register(app, "Dee", date(1980, 1, 1), "female")
    at(app, "2025-10-30 10:00", ReceiveIntoPrison(patient_id=dee, establishment="HMP Leeds"))
    at(app, "2025-11-01 10:00",
       ReferToSms(patient_id=dee, source="self", substances=["heroin"],
                  injecting_status="currently", previously_treated=False))
    accept(app, dee, "2025-11-02 10:00")
    at(app, "2025-12-15 10:00", DischargeEpisode(patient_id=dee, episode=1,
                                                 exit_reason="completed"))
    at(app, "2026-03-01 10:00",
       ReferToSms(patient_id=dee, source="self", substances=["heroin"],
                  injecting_status="currently", previously_treated=True))

    eli = register(app, "Eli", date(1992, 3, 3), "male")
    at(app, "2026-02-02 10:00",
       ReferToSms(patient_id=eli, source="court", substances=["cocaine", "alcohol"],
                  injecting_status="never", previously_treated=False))
    accept(app, eli, "2026-02-02 15:00")
    at(app, "2026-02-03 09:00",
       AssignCaseload(patient_id=eli, episode=1, worker_id="sms-9", site="HMP Leeds"))

    fay = register(app, "Fay", date(1985, 7, 7), "female")
    at(app, "2025-12-01 10:00", ReceiveIntoPrison(patient_id=fay, establishment="HMP Leeds"))
    at(app, "2026-01-05 10:00", ReleaseFromPrison(
        patient_id=fay, release_type="end_of_sentence", destination_area="Bradford"))
    at(app, "2026-01-10 10:00",
       ReferToSms(patient_id=fay, source="self", substances=["crack"], injecting_status="never",
                  previously_treated=False))
    return Cohort(app, alex, bea, cal, dee, eli, fay)


@pytest.fixture
def cohort(store_settings: Settings, clock: FakeClock) -> Cohort:
    return write_cohort(build_application(store_settings, clock))


def as_csv(rows: Sequence[Mapping[str, Cell]]) -> list[dict[str, str]]:
    """Rows as a CSV reader sees them: exactly the text a team opens."""
    out = io.StringIO()
    write_csv(rows, COLUMNS, out)
    return list(csv.DictReader(io.StringIO(out.getvalue())))


EMPTY_TOP = {f"top_{code}": "" for code in (
    "alcohol_days", "alcohol_amount", "crack_amount", "cocaine_days", "cocaine_amount",
    "amphetamines_days", "amphetamines_amount", "cannabis_days", "cannabis_amount",
    "other_days", "other_amount", "tobacco_days", "tobacco_amount", "shared_other_equipment",
    "shoplifting_days", "drug_selling_days", "other_theft_days", "assault_violence_count",
    "physical_health", "quality_of_life", "paid_work_days", "education_days",
    "at_risk_of_eviction", "other_substance_name")}


def test_a_full_pathway_maps_to_the_classic_fields(cohort: Cohort) -> None:
    [row] = as_csv(ndtms_rows(cohort.app.get_record(cohort.alex), FEBRUARY, None,
                              salt=SALT))
    assert row == {
        "client_ref": ref(cohort.alex), "episode": "1", "site": "HMP Leeds", "sex": "male",
        "date_of_birth": "1988-04-12", "referral_date": "2026-01-10",
        "referral_source": "reception_screen", "referral_outcome": "accepted",
        "triage_date": "2026-01-11", "care_plan_start_date": "2026-01-13",
        "days_in_treatment": "40",  # 11 Jan to 20 Feb (discharge)
        "drug_1": "heroin", "drug_2": "crack", "drug_3": "benzodiazepines",
        "injecting_status": "previously", "dual_diagnosis": "yes",
        "pharmacological_start": "2026-01-13", "pharmacological_end": "2026-02-20",
        "pharmacological_exit": "transferred_not_in_custody",
        "psychosocial_start": "2026-01-13", "psychosocial_end": "2026-02-10",
        "psychosocial_exit": "removed_from_care_plan",
        "recovery_support_start": "2026-02-10", "recovery_support_end": "2026-02-20",
        "recovery_support_exit": "transferred_not_in_custody",
        "discharge_date": "2026-02-20", "discharge_reason": "transferred_not_in_custody",
        "discharge_destination": "Leeds community SMS",
        "top_start_date": "2026-01-12", "top_start_before_custody": "Y",
        "top_opiates_days": "20", "top_opiates_amount": "0.5", "top_crack_days": "0",
        "top_injecting_days": "0", "top_shared_needles": "N",
        "top_psychological_health": "8", "top_acute_housing_problem": "Y",
        **EMPTY_TOP,
        "prison_reception_date": "2026-01-10", "prison_exit_date": "2026-02-20",
        "prison_exit_reason": "licence", "exit_destination": "Leeds",
        "referral_on_release": "Y",
    }
    assert set(row) == set(COLUMNS)  # every TOP item has a column


def test_the_extract_is_as_at_the_end_of_the_period(cohort: Cohort) -> None:
    early = Period(date(2026, 2, 1), date(2026, 2, 15))
    [row] = as_csv(ndtms_rows(cohort.app.get_record(cohort.alex), early, None,
                              salt=SALT))
    assert row["days_in_treatment"] == "35"  # 11 Jan to 15 Feb
    assert (row["psychosocial_end"], row["psychosocial_exit"]) == (
        "2026-02-10", "removed_from_care_plan")
    assert (row["recovery_support_start"], row["recovery_support_end"]) == ("2026-02-10", "")
    for later in ("pharmacological_end", "pharmacological_exit", "discharge_date",
                  "discharge_reason", "prison_exit_date", "exit_destination",
                  "referral_on_release"):
        assert row[later] == "", later
    assert ndtms_rows(cohort.app.get_record(cohort.alex),
                      Period(date(2025, 12, 1), date(2025, 12, 31)), None, salt=SALT) == []


def test_cohort_rows_sites_and_validation_report(cohort: Cohort) -> None:
    extract = build_extract(cohort.app, FEBRUARY, None, SALT)
    rows = {(r["client_ref"], r["episode"]): r for r in extract.rows}
    assert set(rows) == {(ref(cohort.alex), 1), (ref(cohort.bea), 1), (ref(cohort.cal), 1),
                         (ref(cohort.eli), 1)}  # not Dee (before/after), not Fay (community)

    bea = as_csv([rows[ref(cohort.bea), 1]])[0]
    assert (bea["top_start_date"], bea["top_alcohol_days"]) == ("", "")  # in error: gone
    assert (bea["days_in_treatment"], bea["care_plan_start_date"]) == ("38", "")
    cal = as_csv([rows[ref(cohort.cal), 1]])[0]
    assert (cal["site"], cal["referral_outcome"], cal["triage_date"],
            cal["injecting_status"], cal["drug_1"], cal["drug_2"]) == (
        "HMP Wakefield", "", "", "declined", "cannabis", "")
    eli = as_csv([rows[ref(cohort.eli), 1]])[0]
    assert (eli["site"], eli["prison_reception_date"], eli["days_in_treatment"]) == (
        "HMP Leeds", "", "26")  # site from the caseload; no reception recorded

    missing = sorted((p["patient_id"], p["field"]) for p in extract.problems)
    assert missing == sorted([
        (str(cohort.bea), "care_plan_start_date"),  # 38 days > 14
        (str(cohort.bea), "top_start_date"),  # 38 days > 28; the one TOP is in error
        (str(cohort.eli), "care_plan_start_date"),  # 26 days > 14
        (str(cohort.eli), "prison_reception_date"),  # TOP not yet due at 26 days
    ])
    assert all(p["client_ref"] and p["rule"] == f"ndtms.missing.{p['field']}"
               for p in extract.problems)

    leeds = build_extract(cohort.app, FEBRUARY, "HMP Leeds", SALT).rows
    assert {r["client_ref"] for r in leeds} == {ref(cohort.alex), ref(cohort.bea),
                                                ref(cohort.eli)}
    wakefield = build_extract(cohort.app, FEBRUARY, "HMP Wakefield", SALT).rows
    assert [r["client_ref"] for r in wakefield] == [ref(cohort.cal)]
    assert build_extract(cohort.app, FEBRUARY, "HMP Nowhere", SALT).rows == []


def test_the_client_reference_reveals_no_identifier(cohort: Cohort) -> None:
    [row] = ndtms_rows(cohort.app.get_record(cohort.alex), FEBRUARY, None, salt=SALT)
    assert str(cohort.alex) not in row.values()
    assert row["client_ref"] != ndtms_rows(cohort.app.get_record(cohort.alex), FEBRUARY, None,
                                           salt=b"another-salt-entirely-000")[0]["client_ref"]
    assert "Alex" not in str(row.values())


def test_validation_report_checks_each_mandatory_item() -> None:
    row: dict[str, Cell] = dict.fromkeys(COLUMNS) | {
        "client_ref": "abc", "episode": 2, "referral_outcome": "accepted",
        "days_in_treatment": 29, "discharge_date": date(2026, 2, 3)}
    fields = [p["field"] for p in validation_report([row])]
    assert fields == ["referral_date", "referral_source", "drug_1", "injecting_status",
                      "triage_date", "care_plan_start_date", "top_start_date",
                      "discharge_reason", "prison_reception_date"]


def test_csv_cells_keep_not_answered_apart_from_zero() -> None:
    assert [csv_cell(v) for v in (None, 0, 0.0, 2.5, True, False, date(2026, 1, 2))] == [
        "", "0", "0", "2.5", "Y", "N", "2026-01-02"]
    assert csv_cell("=HYPERLINK(1)") == "'=HYPERLINK(1)"  # a spreadsheet must not run it


def test_period_must_not_end_before_it_starts() -> None:
    with pytest.raises(ValueError, match="before"):
        Period(date(2026, 2, 2), date(2026, 2, 1))


# --- the CLI and the API, on the embedded store ----------------------------------------------


@pytest.fixture
def sqlite_cohort(sqlite_settings: Settings, clock: FakeClock,
                  monkeypatch: pytest.MonkeyPatch) -> Cohort:
    monkeypatch.setenv("SONAR_DATA_DIR", str(sqlite_settings.data_dir))
    monkeypatch.delenv("SONAR_DATABASE_URL", raising=False)
    monkeypatch.setenv("SONAR_NDTMS_SALT", SALT.decode())
    return write_cohort(build_application(sqlite_settings, clock))


def test_cli_writes_the_extract_and_the_report(sqlite_cohort: Cohort, tmp_path: Path) -> None:
    out, report = tmp_path / "ndtms.csv", tmp_path / "problems.csv"
    result = CliRunner().invoke(export_cli, [
        "ndtms", "--from", "2026-02-01", "--to", "2026-02-28", "--site", "HMP Leeds",
        "--out", str(out), "--report", str(report)])
    assert result.exit_code == 0, result.output
    with out.open(newline="") as f:
        rows = list(csv.DictReader(f))
    assert sorted(r["client_ref"] for r in rows) == sorted(
        ref(p) for p in (sqlite_cohort.alex, sqlite_cohort.bea, sqlite_cohort.eli))
    with report.open(newline="") as f:
        problems = list(csv.DictReader(f))
    assert sorted((p["patient_id"], p["field"]) for p in problems) == sorted([
        (str(sqlite_cohort.bea), "care_plan_start_date"),
        (str(sqlite_cohort.bea), "top_start_date"),
        (str(sqlite_cohort.eli), "care_plan_start_date"),
        (str(sqlite_cohort.eli), "prison_reception_date")])
    assert "3 episodes, 4 missing mandatory items" in result.output


def test_cli_prints_csv_and_refuses_a_backwards_period(sqlite_cohort: Cohort) -> None:
    result = CliRunner().invoke(export_cli, ["ndtms", "--from", "2026-02-01", "--to",
                                             "2026-02-28", "--site", "HMP Wakefield"])
    assert result.exit_code == 0, result.output
    assert f"{ref(sqlite_cohort.cal)},1,HMP Wakefield,other,1999-06-15" in result.output
    backwards = CliRunner().invoke(export_cli, ["ndtms", "--from", "2026-02-28", "--to",
                                                "2026-02-01"])
    assert backwards.exit_code == 2


@pytest.fixture
def client(sqlite_cohort: Cohort, sqlite_settings: Settings,
           monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    # Until the lead adds the route to api/main.py and its rule to api/policy.py.
    monkeypatch.setitem(policy.ROUTES, ("GET", "/api/v1/reports/ndtms"),
                        policy.REPORT)
    settings = settings_for(sqlite_settings.data_dir)
    runner = build_runner(settings, sqlite_cohort.app)
    runner.migrate()
    api = create_app(settings, sqlite_cohort.app, runner, build_record_store(settings))
    if not any(getattr(r, "path", "") == "/api/v1/reports/ndtms" for r in api.routes):
        api.include_router(ndtms_routes.router)
    with TestClient(api, raise_server_exceptions=False) as c:
        yield c


def test_api_answers_json_and_csv(client: TestClient, sqlite_cohort: Cohort) -> None:
    auth = sign_in(client, SMS_WORKER)
    params = {"from": "2026-02-01", "to": "2026-02-28", "site": "HMP Leeds"}
    response = client.get("/api/v1/reports/ndtms", params=params, headers=auth)
    assert response.status_code == 200, response.text
    body = response.json()
    assert len(body["rows"]) == 3
    alex = next(r for r in body["rows"] if r["client_ref"] == ref(sqlite_cohort.alex))
    assert (alex["top_crack_days"], alex["top_alcohol_days"], alex["top_shared_needles"]) == (
        0, None, False)
    assert len(body["problems"]) == 4
    response = client.get("/api/v1/reports/ndtms", params=params,
                          headers=auth | {"Accept": "text/csv"})
    assert response.headers["content-type"].startswith("text/csv")
    assert len(list(csv.DictReader(io.StringIO(response.text)))) == 3
    bad = client.get("/api/v1/reports/ndtms", headers=auth,
                     params={"from": "2026-02-28", "to": "2026-02-01"})
    assert (bad.status_code, bad.json()["rule"]) == (422, "period.order")
