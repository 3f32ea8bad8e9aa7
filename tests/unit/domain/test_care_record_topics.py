"""The care record is composed of one class per area, and its events keep their stored topics.

A stored event's topic is part of its hash-chain link, so the topic every event has ever
been written with must keep resolving, and new events must be written with the same one.
"""

from __future__ import annotations

import sqlite3
from datetime import date, timedelta
from pathlib import Path

import pytest
from eventsourcing.utils import get_topic, resolve_topic

from sonar.domain import (
    BriefIntervention,
    CarePlan,
    CareRecord,
    Discharge,
    DualDiagnosis,
    ReceptionScreen,
    Referral,
    ReferralOutcome,
    Review,
    RiskAssessment,
    Top,
    TopAnswers,
)
from sonar.domain.care_record._base import RecordArea, RecordEvent
from sonar.domain.care_record.access import AccessAndConsent
from sonar.domain.care_record.corrections import Corrections
from sonar.domain.care_record.gp import GpImport
from sonar.domain.care_record.identity import IdentitySteps
from sonar.domain.care_record.journey import JourneySteps, Moved
from sonar.domain.care_record.pathway import EntryRecorded, EpisodeEvent, SmsPathway
from sonar.domain.care_record.reset import AppointmentOutcome, ReleaseSupport
from sonar.domain.gp_record import GpItem
from sonar.domain.identity import NhsNumber
from sonar.domain.reset import Appointment, MedicineSupply, ReleasePlan
from tests.strategies import BASE_TIME
from tests.unit.domain.builders import at, new_record, when

LEGACY_LOG = Path(__file__).parents[2] / "data" / "log_v1" / "sonar.db"
MODULE = "sonar.domain.care_record"
AREAS: tuple[type[RecordArea], ...] = (IdentitySteps, JourneySteps, SmsPathway, Corrections,
                                       AccessAndConsent, ReleaseSupport, GpImport)


def _composed_events() -> dict[str, type[RecordEvent]]:
    return {name: value for name, value in vars(CareRecord).items()
            if isinstance(value, type) and issubclass(value, RecordEvent) and name != "Event"}


def _every_verb() -> CareRecord:
    """A record through every area's verbs, so it has recorded each kind of event once."""
    record = new_record()
    record.trace_nhs_number(NhsNumber("9990000018"), at(0))
    record.detain_in_police_custody("Leeds Custody Suite", None, at(0.1))
    record.release_from_police_custody("remanded_to_court", at(0.2))
    record.receive_into_prison("HMP Leeds", None, at(0.3))
    record.transfer("HMP Hull", at(0.4))
    record.record_reception_screen(ReceptionScreen(False, False, True, True, False, False,
                                                   False), at(0.4))
    record.refer_to_sms(Referral("reception_screen", ("heroin",), "never", False), at(0.5))
    record.record_referral_outcome(1, ReferralOutcome("accepted"), at(0.6))
    record.assess_dual_diagnosis(1, DualDiagnosis("no"), at(0.7))
    record.assess_risk(1, RiskAssessment("high", ("overdose",)), at(0.8))
    record.mark_entered_in_error(record.version, "Recorded for the wrong person", at(0.9))
    record.assign_caseload(1, "sms-1", "HMP Hull", at(0.9))
    record.record_brief_intervention(1, BriefIntervention("alcohol_brief_advice", "completed"),
                                     at(0.9))
    record.record_top(1, Top("start", TopAnswers({"opiates_days": 20})), at(0.9))
    record.record_review(1, Review("day_5", "completed"), at(0.95))
    record.revise_care_plan(1, CarePlan(("Stabilise",), ("304681000000107",), "sms-1",
                                        date(2026, 3, 30)), at(0.95))
    record.break_glass("Unconscious on arrival, no history", at(1))
    record.record_family_notification_consent("Pat Holt", "sister", "email", "p@example.org",
                                              at(1.1))
    record.revoke_family_notification_consent("Pat Holt", at(1.2))
    record.record_sharing_dissent("Leeds Housing Trust", at(1.3))
    record.withdraw_sharing_dissent("Leeds Housing Trust", at(1.4))
    record.record_reminder_contact("email", "sam@example.org", at(1.5))
    record.plan_release(ReleasePlan(date(2026, 3, 20), "Leeds", True, "Burley Park", True,
                                    "Forward Leeds", True, (MedicineSupply("Methadone", 7),),
                                    True, True), at(1.6))
    record.import_gp_record("Y12345", "a" * 64, None, (GpItem(
        "Y12345|AllergyIntolerance/1|1", "allergy", "http://snomed.info/sct", "91936005",
        "Penicillin allergy", "2019", "active"),), at(1.7))
    record.discharge(1, Discharge("transferred_not_in_custody"), at(1.9))
    record.release_from_prison("licence", "Leeds", at(2))
    starts = BASE_TIME + timedelta(days=3)
    for i in range(3):
        record.book_appointment(Appointment(
            f"a{i}", "probation", "Leeds Probation", None, starts, starts + timedelta(hours=1),
            "Leeds Probation Office"), at(2.1))
    later = when(BASE_TIME + timedelta(days=4))
    record.record_attendance("a0", "agency", later)
    record.cancel_appointment("a1", "Rearranged by probation", later)
    record.record_missed_appointment("a2", later)
    record.recall_to_prison("fixed_term_28", "HMP Leeds", later)
    return record


def test_each_area_event_is_composed_on_the_record_under_the_record_s_name() -> None:
    composed = _composed_events()
    for area in AREAS:
        for name, value in vars(area).items():
            if isinstance(value, type) and issubclass(value, RecordEvent):
                event_class = composed[name]
                assert event_class is not value
                assert issubclass(event_class, value)
                assert issubclass(event_class, CareRecord.Event)
                assert event_class.__qualname__ == f"CareRecord.{name}"
                assert get_topic(event_class) == f"{MODULE}:CareRecord.{name}"


def test_events_an_area_shares_a_base_for_keep_it_on_the_record() -> None:
    assert issubclass(CareRecord.ReceivedIntoPrison, Moved)
    assert issubclass(CareRecord.Discharged, EpisodeEvent)
    assert issubclass(CareRecord.TopRecorded, EntryRecorded)
    assert issubclass(CareRecord.AppointmentMissed, AppointmentOutcome)


def test_new_events_are_the_record_s_own_classes_with_the_record_s_topics() -> None:
    record = _every_verb()
    events = record.collect_events()
    topics = {get_topic(type(e)) for e in events}
    assert all(type(e) is getattr(CareRecord, type(e).__name__) for e in events)
    area_events = [name for area in AREAS for name, value in vars(area).items()
                   if isinstance(value, type) and issubclass(value, RecordEvent)]
    assert topics == {f"{MODULE}:CareRecord.{name}" for name in ["Registered", *area_events]}


def test_every_topic_in_the_legacy_log_resolves_to_the_record_s_event_class() -> None:
    with sqlite3.connect(LEGACY_LOG) as db:
        stored = {topic for (topic,) in db.execute("SELECT DISTINCT topic FROM stored_events")
                  if topic.startswith(f"{MODULE}:")}
    assert len(stored) > 20
    for topic in stored:
        event_class = resolve_topic(topic)
        assert event_class is getattr(CareRecord, topic.rsplit(".", 1)[1])
        assert get_topic(event_class) == topic


@pytest.mark.parametrize("area", AREAS, ids=lambda a: a.__name__)
def test_an_area_is_not_an_aggregate_of_its_own(area: type[RecordArea]) -> None:
    assert area in CareRecord.__mro__
    assert not hasattr(area, "_create")
