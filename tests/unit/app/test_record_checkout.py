"""Commands change the cached record itself (no copy): what they leave in the cache."""

from __future__ import annotations

from typing import Any

import pytest

from sonar.domain import Identity, IllegalStep, Referral, ReferralOutcome, RiskAssessment
from sonar.eventstore.application import SonarApplication
from tests.conftest import FakeClock
from tests.unit.app.test_application import CTX, PERSON


@pytest.fixture
def app(clock: FakeClock) -> SonarApplication:
    return SonarApplication(env={"PERSISTENCE_MODULE": "eventsourcing.popo",
                                 "SONAR_RECORD_CACHE_SIZE": "10"}, clock=clock)


def _open(app: SonarApplication) -> Any:
    pid = app.register_patient(CTX, Identity(), PERSON).patient_id
    app.refer_to_sms(CTX, pid, Referral("self", ("alcohol",), "never", False))
    app.record_referral_outcome(CTX, pid, 1, ReferralOutcome("accepted"))
    return pid


def test_a_saved_command_leaves_its_record_in_the_cache(app: SonarApplication) -> None:
    pid = _open(app)
    app.assess_risk(CTX, pid, 1, RiskAssessment("high", ()))
    assert app.record_cache.version(pid) == 4
    taken = app.record_cache.take(pid)
    assert taken is not None
    assert taken.version == 4
    assert app.record_cache.version(pid) is None  # out of the cache while a command has it


def test_a_refused_command_puts_the_unchanged_record_back(app: SonarApplication) -> None:
    pid = _open(app)
    with pytest.raises(IllegalStep):
        app.record_referral_outcome(CTX, pid, 1, ReferralOutcome("accepted"))  # already
    assert app.record_cache.version(pid) == 3


def test_a_command_whose_save_fails_leaves_nothing_of_it_cached(
        app: SonarApplication, monkeypatch: pytest.MonkeyPatch) -> None:
    pid = _open(app)

    def store_down(*_: Any) -> None:
        raise OSError("store unavailable")

    with monkeypatch.context() as patched:
        patched.setattr(app.group_commit, "save", store_down)
        with pytest.raises(OSError, match="store unavailable"):
            app.assess_risk(CTX, pid, 1, RiskAssessment("high", ()))
    assert app.record_cache.version(pid) is None
    assert app.get_record(pid).episode(1).entries == []
    app.assess_risk(CTX, pid, 1, RiskAssessment("low", ()))
    assert [e.value.level for e in app.get_record(pid).episode(1).entries] == ["low"]
