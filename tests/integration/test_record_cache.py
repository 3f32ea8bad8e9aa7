"""The record cache and group commit on real stores: two processes' applications writing
one record, and many threads writing a few records at once — nothing lost, nothing stale."""

from __future__ import annotations

import threading
from datetime import date
from uuid import UUID

from sonar.audit import checkpoints as cp
from sonar.bootstrap import build_application
from sonar.commands.context import CommandContext
from sonar.commands.journey import ReceiveIntoPrison
from sonar.commands.pathway import (
    AssessRisk,
    RecordBriefIntervention,
    RecordReferralOutcome,
    ReferToSms,
)
from sonar.commands.pipeline import CommandBus
from sonar.commands.record import RegisterPatient
from sonar.config import Settings
from sonar.domain import (
    Actor,
)
from sonar.eventstore.application import SonarApplication
from sonar.eventstore.integrity import iter_notifications
from tests.conftest import FakeClock

CTX = CommandContext(actor=Actor("sms-1", "sms_worker", "HMP Leeds HC", "HMP Leeds"),
                     correlation_id="cache")


def open_patient(app: SonarApplication, n: int) -> UUID:
    pid = CommandBus(app).handle(CTX, RegisterPatient(
        given_name="Cache", family_name=f"Person{n}", date_of_birth=date(1985, 1, 1 + n),
        sex="male")).patient_id
    CommandBus(app).handle(CTX, ReceiveIntoPrison(patient_id=pid, establishment="HMP Leeds"))
    CommandBus(app).handle(CTX, ReferToSms(
        patient_id=pid, source="self", substances=["heroin"], injecting_status="never",
        previously_treated=False))
    CommandBus(app).handle(CTX, RecordReferralOutcome(
        patient_id=pid, episode=1, outcome="accepted"))
    return pid


def entries(app: SonarApplication, pid: UUID) -> int:
    return len(app.get_record(pid).episodes[0].entries)


def test_a_command_on_a_stale_cached_record_is_run_again_on_the_fresh_one(
        store_settings: Settings, clock: FakeClock) -> None:
    one, other = build_application(store_settings, clock), build_application(store_settings,
                                                                               clock)
    pid = open_patient(one, 1)
    one_bus, other_bus = CommandBus(one), CommandBus(other)
    one_bus.handle(CTX, AssessRisk(patient_id=pid, episode=1, level="high",
                                   risks=["overdose"]))  # cached in `one`
    assert one.record_cache.version(pid) == 5
    advice = RecordBriefIntervention(patient_id=pid, episode=1,
                                     intervention="alcohol_brief_advice", outcome="completed")
    other_bus.handle(CTX, advice)
    # `one` still holds version 5; its command clashes with version 6 and runs again.
    result = one_bus.handle(CTX, AssessRisk(patient_id=pid, episode=1, level="medium", risks=[]))
    assert result.position == one.position()
    fresh = build_application(store_settings, clock).get_record(pid)
    assert fresh.version == 7
    assert [type(e.value).__name__ for e in fresh.episodes[0].entries] == [
        "RiskAssessment", "BriefIntervention", "RiskAssessment"]
    # A read asks the log for newer events, whatever the cache holds.
    other_bus.handle(CTX, advice)
    assert one.get_record(pid).version == 8
    assert entries(one, pid) == 4
    assert cp.verify(one, []).ok  # the hash chain runs unbroken through both writers


def test_many_threads_on_a_few_records_lose_nothing(store_settings: Settings,
                                                    clock: FakeClock) -> None:
    app = build_application(store_settings, clock)
    pids = [open_patient(app, n) for n in range(3)]
    stored = len(list(iter_notifications(app.recorder)))
    positions: list[int] = []
    failures: list[BaseException] = []
    lock = threading.Lock()

    def writer(w: int) -> None:
        for i in range(6):
            try:
                result = CommandBus(app).handle(CTX, RecordBriefIntervention(
                    patient_id=pids[(w + i) % 3], episode=1, intervention="alcohol_brief_advice",
                    outcome="completed"))
            except Exception as exc:
                with lock:
                    failures.append(exc)
                continue
            with lock:
                positions.append(result.position)

    threads = [threading.Thread(target=writer, args=(w,)) for w in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert failures == []
    assert len(positions) == len(set(positions)) == 36
    # (PostgreSQL's positions may skip numbers a refused insert took; none are reused.)
    assert len(list(iter_notifications(app.recorder))) == stored + 36
    fresh = build_application(store_settings, clock)
    assert sum(entries(fresh, pid) for pid in pids) == 36
    for pid in pids:  # versions contiguous: no event overwritten, none missing
        versions = [e.originator_version for e in fresh.events.get(pid)]
        assert versions == list(range(1, len(versions) + 1))
    assert cp.verify(fresh, []).ok
