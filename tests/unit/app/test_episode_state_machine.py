"""Rule-based property test: any sequence of clinical commands keeps the record legal,
and every refused command leaves the log exactly as it was."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from sonar.commands.context import CommandContext
from sonar.commands.pathway import AssessRisk
from sonar.commands.pipeline import CommandBus
from sonar.commands.record import RegisterPatient
from sonar.domain import (
    Actor,
    DomainError,
    EpisodeStatus,
    Review,
)
from sonar.domain.review_schedule import REVIEW_ORDER
from sonar.eventstore.application import SonarApplication
from sonar.eventstore.errors import ApplicationError
from tests import strategies as s
from tests.conftest import FakeClock
from tests.steps import command_for

CTX = CommandContext(actor=Actor("sms-1", "sms_worker", "HMP Leeds HC", "HMP Leeds"),
                     correlation_id="sm")


class CareRecordMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.clock = FakeClock(datetime(2026, 3, 2, 9, tzinfo=UTC))
        self.app = SonarApplication(env={"PERSISTENCE_MODULE": "eventsourcing.popo"},
                                    clock=self.clock)
        self.refusals = 0

    @initialize()
    def register(self) -> None:
        self.pid = CommandBus(self.app).handle(CTX, RegisterPatient(
            given_name="Kim", family_name="Oakes", date_of_birth=date(1980, 1, 1),
            sex="female")).patient_id

    def _try(self, command: str, *args: Any) -> None:
        before = self.app.position()
        version = self.app.get_record(self.pid).version
        try:
            CommandBus(self.app).handle(CTX, command_for(command, self.pid, *args))
        except (DomainError, ApplicationError):
            self.refusals += 1
            assert self.app.position() == before, f"refused {command} wrote to the log"
            assert self.app.get_record(self.pid).version == version

    @property
    def episode_no(self) -> int:
        return max(1, len(self.app.get_record(self.pid).episodes))

    @rule(days=st.integers(0, 40))
    def time_passes(self, days: int) -> None:
        self.clock.advance(days=days)

    @rule(step=st.sampled_from(["receive", "release", "recall", "transfer", "detain"]))
    def journey(self, step: str) -> None:
        calls = {"receive": ("receive_into_prison", "HMP Leeds", None),
                 "release": ("release_from_prison", "licence", None),
                 "recall": ("recall_to_prison", "standard", "HMP Hull"),
                 "transfer": ("transfer", "HMP Wakefield"),
                 "detain": ("detain_in_police_custody", "Leeds Custody", None)}
        self._try(*calls[step])

    @rule(referral=s.referrals)
    def refer(self, referral: Any) -> None:
        self._try("refer_to_sms", referral)

    @rule(outcome=s.referral_outcomes)
    def outcome(self, outcome: Any) -> None:
        self._try("record_referral_outcome", self.episode_no, outcome)

    @rule(value=st.one_of(s.dual_diagnoses))
    def dual_diagnosis(self, value: Any) -> None:
        self._try("assess_dual_diagnosis", self.episode_no, value)

    @rule(value=s.risk_assessments)
    def risk(self, value: Any) -> None:
        self._try("assess_risk", self.episode_no, value)

    @rule(worker=st.sampled_from(["sms-1", "sms-2"]))
    def caseload(self, worker: str) -> None:
        self._try("assign_caseload", self.episode_no, worker, "HMP Leeds")

    @rule(top=s.tops)
    def top(self, top: Any) -> None:
        self._try("record_top", self.episode_no, top)

    @rule(review=s.reviews)
    def review(self, review: Review) -> None:
        self._try("record_review", self.episode_no, review)

    @rule(plan=s.care_plans)
    def care_plan(self, plan: Any) -> None:
        self._try("revise_care_plan", self.episode_no, plan)

    @rule(discharge=s.discharges)
    def discharge(self, discharge: Any) -> None:
        self._try("discharge", self.episode_no, discharge)

    @rule(version=st.integers(1, 40))
    def entered_in_error(self, version: int) -> None:
        self._try("mark_entered_in_error", version, "wrong patient")

    @rule(hours=st.integers(1, 48))
    def future_step(self, hours: int) -> None:
        self._try_future(hours)

    def _try_future(self, hours: int) -> None:
        before = self.app.position()
        try:
            CommandBus(self.app).handle(CTX, AssessRisk(
                patient_id=self.pid, episode=self.episode_no, level="low", risks=[],
                occurred_at=self.clock.now + timedelta(hours=hours)))
        except DomainError:
            assert self.app.position() == before
        else:
            raise AssertionError("a clinical time in the future was accepted")

    @invariant()
    def record_is_legal(self) -> None:
        record = self.app.get_record(self.pid)
        active = [e for e in record.episodes if e.is_active]
        assert len(active) <= 1
        for episode in record.episodes:
            if episode.status is EpisodeStatus.DISCHARGED:
                assert episode.discharge is not None
            if episode.status in (EpisodeStatus.OPEN, EpisodeStatus.DISCHARGED):
                assert episode.treatment_start is not None
            done = list(episode.reviews_done())
            assert done == [k for k in REVIEW_ORDER if k in done][: len(done)]
            assert done == list(REVIEW_ORDER[: len(done)]) or any(
                e.in_error for e in episode.entries)
            starts = [e for e in episode.valid_entries()
                      if getattr(e.value, "stage", None) == "start"]
            assert len(starts) <= 1
        assert record.journey.setting in (None, "community", "police_custody", "prison")


CareRecordMachine.TestCase.settings = settings(max_examples=40, stateful_step_count=30,
                                               deadline=None)
TestCareRecordMachine = CareRecordMachine.TestCase
