"""The care-record domain: pure Python, no I/O, no clock (time is passed in)."""

from sonar.domain.attribution import Actor, Attribution
from sonar.domain.care_record import CareRecord
from sonar.domain.errors import DomainError, IllegalStep, InvalidValue, InvalidValues
from sonar.domain.identity import Demographics, Identity, NhsNumber, PncId, PrisonNumber
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
from sonar.domain.sms_episode import Entry, Episode, EpisodeStatus
from sonar.domain.top import Top, TopAnswers

__all__ = [
    "Actor",
    "Attribution",
    "BriefIntervention",
    "CarePlan",
    "CareRecord",
    "Demographics",
    "Discharge",
    "DomainError",
    "DualDiagnosis",
    "Entry",
    "Episode",
    "EpisodeStatus",
    "Identity",
    "IllegalStep",
    "InvalidValue",
    "InvalidValues",
    "NhsNumber",
    "PncId",
    "PrisonNumber",
    "ReceptionScreen",
    "Referral",
    "ReferralOutcome",
    "Review",
    "RiskAssessment",
    "Top",
    "TopAnswers",
]

# Every value type stored inside events and snapshots, for the transcoder's registry.
from sonar.domain.contacts import FamilyConsent, ReminderContact
from sonar.domain.gp_record import GpItem, GpRecord
from sonar.domain.journey import Journey, Movement
from sonar.domain.reset import Appointment, DiaryEntry, MedicineSupply, ReleasePlan
from sonar.domain.top import ItemKind

VALUE_TYPES: tuple[type, ...] = (
    Actor, Attribution, Identity, NhsNumber, PrisonNumber, PncId, Demographics,
    ReceptionScreen, Referral, ReferralOutcome, DualDiagnosis, RiskAssessment,
    BriefIntervention, Review, CarePlan, Discharge, Top, TopAnswers, ItemKind,
    Entry, Episode, EpisodeStatus, Journey, Movement,
    GpItem, GpRecord, ReleasePlan, MedicineSupply, Appointment, DiaryEntry,
    FamilyConsent, ReminderContact,
)
