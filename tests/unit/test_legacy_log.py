"""Event schema evolution: a log written before events were versioned still loads.

``tests/data/log_v1`` was written by the code of commit d5c448d (see its generate.py): a
demo cohort and one person with consent, dissent, break-glass, a release plan, a diary and
a snapshot. Today's code must read every record exactly as that code did, upcasting the
version-1 consent events (no address) and the version-1 snapshot (private state keys).
"""

from __future__ import annotations

import json
import shutil
from datetime import date
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest

from sonar.audit import checkpoints as cp
from sonar.bootstrap import build_application
from sonar.commands.access import RecordFamilyNotificationConsent
from sonar.commands.context import CommandContext
from sonar.commands.pipeline import CommandBus
from sonar.config import Settings
from sonar.domain import Actor, CareRecord
from sonar.domain.contacts import FamilyConsent
from sonar.eventstore.application import SonarApplication
from sonar.readmodels.record_view import plain, record_view
from tests.data.log_v1.generate import other_state

LOG = Path(__file__).parents[1] / "data" / "log_v1"
EXPECTED: dict[str, dict[str, Any]] = json.loads((LOG / "expected.json").read_text())
AS_OF = date(2026, 6, 1)
LEGACY = next(pid for pid, v in EXPECTED.items() if v["other"]["consents"])


@pytest.fixture
def app(tmp_path: Path) -> SonarApplication:
    shutil.copy(LOG / "sonar.db", tmp_path / "sonar.db")
    return build_application(Settings(data_dir=tmp_path))


def _json(value: Any) -> Any:
    return json.loads(json.dumps(value, sort_keys=True, default=str))


def test_every_record_reads_as_it_did_when_written(app: SonarApplication) -> None:
    for pid, expected in EXPECTED.items():
        record = app.get_record(UUID(pid))
        then = dict(expected)
        other = then.pop("other")
        assert _json(record_view(record, AS_OF)) == then
        now = _json(other_state(record))
        # Version-1 consents named a channel only; the upcaster says the address is unknown.
        other["consents"] = {member: {"relationship": rel, "channel": channel, "address": None}
                             for member, (rel, channel) in other["consents"].items()}
        assert now == other


def test_the_version_1_snapshot_is_upcast_to_the_same_state_as_replaying_every_event(
        app: SonarApplication) -> None:
    snapshots = app.snapshots
    assert snapshots is not None
    (snapshot,) = list(snapshots.get(UUID(LEGACY)))
    assert "class_version" not in app.mapper.transcoder.decode(
        app.snapshots.recorder.select_events(UUID(LEGACY))[0].state)  # type: ignore[union-attr]
    assert snapshot.originator_version == 50
    from_snapshot = app.get_record(UUID(LEGACY))
    replayed: CareRecord | None = None
    for event in app.events.get(UUID(LEGACY)):
        replayed = event.mutate(replayed)  # type: ignore[attr-defined]
    assert replayed is not None
    assert _json(plain(vars(replayed))) == _json(plain(vars(from_snapshot)))
    assert from_snapshot.family_notification_consents == {
        "Pat Garside": FamilyConsent("sister", "email", None)}
    assert from_snapshot.reminder_contact is None


def test_the_legacy_log_verifies_and_new_versions_append_to_it(app: SonarApplication) -> None:
    assert cp.verify(app, []).ok
    ctx = CommandContext(actor=Actor("sms-legacy-1", "sms_worker", "HMP Leeds Healthcare",
                                     "HMP Leeds"), correlation_id="after-upgrade")

    CommandBus(app).handle(ctx, RecordFamilyNotificationConsent(
        patient_id=UUID(LEGACY), family_member="Pat Garside", relationship="sister",
        contact_channel="email", contact_address="pat@family.example"))
    stored = app.recorder.select_events(UUID(LEGACY), desc=True, limit=1)[0]
    assert app.mapper.to_domain_event(stored).__class__.class_version == 2
    again = build_application(Settings(data_dir=Path(app.env["SQLITE_DBNAME"]).parent))
    assert again.get_record(UUID(LEGACY)).family_notification_consents["Pat Garside"] == (
        FamilyConsent("sister", "email", "pat@family.example"))
    assert cp.verify(again, []).ok
