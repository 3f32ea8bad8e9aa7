"""The SMS pathway on the care record: the reception screen, the referral that opens an
episode, and each later step of the episode (``sonar.domain.sms_episode`` holds its state
machine)."""

from __future__ import annotations

from datetime import date

from sonar.domain import plausible
from sonar.domain.attribution import Attribution
from sonar.domain.care_record._base import (
    RecordArea,
    RecordEvent,
    check_planned_day,
    place_name,
)
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
from sonar.domain.sms_episode import Entry, EntryValue, Episode
from sonar.domain.top import Top


class EpisodeEvent(RecordEvent):
    """Base of events of one SMS episode, named by its number on the record."""

    episode: int


class EntryRecorded(EpisodeEvent):
    """Base of events that add a clinical entry to an episode."""

    def entry_value(self) -> EntryValue:
        raise NotImplementedError

    def entry_flags(self) -> tuple[str, ...]:
        return ()

    def apply(self, aggregate: SmsPathway) -> None:
        aggregate.episode(self.episode).add_entry(Entry(
            self.originator_version, self.attribution.occurred_at, self.entry_value(),
            flags=self.entry_flags()))


class SmsPathway(RecordArea):
    """Reception → referral → assessments, caseload, TOP, reviews, care plan → discharge."""

    class ReceptionScreenRecorded(RecordEvent):
        screen: ReceptionScreen

        def apply(self, aggregate: SmsPathway) -> None:
            aggregate.screens.append(Entry(self.originator_version,
                                           self.attribution.occurred_at, self.screen))

    class ReferredToSms(EpisodeEvent):
        referral: Referral

        def apply(self, aggregate: SmsPathway) -> None:
            aggregate.episodes.append(Episode(self.episode, self.referral,
                                              self.attribution.occurred_at))

    class ReferralOutcomeRecorded(EpisodeEvent):
        outcome: ReferralOutcome

        def apply(self, aggregate: SmsPathway) -> None:
            aggregate.episode(self.episode).apply_outcome(self.outcome,
                                                          self.attribution.occurred_at)

    class DualDiagnosisAssessed(EntryRecorded):
        assessment: DualDiagnosis

        def entry_value(self) -> EntryValue:
            return self.assessment

    class RiskAssessed(EntryRecorded):
        assessment: RiskAssessment

        def entry_value(self) -> EntryValue:
            return self.assessment

    class BriefInterventionRecorded(EntryRecorded):
        intervention: BriefIntervention

        def entry_value(self) -> EntryValue:
            return self.intervention

    class TopRecorded(EntryRecorded):
        top: Top
        flags: tuple[str, ...]

        def entry_value(self) -> EntryValue:
            return self.top

        def entry_flags(self) -> tuple[str, ...]:
            return self.flags

    class ReviewRecorded(EntryRecorded):
        review: Review
        due_date: date  # when it was due by the review rule at the time of recording

        def entry_value(self) -> EntryValue:
            return self.review

    class CarePlanRevised(EntryRecorded):
        plan: CarePlan
        revision: int

        def entry_value(self) -> EntryValue:
            return self.plan

    class CaseloadAssigned(EpisodeEvent):
        worker_id: str
        site: str
        previous_worker_id: str | None

        def apply(self, aggregate: SmsPathway) -> None:
            aggregate.episode(self.episode).apply_caseload(self.worker_id, self.site)

    class Discharged(EpisodeEvent):
        discharge: Discharge

        def apply(self, aggregate: SmsPathway) -> None:
            aggregate.episode(self.episode).apply_discharge(self.discharge,
                                                            self.attribution.occurred_at)

    # --- the reception screen -----------------------------------------------------------

    def record_reception_screen(self, screen: ReceptionScreen, attribution: Attribution) -> None:
        if screen.next_dose_due is not None:
            plausible.check_moment(screen.next_dose_due, "next_dose_due",
                                   latest=plausible.ahead_of(attribution.recorded_at))
        if self.journey.setting != "prison":
            raise IllegalStep("A reception screen is recorded when the person is in prison; "
                              "record the prison reception first.",
                              rule="reception_screen.requires_prison")
        self._record(self.ReceptionScreenRecorded, attribution, screen=screen)

    # --- episodes -----------------------------------------------------------------------

    def episode(self, number: int) -> Episode:
        if not 1 <= number <= len(self.episodes):
            raise IllegalStep(f"There is no episode {number} on this record.",
                              rule="episode.not_found")
        return self.episodes[number - 1]

    @property
    def active_episode(self) -> Episode | None:
        return next((e for e in self.episodes if e.is_active), None)

    def _open_step(self, number: int, attribution: Attribution) -> Episode:
        episode = self.episode(number)
        episode.require_not_before_referral(attribution.occurred_at)
        return episode

    def refer_to_sms(self, referral: Referral, attribution: Attribution) -> int:
        """Refer to the SMS team, opening a new episode; return its number."""
        active = self.active_episode
        if active is not None:
            raise IllegalStep(f"Episode {active.number} is still {active.status.value}; "
                              "record its outcome or discharge it first.",
                              rule="episode.already_active")
        ended = [e.ended_at for e in self.episodes if e.ended_at is not None]
        if ended and attribution.occurred_at < max(ended):
            raise IllegalStep("A new referral cannot be dated before the previous episode "
                              "ended.", rule="episode.overlaps_previous")
        number = len(self.episodes) + 1
        self._record(self.ReferredToSms, attribution, episode=number, referral=referral)
        return number

    def record_referral_outcome(self, number: int, outcome: ReferralOutcome,
                                attribution: Attribution) -> None:
        self._open_step(number, attribution).check_outcome()
        self._record(self.ReferralOutcomeRecorded, attribution, episode=number, outcome=outcome)

    def assess_dual_diagnosis(self, number: int, assessment: DualDiagnosis,
                              attribution: Attribution) -> None:
        self._open_step(number, attribution).check_assessment("dual_diagnosis")
        self._record(self.DualDiagnosisAssessed, attribution, episode=number,
                     assessment=assessment)

    def assess_risk(self, number: int, assessment: RiskAssessment,
                    attribution: Attribution) -> None:
        self._open_step(number, attribution).check_assessment("risk_assessment")
        self._record(self.RiskAssessed, attribution, episode=number, assessment=assessment)

    def assign_caseload(self, number: int, worker_id: str, site: str,
                        attribution: Attribution) -> None:
        episode = self._open_step(number, attribution)
        worker, where = place_name(worker_id, "worker_id"), place_name(site, "site")
        episode.check_caseload(worker, where)
        self._record(self.CaseloadAssigned, attribution, episode=number, worker_id=worker,
                     site=where, previous_worker_id=episode.caseload_worker)

    def record_brief_intervention(self, number: int, intervention: BriefIntervention,
                                  attribution: Attribution) -> None:
        self._open_step(number, attribution).check_assessment("brief_intervention")
        self._record(self.BriefInterventionRecorded, attribution, episode=number,
                     intervention=intervention)

    def record_top(self, number: int, top: Top, attribution: Attribution) -> None:
        flags = self._open_step(number, attribution).top_flags(top)
        self._record(self.TopRecorded, attribution, episode=number, top=top, flags=flags)

    def record_review(self, number: int, review: Review, attribution: Attribution) -> None:
        episode = self._open_step(number, attribution)
        due = episode.check_review(review, attribution.occurred_at)
        self._record(self.ReviewRecorded, attribution, episode=number, review=review,
                     due_date=due)

    def revise_care_plan(self, number: int, plan: CarePlan, attribution: Attribution) -> int:
        """Record a new care plan revision (earlier ones are kept); return its number."""
        revision = self._open_step(number, attribution).check_care_plan()
        check_planned_day(plan.next_review_date, "next_review_date", attribution,
                          rule="care_plan.next_review_in_past",
                          message="The next review date is before the plan was agreed.")
        self._record(self.CarePlanRevised, attribution, episode=number, plan=plan,
                     revision=revision)
        return revision

    def discharge(self, number: int, discharge: Discharge, attribution: Attribution) -> None:
        self._open_step(number, attribution).check_discharge(attribution.occurred_at)
        self._record(self.Discharged, attribution, episode=number, discharge=discharge)
