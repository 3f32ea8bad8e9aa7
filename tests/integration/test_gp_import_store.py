"""GP record import on a real store: durable, attributed as an import, rebuilt from snapshots."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from sonar.bootstrap import build_application
from sonar.commands.context import CommandContext
from sonar.commands.gp_import import import_gp_record
from sonar.config import Settings
from sonar.domain import Actor, Demographics, Identity, NhsNumber
from tests.conftest import FakeClock

BUNDLE = (Path(__file__).parent.parent / "data" / "gp_connect_bundle.json").read_bytes()
CTX = CommandContext(actor=Actor("nurse-1", "prison_clinician", "HMP Leeds HC", "HMP Leeds"),
                     correlation_id="it")


def test_imported_gp_items_survive_a_restart_and_a_snapshot(sqlite_settings: Settings,
                                                           clock: FakeClock) -> None:
    app = build_application(sqlite_settings, clock)
    pid = app.register_patient(CTX, Identity(NhsNumber("9990000018")),
                               Demographics("Sam", "Holt", date(1990, 5, 1), "male")).patient_id
    report = import_gp_record(app, CTX, pid, BUNDLE)
    assert report.imported == 7

    reopened = build_application(sqlite_settings, clock)
    reopened.take_snapshot(pid)
    record = reopened.get_record(pid)
    assert record.gp_record == app.get_record(pid).gp_record
    assert {i.kind for i in record.gp_record.items} == {
        "allergy", "medication", "problem", "observation", "immunisation"}
    event = list(reopened.events.get(pid))[-1]
    assert (event.attribution.source, event.attribution.purpose_of_use) == ("import", "import")
    assert event.source_system.endswith("|A20047")
    assert import_gp_record(reopened, CTX, pid, BUNDLE).imported == 0


def test_a_record_without_an_nhs_number_accepts_the_gp_record(sqlite_settings: Settings,
                                                              clock: FakeClock) -> None:
    app = build_application(sqlite_settings, clock)
    pid = app.register_patient(CTX, Identity(),
                               Demographics("Sam", "Holt", date(1990, 5, 1), "male")).patient_id
    assert import_gp_record(app, CTX, pid, BUNDLE).imported == 7
    assert app.get_record(pid).identity.nhs_number is None  # tracing stays a separate step
