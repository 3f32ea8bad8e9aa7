"""GP record import on a real store: durable, attributed as an import, rebuilt from snapshots."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from uuid import UUID

from sonar.adapters.fhir.gp_bundle import import_command, parse_gp_bundle
from sonar.bootstrap import build_application
from sonar.commands.context import CommandContext
from sonar.commands.pipeline import CommandBus
from sonar.commands.record import RegisterPatient
from sonar.config import Settings
from sonar.domain import Actor
from sonar.eventstore.application import SonarApplication
from tests.conftest import FakeClock

BUNDLE = (Path(__file__).parent.parent / "data" / "gp_connect_bundle.json").read_bytes()
def import_gp_record(app: SonarApplication, ctx: CommandContext, pid: UUID,
                     bundle: bytes) -> int:
    """How many items an import of ``bundle`` added."""
    result = CommandBus(app).handle(ctx, import_command(pid, parse_gp_bundle(bundle)))
    return int(result.details["imported"])


CTX = CommandContext(actor=Actor("nurse-1", "prison_clinician", "HMP Leeds HC", "HMP Leeds"),
                     correlation_id="it")


def test_imported_gp_items_survive_a_restart_and_a_snapshot(sqlite_settings: Settings,
                                                           clock: FakeClock) -> None:
    app = build_application(sqlite_settings, clock)
    pid = CommandBus(app).handle(CTX, RegisterPatient(
        nhs_number="9990000018", given_name="Sam", family_name="Holt",
        date_of_birth=date(1990, 5, 1), sex="male")).patient_id
    assert import_gp_record(app, CTX, pid, BUNDLE) == 7

    reopened = build_application(sqlite_settings, clock)
    reopened.take_snapshot(pid)
    record = reopened.get_record(pid)
    assert record.gp_record == app.get_record(pid).gp_record
    assert {i.kind for i in record.gp_record.items} == {
        "allergy", "medication", "problem", "observation", "immunisation"}
    event = list(reopened.events.get(pid))[-1]
    assert (event.attribution.source, event.attribution.purpose_of_use) == ("import", "import")
    assert event.source_system.endswith("|A20047")
    assert import_gp_record(reopened, CTX, pid, BUNDLE) == 0


def test_a_record_without_an_nhs_number_accepts_the_gp_record(sqlite_settings: Settings,
                                                              clock: FakeClock) -> None:
    app = build_application(sqlite_settings, clock)
    pid = CommandBus(app).handle(CTX, RegisterPatient(
        given_name="Sam", family_name="Holt", date_of_birth=date(1990, 5, 1),
        sex="male")).patient_id
    assert import_gp_record(app, CTX, pid, BUNDLE) == 7
    assert app.get_record(pid).identity.nhs_number is None  # tracing stays a separate step
