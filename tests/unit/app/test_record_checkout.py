"""Commands change the cached record itself (no copy): what they leave in the cache."""

from __future__ import annotations

from typing import Any

import pytest

from sonar.commands.pathway import AssessRisk, RecordReferralOutcome, ReferToSms
from sonar.commands.pipeline import CommandBus
from sonar.commands.record import RegisterPatient
from sonar.domain import IllegalStep
from sonar.eventstore.application import SonarApplication
from tests.conftest import FakeClock
from tests.steps import fields
from tests.unit.app.test_application import CTX, PERSON


@pytest.fixture
def app(clock: FakeClock) -> SonarApplication:
    return SonarApplication(env={"PERSISTENCE_MODULE": "eventsourcing.popo",
                                 "SONAR_RECORD_CACHE_SIZE": "10"}, clock=clock)


def _open(app: SonarApplication) -> Any:
    pid = CommandBus(app).handle(CTX, RegisterPatient(**fields(PERSON))).patient_id
    CommandBus(app).handle(CTX, ReferToSms(
        patient_id=pid, source="self", substances=["alcohol"], injecting_status="never",
        previously_treated=False))
    CommandBus(app).handle(CTX, RecordReferralOutcome(
        patient_id=pid, episode=1, outcome="accepted"))
    return pid


def test_a_saved_command_leaves_its_record_in_the_cache(app: SonarApplication) -> None:
    pid = _open(app)
    CommandBus(app).handle(CTX, AssessRisk(patient_id=pid, episode=1, level="high", risks=[]))
    assert app.record_cache.version(pid) == 4
    taken = app.record_cache.take(pid)
    assert taken is not None
    assert taken.version == 4
    assert app.record_cache.version(pid) is None  # out of the cache while a command has it


def test_a_refused_command_puts_the_unchanged_record_back(app: SonarApplication) -> None:
    pid = _open(app)
    with pytest.raises(IllegalStep):
        CommandBus(app).handle(CTX, RecordReferralOutcome(  # already recorded
            patient_id=pid, episode=1, outcome="accepted"))
    assert app.record_cache.version(pid) == 3


def test_a_command_whose_save_fails_leaves_nothing_of_it_cached(
        app: SonarApplication, monkeypatch: pytest.MonkeyPatch) -> None:
    pid = _open(app)

    def store_down(*_: Any) -> None:
        raise OSError("store unavailable")

    with monkeypatch.context() as patched:
        patched.setattr(app.group_commit, "save", store_down)
        with pytest.raises(OSError, match="store unavailable"):
            CommandBus(app).handle(CTX, AssessRisk(
                patient_id=pid, episode=1, level="high", risks=[]))
    assert app.record_cache.version(pid) is None
    assert app.get_record(pid).episode(1).entries == []
    CommandBus(app).handle(CTX, AssessRisk(patient_id=pid, episode=1, level="low", risks=[]))
    assert [e.value.level for e in app.get_record(pid).episode(1).entries] == ["low"]
