"""What projection runners read: the log as plain rows (the same events, ids and order as
eventsourcing's notifications), decoded to the same domain events as the library's mapper,
with the chain value taken off and (for the runner) no chain heads remembered."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from eventsourcing.persistence import Mapper, StoredEvent

from sonar.bootstrap import build_application
from sonar.commands.context import CommandContext
from sonar.config import Settings
from sonar.domain import (
    Actor,
    Demographics,
    Identity,
    Referral,
    ReferralOutcome,
    RiskAssessment,
)
from sonar.eventstore.application import SonarApplication
from tests.conftest import FakeClock

CTX = CommandContext(actor=Actor("sms-1", "sms_worker", "HMP Leeds HC", "HMP Leeds"),
                     correlation_id="rows")


def _log(app: SonarApplication) -> None:
    for n in range(3):
        pid = app.register_patient(CTX, Identity(), Demographics(
            "Row", f"Person{n}", date(1980, 2, 1 + n), "female")).patient_id
        app.receive_into_prison(CTX, pid, "HMP Leeds", None)
        app.refer_to_sms(CTX, pid, Referral("self", ("alcohol",), "never", False))
        app.record_referral_outcome(CTX, pid, 1, ReferralOutcome("accepted"))
        app.assess_risk(CTX, pid, 1, RiskAssessment("high", ("overdose",)))


@pytest.mark.parametrize(("start", "limit", "stop"), [(1, 100, None), (4, 5, None),
                                                      (3, 100, 9), (14, 2, 14), (99, 5, None)])
def test_rows_are_the_notifications_of_the_log(store_settings: Settings, clock: FakeClock,
                                               start: int, limit: int,
                                               stop: int | None) -> None:
    app = build_application(store_settings, clock)
    _log(app)
    rows = app.stored_rows(start, limit, stop)
    notes = app.recorder.select_notifications(start=start, limit=limit, stop=stop)
    assert [(r[0], str(r[1]), r[2], r[3], bytes(r[4])) for r in rows] == [
        (n.id, str(n.originator_id), n.originator_version, n.topic, bytes(n.state))
        for n in notes]
    app.close()


def _without_chain(event: Any) -> dict[str, Any]:
    state = dict(vars(event))
    state.pop("__chain__", None)
    return state


def test_a_row_decodes_to_the_event_the_librarys_mapper_makes(store_settings: Settings,
                                                               clock: FakeClock) -> None:
    app = build_application(store_settings, clock)
    _log(app)
    library = Mapper(transcoder=app.mapper.transcoder)  # the library's own to_domain_event
    rows = app.stored_rows(1, 1000)
    assert len(rows) >= 15
    for position, originator_id, version, topic, state in rows:
        ours = app.chaining_mapper.decode(originator_id, version, topic, state,
                                          remember=False)
        theirs = library.to_domain_event(StoredEvent(originator_id, version, topic,
                                                     bytes(state)))
        assert type(ours) is type(theirs)
        assert "__chain__" not in vars(ours)
        assert vars(ours) == _without_chain(theirs), position
    app.close()


def test_only_the_writers_reads_remember_chain_heads(store_settings: Settings,
                                                     clock: FakeClock) -> None:
    """A runner reading the whole log would churn the bounded cache of heads the writers
    use to extend streams without a query."""
    app = build_application(store_settings, clock)
    _log(app)
    mapper = app.chaining_mapper
    row = app.stored_rows(1, 1)[0]
    _, originator_id, version, topic, state = row
    with mapper._known_lock:
        mapper._known.clear()
    mapper.decode(originator_id, version, topic, state, remember=False)
    assert mapper.seen_head(originator_id, version) is None
    mapper.decode(originator_id, version, topic, state)
    assert mapper.seen_head(originator_id, version) is not None
    app.close()
