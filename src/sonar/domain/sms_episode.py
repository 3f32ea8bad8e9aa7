"""An SMS treatment episode: the pathway's state machine and its clinical entries.

States: ``referred`` (awaiting an outcome) → ``open`` (accepted; treatment started) →
``discharged``; or ``referred`` → ``closed`` (declined, not appropriate, referred
elsewhere). Guards raise :class:`IllegalStep` *before* any event is triggered, so a
refused step writes nothing. Entries are identified by the version of the event that
recorded them in the patient's stream, which is how they are later marked in error.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, replace
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sonar.domain.attribution import clinical_day
from sonar.domain.errors import IllegalStep
from sonar.domain.pathway import (
    BriefIntervention,
    CarePlan,
    Discharge,
    DualDiagnosis,
    ReceptionScreen,
    Referral,
    ReferralOutcome,
    Review,
    RiskAssessment,
)
from sonar.domain.places import same_place
from sonar.domain.review_schedule import REVIEW_ORDER, review_due_dates
from sonar.domain.top import Top
from sonar.domain.values import Immutable

EntryValue = (
    ReceptionScreen | DualDiagnosis | RiskAssessment | BriefIntervention | Top | Review | CarePlan
)


class EpisodeStatus(StrEnum):
    REFERRED = "referred"
    OPEN = "open"
    CLOSED = "closed"
    DISCHARGED = "discharged"


ACTIVE_STATUSES = frozenset({EpisodeStatus.REFERRED, EpisodeStatus.OPEN})


@dataclass(frozen=True)
class Entry(Immutable):
    """One clinical entry in an episode; ``in_error`` holds the correction's reason.

    Frozen: marking it in error replaces it, so copies of a record can share entries."""

    version: int
    occurred_at: datetime
    value: EntryValue
    in_error: str | None = None
    flags: tuple[str, ...] = ()


@dataclass
class Episode:
    """A referral to the SMS team and everything done under it until it ends."""

    number: int
    referral: Referral
    referred_at: datetime
    status: EpisodeStatus = EpisodeStatus.REFERRED
    outcome: ReferralOutcome | None = None
    treatment_start: date | None = None
    accepted_at: datetime | None = None
    caseload_worker: str | None = None
    caseload_site: str | None = None
    discharge: Discharge | None = None
    ended_at: datetime | None = None

    def __post_init__(self) -> None:
        self.entries: list[Entry] = []
        # Running counts of the entries, kept by add_entry and mark_in_error, so the guards
        # a command runs cost the same on the 500th entry as on the first (a walk of every
        # entry per TOP or care plan was a tenth of a busy writer's time).
        self.care_plans = 0  # care plans recorded, in error or not: the revision so far
        self.start_tops = 0  # valid start TOPs

    def recount(self) -> None:
        """Set the running counts from the entries (for state that predates them)."""
        self.care_plans = sum(isinstance(e.value, CarePlan) for e in self.entries)
        self.start_tops = sum(_is_start_top(e) for e in self.entries)

    def __deepcopy__(self, memo: dict[int, Any]) -> Episode:
        clone = copy.copy(self)  # the other fields hold immutable values
        clone.entries = list(self.entries)  # entries are immutable
        return clone

    # --- guards -------------------------------------------------------------------------

    def _illegal(self, message: str, rule: str) -> IllegalStep:
        return IllegalStep(f"Episode {self.number}: {message}", rule=rule)

    def require_status(self, *allowed: EpisodeStatus, step: str) -> None:
        if self.status not in allowed:
            hint = {
                EpisodeStatus.REFERRED: "the referral has no outcome yet",
                EpisodeStatus.OPEN: "the episode is open",
                EpisodeStatus.CLOSED: "the referral was not accepted; refer again",
                EpisodeStatus.DISCHARGED: "the episode is discharged; refer again",
            }[self.status]
            raise self._illegal(f"cannot record {step}: {hint}.", f"episode.{step}_not_allowed")

    def require_not_before_referral(self, occurred_at: datetime) -> None:
        if occurred_at < self.referred_at:
            raise self._illegal("a pathway step cannot happen before its referral.",
                                "episode.before_referral")

    def check_outcome(self) -> None:
        self.require_status(EpisodeStatus.REFERRED, step="referral_outcome")

    def check_assessment(self, step: str) -> None:
        self.require_status(EpisodeStatus.REFERRED, EpisodeStatus.OPEN, step=step)

    def check_caseload(self, worker_id: str, site: str) -> None:
        self.require_status(EpisodeStatus.OPEN, step="caseload_assignment")
        if self.caseload_worker == worker_id and same_place(self.caseload_site, site):
            raise self._illegal(f"already on the caseload of {worker_id} at {site}.",
                                "caseload.already_assigned")

    def _require_after_acceptance(self, occurred_at: datetime, step: str) -> None:
        if self.accepted_at is not None and occurred_at < self.accepted_at:
            raise self._illegal(f"a {step} cannot happen before treatment started.",
                                f"{step}.before_treatment_start")

    def top_flags(self, top: Top) -> tuple[str, ...]:
        """Check a TOP may be recorded; return flags it must carry (e.g. no start TOP).

        A post-treatment TOP follows discharge; every other stage is recorded in treatment.
        """
        if top.stage == "post_treatment":
            self.require_status(EpisodeStatus.DISCHARGED, step="post_treatment_top")
        else:
            self.require_status(EpisodeStatus.OPEN, step="top")
        has_start = self.start_tops > 0
        if top.stage == "start" and has_start:
            raise self._illegal(
                "a start TOP is already recorded; record a review or exit TOP, or mark the "
                "earlier one entered in error.", "top.start_already_recorded")
        if top.stage != "start" and not has_start:
            return ("no_start_top",)
        return ()

    def check_review(self, review: Review, occurred_at: datetime) -> date:
        """Check the review may be recorded now; return the date it was due."""
        self.require_status(EpisodeStatus.OPEN, step="review")
        if self.treatment_start is None:  # an open episode always has one
            raise self._illegal("treatment has not started.", "review.no_treatment_start")
        done = self.reviews_done()
        if review.kind in done:
            raise self._illegal(f"the {review.kind} review is already recorded.",
                                "review.already_recorded")
        expected = next(kind for kind in REVIEW_ORDER if kind not in done)
        if review.kind != expected:
            raise self._illegal(
                f"reviews are recorded in order; the {expected} review comes next.",
                "review.out_of_order")
        self._require_after_acceptance(occurred_at, "review")
        return review_due_dates(self.treatment_start)[review.kind]

    def check_care_plan(self) -> int:
        """Check a care plan may be revised; return the new revision number."""
        self.require_status(EpisodeStatus.OPEN, step="care_plan")
        return self.care_plans + 1

    def check_discharge(self, occurred_at: datetime) -> None:
        self.require_status(EpisodeStatus.OPEN, step="discharge")
        self._require_after_acceptance(occurred_at, "discharge")

    # --- transitions (called only from events' apply) -----------------------------------

    def apply_outcome(self, outcome: ReferralOutcome, occurred_at: datetime) -> None:
        self.outcome = outcome
        if outcome.outcome == "accepted":
            self.status = EpisodeStatus.OPEN
            self.accepted_at = occurred_at
            self.treatment_start = clinical_day(occurred_at)
        else:
            self.status = EpisodeStatus.CLOSED
            self.ended_at = occurred_at

    def apply_caseload(self, worker_id: str, site: str) -> None:
        self.caseload_worker, self.caseload_site = worker_id, site

    def apply_discharge(self, discharge: Discharge, occurred_at: datetime) -> None:
        self.status = EpisodeStatus.DISCHARGED
        self.discharge = discharge
        self.ended_at = occurred_at

    def add_entry(self, entry: Entry) -> None:
        self.entries.append(entry)
        self.care_plans += isinstance(entry.value, CarePlan)
        self.start_tops += _is_start_top(entry)

    def mark_in_error(self, index: int, reason: str) -> None:
        """Replace the entry at ``index`` with a copy marked in error (entries are frozen)."""
        entry = self.entries[index]
        self.start_tops -= _is_start_top(entry)
        self.entries[index] = replace(entry, in_error=reason)

    # --- views --------------------------------------------------------------------------

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_STATUSES

    def valid_entries(self) -> list[Entry]:
        return [e for e in self.entries if e.in_error is None]

    def latest(self, kind: type[EntryValue]) -> Entry | None:
        """The latest valid entry of a kind by clinical time (then by recording order)."""
        found = [e for e in self.valid_entries() if isinstance(e.value, kind)]
        return max(found, key=lambda e: (e.occurred_at, e.version), default=None)

    def reviews_done(self) -> dict[str, Entry]:
        return {e.value.kind: e for e in self.valid_entries() if isinstance(e.value, Review)}

    def review_due_dates(self) -> dict[str, date]:
        return review_due_dates(self.treatment_start) if self.treatment_start else {}

    def next_review_due(self, done: dict[str, Entry] | None = None) -> tuple[str, date] | None:
        """The first review not yet done (``done``: ``reviews_done()``, if already known)."""
        if self.status is not EpisodeStatus.OPEN:
            return None
        done = self.reviews_done() if done is None else done
        for kind, due in self.review_due_dates().items():
            if kind not in done:
                return kind, due
        return None


def _is_start_top(entry: Entry) -> bool:
    return (entry.in_error is None and isinstance(entry.value, Top)
            and entry.value.stage == "start")
