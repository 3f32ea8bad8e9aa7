"""Snapshots: pickled from the record in memory, read back through an allowlist, and never
the reason a committed command fails."""

from __future__ import annotations

import gc
import pickle
from datetime import UTC, datetime
from typing import Any

import pytest

from sonar.cli.runtime import YOUNG_THRESHOLD, tune_gc
from sonar.commands.pathway import AssessRisk, RecordReferralOutcome, ReferToSms
from sonar.commands.pipeline import CommandBus
from sonar.commands.record import RegisterPatient
from sonar.domain import VALUE_TYPES, RiskAssessment
from sonar.eventstore.application import SonarApplication, fold
from sonar.eventstore.snapshot_codec import SnapshotRefused, SnapshotTranscoder
from sonar.eventstore.transcoder import ValueTranscoder
from tests.steps import fields
from tests.unit.app.test_application import CTX, PERSON

CODEC = SnapshotTranscoder(ValueTranscoder(VALUE_TYPES))


def _record_with(app: SonarApplication, risks: int) -> Any:
    pid = CommandBus(app).handle(CTX, RegisterPatient(**fields(PERSON))).patient_id
    CommandBus(app).handle(CTX, ReferToSms(
        patient_id=pid, source="self", substances=["alcohol"], injecting_status="never",
        previously_treated=False))
    CommandBus(app).handle(CTX, RecordReferralOutcome(
        patient_id=pid, episode=1, outcome="accepted"))
    for i in range(risks):
        CommandBus(app).handle(CTX, AssessRisk(
            patient_id=pid, episode=1, level=("low", "medium", "high")[i % 3], risks=[]))
    return pid


def test_snapshots_are_pickled_and_load_as_the_record_folded_from_every_event(
        memory_app: SonarApplication) -> None:
    pid = _record_with(memory_app, 120)
    assert memory_app.snapshots is not None
    stored = memory_app.snapshots.recorder.select_events(pid)
    assert [s.originator_version for s in stored] == [50, 100]
    assert all(s.state[:1] == b"\x80" for s in stored)
    memory_app.record_cache.evict(pid)
    from_snapshot = memory_app.get_record(pid)
    folded = fold(None, memory_app.events.get(pid))
    assert from_snapshot.version == folded.version == 123
    assert vars(from_snapshot) == vars(folded)


def test_a_snapshot_that_cannot_be_stored_does_not_fail_the_committed_command(
        memory_app: SonarApplication, monkeypatch: pytest.MonkeyPatch) -> None:
    assert memory_app.snapshots is not None

    def refuse(*_: Any, **__: Any) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(memory_app.snapshots, "put", refuse)
    pid = _record_with(memory_app, 60)
    assert memory_app.get_record(pid).version == 63
    assert len(list(memory_app.events.get(pid))) == 63
    assert memory_app.snapshots.recorder.select_events(pid) == []


def test_the_codec_round_trips_values_and_reads_json_snapshots() -> None:
    values = ValueTranscoder(VALUE_TYPES)
    state = {"at": datetime(2026, 1, 2, 3, 4, tzinfo=UTC), "risk": RiskAssessment("high", ()),
             "pair": ("a", 1)}
    assert CODEC.decode(CODEC.encode(state)) == state
    assert CODEC.decode(values.encode(state)) == state  # written before the pickle codec


class _Payload:
    def __reduce__(self) -> tuple[Any, tuple[str]]:
        return (print, ("should never run",))


@pytest.mark.parametrize("payload", [_Payload(), ValueError("x")])
def test_the_codec_refuses_a_pickle_naming_anything_but_a_value_type(payload: object) -> None:
    with pytest.raises(SnapshotRefused, match="not a registered value type"):
        CODEC.decode(pickle.dumps(payload, protocol=5))


def test_tune_gc_freezes_startup_objects_and_collects_less_often() -> None:
    before = gc.get_threshold()
    try:
        tune_gc()
        assert gc.get_freeze_count() > 0
        assert gc.get_threshold()[0] == YOUNG_THRESHOLD
    finally:
        gc.unfreeze()
        gc.set_threshold(*before)
