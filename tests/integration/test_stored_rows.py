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
from sonar.commands.journey import ReceiveIntoPrison
from sonar.commands.pathway import AssessRisk, RecordReferralOutcome, ReferToSms
from sonar.commands.pipeline import CommandBus
from sonar.commands.record import RegisterPatient
from sonar.config import Settings
from sonar.domain import (
    Actor,
)
from sonar.eventstore.application import SonarApplication
from tests.conftest import FakeClock

CTX = CommandContext(actor=Actor("sms-1", "sms_worker", "HMP Leeds HC", "HMP Leeds"),
                     correlation_id="rows")


def _log(app: SonarApplication) -> None:
    for n in range(3):
        pid = CommandBus(app).handle(CTX, RegisterPatient(
            given_name="Row", family_name=f"Person{n}", date_of_birth=date(1980, 2, 1 + n),
            sex="female")).patient_id
        CommandBus(app).handle(CTX, ReceiveIntoPrison(patient_id=pid, establishment="HMP Leeds"))
        CommandBus(app).handle(CTX, ReferToSms(
            patient_id=pid, source="self", substances=["alcohol"], injecting_status="never",
            previously_treated=False))
        CommandBus(app).handle(CTX, RecordReferralOutcome(
            patient_id=pid, episode=1, outcome="accepted"))
        CommandBus(app).handle(CTX, AssessRisk(
            patient_id=pid, episode=1, level="high", risks=["overdose"]))


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
