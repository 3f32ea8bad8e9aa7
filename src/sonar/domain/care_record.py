"""The patient's care record: one event-sourced aggregate per person.

One stream per person is the consistency boundary: identity, the journey across settings
and every SMS episode change together, so one person's history is totally ordered, an
auditor replays a single stream, and Kafka keys by the same id. Public methods are
imperative clinical verbs; they validate and compute derived facts, then trigger a
past-tense event holding only facts. Events carry the attribution and use its recorded
time as their timestamp, so the domain never reads a clock.
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import date, datetime, timedelta
from typing import Any

from eventsourcing.domain import Aggregate

from sonar.domain import codes, plausible
from sonar.domain.attribution import Attribution, before_birth, clinical_day
from sonar.domain.contacts import DELIVERED_BY, FamilyConsent, ReminderContact, check_address
from sonar.domain.errors import IllegalStep, InvalidValue
from sonar.domain.gp_record import GpItem, GpRecord
from sonar.domain.identity import Demographics, Identity, NhsNumber, PncId, PrisonNumber
from sonar.domain.journey import Journey, Movement
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
from sonar.domain.reset import (
    ATTENDANCE_CONFIRMED_BY,
    MISSED_GRACE,
    Appointment,
    DiaryEntry,
    ReleasePlan,
)
from sonar.domain.sms_episode import Entry, EntryValue, Episode
from sonar.domain.top import Top


def _location(value: str, field: str) -> str:
    text = value.strip()
    if not text or len(text) > 100:
        raise InvalidValue(f"{field} must have 1 to 100 characters.", rule="location.length",
                           field=field)
    if not text.isprintable():
        raise InvalidValue(f"{field} contains control characters.",
                           rule="text.control_characters", field=field)
    return text


class CareRecord(Aggregate):
    """A person's shared care record across police custody, prison and the community.

    ``class_version`` versions the snapshot state: version 1 kept the access, GP and ReSet
    state under private keys that older snapshots lack; ``upcast_v1_v2`` brings such a
    snapshot up to the attributes every record now has from registration. Version 2's
    episodes lack their running counts of entries, which ``upcast_v2_v3`` sets.
    """

    class_version = 3

    class Event(Aggregate.Event):
        attribution: Attribution

    class Registered(Event, Aggregate.Created):
        identity: Identity
        demographics: Demographics

    def __init__(self, identity: Identity, demographics: Demographics,
                 attribution: Attribution) -> None:
        self.identity = identity
        self.demographics = demographics
        self.registered_by = attribution
        self.journey = Journey()
        self.screens: list[Entry] = []
        self.episodes: list[Episode] = []
        self.gp_record = GpRecord()
        self.break_glass_grants: dict[str, datetime] = {}  # actor id → end of access
        self.family_notification_consents: dict[str, FamilyConsent] = {}  # by member's name
        self.sharing_dissents: tuple[str, ...] = ()  # organisations not to share with
        self.release_plans: tuple[ReleasePlan, ...] = ()  # every revision, latest last
        self.diary: dict[str, DiaryEntry] = {}  # appointment id → entry
        self.reminder_contact: ReminderContact | None = None

    @staticmethod
    def upcast_v1_v2(state: dict[str, Any]) -> None:
        """Version-1 snapshots: private keys (absent until first used) → attributes."""
        def held(key: str, kind: type | tuple[type, ...], default: Any) -> Any:
            value = state.pop(key, None)
            return value if isinstance(value, kind) else default

        state["gp_record"] = held("_gp_record", GpRecord, None) or GpRecord()
        state["break_glass_grants"] = dict(held("_break_glass", dict, {}))
        state["family_notification_consents"] = {
            member: FamilyConsent(str(rel), str(channel), None)
            for member, (rel, channel) in held("_family_consents", dict, {}).items()}
        state["sharing_dissents"] = tuple(held("_dissents", (tuple, list), ()))
        state["release_plans"] = tuple(held("_release_plans", (tuple, list), ()))
        state["diary"] = dict(held("_diary", dict, {}))
        state["reminder_contact"] = None

    @staticmethod
    def upcast_v2_v3(state: dict[str, Any]) -> None:
        """Version-2 snapshots: episodes without running counts of their entries."""
        for episode in state.get("episodes", ()):
            if isinstance(episode, Episode):
                episode.recount()

    @classmethod
    def register(cls, identity: Identity, demographics: Demographics,
                 attribution: Attribution) -> CareRecord:
        codes.SEX.check(demographics.sex, field="sex")
        if demographics.date_of_birth > attribution.recorded_at.date():
            raise InvalidValue("Date of birth cannot be in the future.",
                               rule="date_of_birth.not_in_future", field="date_of_birth")
        return cls._create(cls.Registered, identity=identity, demographics=demographics,
                           attribution=attribution, timestamp=attribution.recorded_at)

    def _record(self, event_class: type[Event], attribution: Attribution, **facts: Any) -> None:
        if before_birth(attribution.occurred_at, self.demographics.date_of_birth):
            raise InvalidValue("Clinical time is before the person's date of birth.",
                               rule="occurred_at.before_birth", field="occurred_at")
        if issubclass(event_class, self.Moved):
            self.journey.check_order(attribution.occurred_at)
        self.trigger_event(event_class, attribution=attribution,
                           timestamp=attribution.recorded_at, **facts)

    # --- identity -----------------------------------------------------------------------

    class NhsNumberTraced(Event):
        nhs_number: NhsNumber

        def apply(self, aggregate: CareRecord) -> None:
            aggregate.identity = _replace_identity(aggregate.identity, nhs_number=self.nhs_number)

    def trace_nhs_number(self, nhs_number: NhsNumber, attribution: Attribution) -> None:
        """Add an NHS number traced after registration (e.g. via PDS)."""
        if self.identity.nhs_number is not None:
            raise IllegalStep("This record already has an NHS number; correct it through "
                              "the records team.", rule="nhs_number.already_recorded")
        self._record(self.NhsNumberTraced, attribution, nhs_number=nhs_number)

    # --- journey ------------------------------------------------------------------------

    class Moved(Event):
        """Base of journey events; subclasses name the step."""

        kind: str
        setting: str
        location: str | None
        detail: str | None

        def apply(self, aggregate: CareRecord) -> None:
            aggregate.journey.move(Movement(self.originator_version,
                                            self.attribution.occurred_at, self.kind,
                                            self.setting, self.location, self.detail))

    class DetainedInPoliceCustody(Moved):
        pnc_id: PncId | None

        def apply(self, aggregate: CareRecord) -> None:
            super().apply(aggregate)
            if self.pnc_id is not None:
                aggregate.identity = _replace_identity(aggregate.identity, pnc_id=self.pnc_id)

    class ReleasedFromPoliceCustody(Moved):
        pass

    class ReceivedIntoPrison(Moved):
        prison_number: PrisonNumber | None

        def apply(self, aggregate: CareRecord) -> None:
            super().apply(aggregate)
            if self.prison_number is not None:
                aggregate.identity = _replace_identity(aggregate.identity,
                                                       prison_number=self.prison_number)

    class TransferredBetweenEstablishments(Moved):
        from_establishment: str | None

    class ReleasedFromPrison(Moved):
        pass

    class RecalledToPrison(Moved):
        pass

    def detain_in_police_custody(self, custody_suite: str, pnc_id: PncId | None,
                                 attribution: Attribution) -> None:
        self.journey.check_police_detention()
        self._record(self.DetainedInPoliceCustody, attribution, kind="detained_in_police_custody",
                     setting="police_custody", location=_location(custody_suite, "custody_suite"),
                     detail=None, pnc_id=pnc_id)

    def release_from_police_custody(self, outcome: str, attribution: Attribution) -> None:
        self.journey.check_police_release()
        codes.POLICE_CUSTODY_OUTCOME.check(outcome, field="outcome")
        held = outcome == "remanded_to_court"
        self._record(self.ReleasedFromPoliceCustody, attribution,
                     kind="released_from_police_custody",
                     setting="police_custody" if held else "community",
                     location="court" if held else None, detail=outcome)

    def receive_into_prison(self, establishment: str, prison_number: PrisonNumber | None,
                            attribution: Attribution) -> None:
        self.journey.check_prison_reception()
        self._record(self.ReceivedIntoPrison, attribution, kind="received_into_prison",
                     setting="prison", location=_location(establishment, "establishment"),
                     detail=None, prison_number=prison_number)

    def transfer(self, to_establishment: str, attribution: Attribution) -> None:
        to = _location(to_establishment, "to_establishment")
        self.journey.check_transfer(to)
        self._record(self.TransferredBetweenEstablishments, attribution,
                     kind="transferred_between_establishments", setting="prison", location=to,
                     detail=None, from_establishment=self.journey.location)

    def release_from_prison(self, release_type: str, destination_area: str | None,
                            attribution: Attribution) -> None:
        self.journey.check_prison_release()
        codes.RELEASE_TYPE.check(release_type, field="release_type")
        area = _location(destination_area, "destination_area") if destination_area else None
        self._record(self.ReleasedFromPrison, attribution, kind="released_from_prison",
                     setting="community", location=area, detail=release_type)

    def recall_to_prison(self, recall_type: str, establishment: str,
                         attribution: Attribution) -> None:
        self.journey.check_recall()
        codes.RECALL_TYPE.check(recall_type, field="recall_type")
        self._record(self.RecalledToPrison, attribution, kind="recalled_to_prison",
                     setting="prison", location=_location(establishment, "establishment"),
                     detail=recall_type)

    # --- reception screen ---------------------------------------------------------------

    class ReceptionScreenRecorded(Event):
        screen: ReceptionScreen

        def apply(self, aggregate: CareRecord) -> None:
            aggregate.screens.append(Entry(self.originator_version, self.attribution.occurred_at,
                                           self.screen))

    def record_reception_screen(self, screen: ReceptionScreen, attribution: Attribution) -> None:
        if screen.next_dose_due is not None:
            plausible.check_moment(screen.next_dose_due, "next_dose_due",
                                   latest=plausible.ahead_of(attribution.recorded_at))
        if self.journey.setting != "prison":
            raise IllegalStep("A reception screen is recorded when the person is in prison; "
                              "record the prison reception first.",
                              rule="reception_screen.requires_prison")
        self._record(self.ReceptionScreenRecorded, attribution, screen=screen)

    # --- SMS episode --------------------------------------------------------------------

    class EpisodeEvent(Event):
        episode: int

    class ReferredToSms(EpisodeEvent):
        referral: Referral

        def apply(self, aggregate: CareRecord) -> None:
            aggregate.episodes.append(Episode(self.episode, self.referral,
                                              self.attribution.occurred_at))

    class ReferralOutcomeRecorded(EpisodeEvent):
        outcome: ReferralOutcome

        def apply(self, aggregate: CareRecord) -> None:
            aggregate.episode(self.episode).apply_outcome(self.outcome,
                                                          self.attribution.occurred_at)

    class EntryRecorded(EpisodeEvent):
        """Base of events that add a clinical entry to an episode."""

        def entry_value(self) -> EntryValue:
            raise NotImplementedError

        def entry_flags(self) -> tuple[str, ...]:
            return ()

        def apply(self, aggregate: CareRecord) -> None:
            aggregate.episode(self.episode).add_entry(Entry(
                self.originator_version, self.attribution.occurred_at, self.entry_value(),
                flags=self.entry_flags()))

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

        def apply(self, aggregate: CareRecord) -> None:
            aggregate.episode(self.episode).apply_caseload(self.worker_id, self.site)

    class Discharged(EpisodeEvent):
        discharge: Discharge

        def apply(self, aggregate: CareRecord) -> None:
            aggregate.episode(self.episode).apply_discharge(self.discharge,
                                                            self.attribution.occurred_at)

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
        worker, where = _location(worker_id, "worker_id"), _location(site, "site")
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
        agreed = clinical_day(attribution.occurred_at)
        if plan.next_review_date < agreed:
            raise InvalidValue("The next review date is before the plan was agreed.",
                               rule="care_plan.next_review_in_past", field="next_review_date")
        plausible.check_day(plan.next_review_date, "next_review_date",
                            latest=plausible.ahead_of_day(agreed))
        self._record(self.CarePlanRevised, attribution, episode=number, plan=plan,
                     revision=revision)
        return revision

    def discharge(self, number: int, discharge: Discharge, attribution: Attribution) -> None:
        self._open_step(number, attribution).check_discharge(attribution.occurred_at)
        self._record(self.Discharged, attribution, episode=number, discharge=discharge)

    # --- corrections --------------------------------------------------------------------

    class EntryMarkedInError(Event):
        entry_version: int
        reason: str

        def apply(self, aggregate: CareRecord) -> None:
            for i, entry in enumerate(aggregate.screens):
                if entry.version == self.entry_version:
                    aggregate.screens[i] = replace(entry, in_error=self.reason)
                    return
            for episode in aggregate.episodes:
                for i, entry in enumerate(episode.entries):
                    if entry.version == self.entry_version:
                        episode.mark_in_error(i, self.reason)
                        return

    def find_entry(self, version: int) -> Entry | None:
        for entry in self.screens:
            if entry.version == version:
                return entry
        for episode in self.episodes:
            for entry in episode.entries:
                if entry.version == version:
                    return entry
        return None

    def mark_entered_in_error(self, entry_version: int, reason: str,
                              attribution: Attribution) -> None:
        """Mark a clinical entry as entered in error; nothing is deleted."""
        if not reason.strip() or len(reason) > 1000:
            raise InvalidValue("Give a reason (1 to 1000 characters).",
                               rule="entered_in_error.reason_required", field="reason")
        entry = self.find_entry(entry_version)
        if entry is None:
            raise IllegalStep(
                f"Event {entry_version} is not a clinical entry that can be marked in error; "
                "journey moves and pathway transitions are corrected by a further step.",
                rule="entered_in_error.not_an_entry")
        if entry.in_error is not None:
            raise IllegalStep(f"Entry {entry_version} is already marked in error.",
                              rule="entered_in_error.already_marked")
        self._record(self.EntryMarkedInError, attribution, entry_version=entry_version,
                     reason=reason.strip())

    # --- GP record import (issue 8) -----------------------------------------------------

    class GpRecordImported(Event):
        """Items of the person's GP record imported from a source system (e.g. an ODS code).

        ``content_hash`` is the SHA-256 of the bundle as received, so an auditor can match
        the event to the exact document; ``nhs_number`` is the one the bundle was for.
        """

        source_system: str
        content_hash: str
        nhs_number: NhsNumber | None
        items: tuple[GpItem, ...]

        def apply(self, aggregate: CareRecord) -> None:
            aggregate.gp_record.add(self.items, self.originator_version)

    def import_gp_record(self, source_system: str, content_hash: str,
                         nhs_number: NhsNumber | None, items: tuple[GpItem, ...],
                         attribution: Attribution) -> tuple[GpItem, ...]:
        """Import GP record items not already held; return the new ones (none: no event).

        The bundle's NHS number must be this person's when the record has one: importing
        someone else's medicines or allergies is a patient-safety incident.
        """
        _text_of(source_system, "source_system", 200)
        if not re.fullmatch(r"[0-9a-f]{64}", content_hash):
            raise InvalidValue("content_hash must be a SHA-256 hex digest.",
                               rule="gp_import.content_hash", field="content_hash")
        mine = self.identity.nhs_number
        if mine is not None and nhs_number is not None and nhs_number != mine:
            raise InvalidValue("The GP record is for a different NHS number than this care "
                               "record.", rule="gp_import.nhs_number_mismatch",
                               field="nhs_number")
        fresh = self.gp_record.new_items(items)
        if fresh:
            self._record(self.GpRecordImported, attribution, source_system=source_system,
                         content_hash=content_hash, nhs_number=nhs_number, items=fresh)
        return fresh

    # --- access: break-glass, family notification consent, sharing dissent (issue 4) ----

    class BreakGlassAccessed(Event):
        """A user without a legitimate relationship opened the record, giving a reason.

        ``expires_at`` is the end of the time-limited access granted; it is a recorded
        fact so replay gives the same answer whatever the settings are later.
        """

        reason: str
        expires_at: datetime

        def apply(self, aggregate: CareRecord) -> None:
            grants = aggregate.break_glass_grants
            actor_id = self.attribution.actor.actor_id
            grants[actor_id] = max(self.expires_at, grants.get(actor_id, self.expires_at))

    class ConsentToFamilyNotificationRecorded(Event):
        """Version 2 adds ``contact_address``; version-1 consents had none (None)."""

        class_version = 2
        family_member: str
        relationship: str
        contact_channel: str
        contact_address: str | None

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["contact_address"] = None

        def apply(self, aggregate: CareRecord) -> None:
            aggregate.family_notification_consents[self.family_member] = FamilyConsent(
                self.relationship, self.contact_channel, self.contact_address)

    class ConsentToFamilyNotificationRevoked(Event):
        family_member: str

        def apply(self, aggregate: CareRecord) -> None:
            aggregate.family_notification_consents.pop(self.family_member, None)

    class SharingDissentRecorded(Event):
        organisation: str

        def apply(self, aggregate: CareRecord) -> None:
            aggregate.sharing_dissents = (*aggregate.sharing_dissents, self.organisation)

    class SharingDissentWithdrawn(Event):
        organisation: str

        def apply(self, aggregate: CareRecord) -> None:
            aggregate.sharing_dissents = tuple(
                o for o in aggregate.sharing_dissents if o != self.organisation)

    def break_glass(self, reason: str, attribution: Attribution, *, hours: int = 4) -> datetime:
        """Open the record without a relationship for ``hours``; return when access ends."""
        _access_text(reason, "reason", 1000, minimum=10)
        if not 1 <= hours <= 24:
            raise InvalidValue("Break-glass lasts 1 to 24 hours.", rule="break_glass.hours",
                               field="hours")
        expires_at = attribution.recorded_at + timedelta(hours=hours)
        self._record(self.BreakGlassAccessed, attribution, reason=reason.strip(),
                     expires_at=expires_at)
        return expires_at

    def record_family_notification_consent(self, family_member: str, relationship: str,
                                           contact_channel: str, contact_address: str | None,
                                           attribution: Attribution) -> None:
        """Record the person's consent to notify a named family member (revocable); a
        later consent for the same member replaces the channel and address."""
        member = _access_text(family_member, "family_member", 200)
        self._record(self.ConsentToFamilyNotificationRecorded, attribution,
                     family_member=member,
                     relationship=_access_text(relationship, "relationship", 100),
                     contact_channel=contact_channel,
                     contact_address=check_address(contact_channel, contact_address))

    def revoke_family_notification_consent(self, family_member: str,
                                           attribution: Attribution) -> None:
        member = family_member.strip()
        if member not in self.family_notification_consents:
            raise IllegalStep("There is no consent to notify this family member.",
                              rule="consent.not_recorded")
        self._record(self.ConsentToFamilyNotificationRevoked, attribution, family_member=member)

    def record_sharing_dissent(self, organisation: str, attribution: Attribution) -> None:
        """Record that the person does not want their record shared with an organisation."""
        name = _access_text(organisation, "organisation", 100)
        if name in self.sharing_dissents:
            raise IllegalStep("Dissent from sharing with this organisation is already "
                              "recorded.", rule="dissent.already_recorded")
        self._record(self.SharingDissentRecorded, attribution, organisation=name)

    def withdraw_sharing_dissent(self, organisation: str, attribution: Attribution) -> None:
        name = organisation.strip()
        if name not in self.sharing_dissents:
            raise IllegalStep("There is no dissent from sharing with this organisation.",
                              rule="dissent.not_recorded")
        self._record(self.SharingDissentWithdrawn, attribution, organisation=name)

    # --- ReSet: release planning and the appointment diary (issue 6) -------------------

    class ReleasePlanned(Event):
        plan: ReleasePlan

        def apply(self, aggregate: CareRecord) -> None:
            aggregate.release_plans = (*aggregate.release_plans, self.plan)

    class AppointmentBooked(Event):
        appointment: Appointment

        def apply(self, aggregate: CareRecord) -> None:
            aggregate.diary[self.appointment.appointment_id] = DiaryEntry(self.appointment)

    class AppointmentOutcome(Event):
        """Base of what became of an appointment."""

        appointment_id: str

        def status(self) -> tuple[str, str | None, str | None]:
            raise NotImplementedError

        def apply(self, aggregate: CareRecord) -> None:
            entry = aggregate.diary[self.appointment_id]
            entry.status, entry.confirmed_by, entry.reason = self.status()

    class AppointmentAttended(AppointmentOutcome):
        confirmed_by: str

        def status(self) -> tuple[str, str | None, str | None]:
            return "attended", self.confirmed_by, None

    class AppointmentCancelled(AppointmentOutcome):
        reason: str

        def status(self) -> tuple[str, str | None, str | None]:
            return "cancelled", None, self.reason

    class AppointmentMissed(AppointmentOutcome):
        """Recorded by the scheduler; names everyone to be told, as they stood then."""

        agencies: tuple[str, ...]
        family_members: tuple[str, ...]

        def status(self) -> tuple[str, str | None, str | None]:
            return "missed", None, None

    class ReminderContactRecorded(Event):
        """Where the person wants appointment reminders; None: no reminders."""

        contact: ReminderContact | None

        def apply(self, aggregate: CareRecord) -> None:
            aggregate.reminder_contact = self.contact

    def record_reminder_contact(self, channel: str | None, address: str | None,
                                attribution: Attribution) -> None:
        """Ask for reminders by text message or email (no channel: stop reminders)."""
        contact = None
        if channel is not None:
            if channel not in DELIVERED_BY:
                raise InvalidValue("Reminders go by text message or email.",
                                   rule="reminder_contact.channel", field="channel")
            checked = check_address(channel, address, field="address")
            assert checked is not None  # noqa: S101 - required for these channels
            contact = ReminderContact(channel, checked)
        self._record(self.ReminderContactRecorded, attribution, contact=contact)

    def plan_release(self, plan: ReleasePlan, attribution: Attribution) -> None:
        """Plan release while in custody (a new plan revises, never overwrites)."""
        if self.journey.setting != "prison":
            raise IllegalStep("Release is planned while the person is in prison.",
                              rule="release_plan.requires_prison")
        planned = clinical_day(attribution.occurred_at)
        if plan.expected_release_date < planned:
            raise InvalidValue("The expected release date has passed.",
                               rule="release_plan.date_in_past", field="expected_release_date")
        plausible.check_day(plan.expected_release_date, "expected_release_date",
                            latest=plausible.ahead_of_day(planned))
        self._record(self.ReleasePlanned, attribution, plan=plan)

    def book_appointment(self, appointment: Appointment, attribution: Attribution) -> None:
        if appointment.appointment_id in self.diary:
            raise IllegalStep("This appointment is already in the diary.",
                              rule="appointment.already_booked")
        plausible.check_moment(appointment.starts_at, "starts_at",
                               latest=plausible.ahead_of(attribution.recorded_at))
        self._record(self.AppointmentBooked, attribution, appointment=appointment)

    def _open_appointment(self, appointment_id: str) -> DiaryEntry:
        entry = self.diary.get(appointment_id)
        if entry is None:
            raise IllegalStep(f"There is no appointment {appointment_id} in the diary.",
                              rule="appointment.not_found")
        if entry.status != "booked":
            raise IllegalStep(f"Appointment {appointment_id} is already {entry.status}.",
                              rule=f"appointment.already_{entry.status}")
        return entry

    def record_attendance(self, appointment_id: str, confirmed_by: str,
                          attribution: Attribution) -> None:
        entry = self._open_appointment(appointment_id)
        ATTENDANCE_CONFIRMED_BY.check(confirmed_by, field="confirmed_by")
        if attribution.occurred_at < entry.appointment.starts_at - MISSED_GRACE:
            raise IllegalStep("Attendance cannot be recorded before the appointment.",
                              rule="appointment.attended_too_early")
        self._record(self.AppointmentAttended, attribution, appointment_id=appointment_id,
                     confirmed_by=confirmed_by)

    def cancel_appointment(self, appointment_id: str, reason: str,
                           attribution: Attribution) -> None:
        self._open_appointment(appointment_id)
        _text_of(reason, "reason", 500)
        self._record(self.AppointmentCancelled, attribution, appointment_id=appointment_id,
                     reason=reason.strip())

    def record_missed_appointment(self, appointment_id: str, attribution: Attribution,
                                  grace: timedelta = MISSED_GRACE) -> None:
        """Missed: past its end plus the grace period with no attendance recorded."""
        entry = self._open_appointment(appointment_id)
        if attribution.recorded_at < entry.appointment.ends_at + grace:
            raise IllegalStep("The appointment is not yet past its end and grace period.",
                              rule="appointment.not_yet_missed")
        agencies = sorted({e.appointment.agency for e in self.diary.values()})
        self._record(self.AppointmentMissed, attribution, appointment_id=appointment_id,
                     agencies=tuple(agencies),
                     family_members=tuple(sorted(self.family_notification_consents)))


def _replace_identity(identity: Identity, **changes: Any) -> Identity:
    return replace(identity, **changes)


def _access_text(value: str, field: str, limit: int, minimum: int = 1) -> str:
    text = value.strip()
    if not minimum <= len(text) <= limit or not text.isprintable():
        raise InvalidValue(f"{field} must have {minimum} to {limit} printable characters.",
                           rule=f"{field}.length", field=field)
    return text


def _text_of(value: str, field: str, limit: int) -> None:
    if not value.strip() or len(value) > limit or not value.isprintable():
        raise InvalidValue(f"{field} must have 1 to {limit} printable characters.",
                           rule=f"gp_import.{field}", field=field)
