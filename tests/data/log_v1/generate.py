"""How tests/data/log_v1/sonar.db was written (commit d5c448d, before event versioning).

Kept for the record: rerunning it with today's code would write today's event versions,
which is not what the fixture is for. It seeds a small demo cohort, then one person with
consent, dissent, break-glass, a release plan and a diary, and enough events for a snapshot.
``expected.json`` is each record's view as the code of that day read it.

    python -m tests.data.log_v1.generate
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from sonar.bootstrap import build_application
from sonar.cli.demo import seed_cohort
from sonar.commands.access import (
    BreakGlass,
    RecordFamilyNotificationConsent,
    RecordSharingDissent,
    RevokeFamilyNotificationConsent,
)
from sonar.commands.context import CommandContext
from sonar.commands.journey import ReceiveIntoPrison
from sonar.commands.pathway import RecordBriefIntervention, RecordReferralOutcome, ReferToSms
from sonar.commands.pipeline import CommandBus
from sonar.commands.record import RegisterPatient
from sonar.commands.reset import BookAppointment, CancelAppointment, MedicineOnRelease, PlanRelease
from sonar.config import Settings
from sonar.domain.attribution import Actor
from sonar.domain.care_record import CareRecord
from sonar.readmodels.record_view import plain, record_view

HERE = Path(__file__).parent
NOW = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)
WORKER = Actor("sms-legacy-1", "sms_worker", "HMP Leeds Healthcare", "HMP Leeds")


def other_state(record: CareRecord) -> object:
    """What record_view (then) left out: access and ReSet state."""
    return plain({"consents": record.family_notification_consents,
                  "dissents": record.sharing_dissents,
                  "break_glass": record.break_glass_grants,
                  "release_plans": record.release_plans, "diary": record.diary})


def main() -> None:
    (HERE / "sonar.db").unlink(missing_ok=True)
    app = build_application(Settings(data_dir=HERE))
    seed_cohort(app, 6, seed=11)

    def ctx(minutes: int) -> CommandContext:
        return CommandContext(actor=WORKER, correlation_id=f"legacy-{minutes}",
                              occurred_at=NOW - timedelta(days=20) + timedelta(minutes=minutes))

    pid = CommandBus(app).handle(ctx(0), RegisterPatient(
        nhs_number="9990000018", given_name="Robin", family_name="Garside",
        date_of_birth=date(1988, 2, 3), sex="female")).patient_id
    CommandBus(app).handle(ctx(1), ReceiveIntoPrison(patient_id=pid, establishment="HMP Leeds"))
    CommandBus(app).handle(ctx(2), ReferToSms(
        patient_id=pid, source="reception_screen", substances=["heroin"],
        injecting_status="currently", previously_treated=True))
    CommandBus(app).handle(ctx(3), RecordReferralOutcome(
        patient_id=pid, episode=1, outcome="accepted"))
    for i in range(60):  # past the snapshot interval (50)
        CommandBus(app).handle(ctx(10 + i), RecordBriefIntervention(
            patient_id=pid, episode=1, intervention="alcohol_brief_advice", outcome="completed"))
    CommandBus(app).handle(ctx(100), RecordFamilyNotificationConsent(
        patient_id=pid, family_member="Pat Garside", relationship="sister",
        contact_channel="email"))
    CommandBus(app).handle(ctx(101), RecordFamilyNotificationConsent(
        patient_id=pid, family_member="Lee Garside", relationship="brother",
        contact_channel="text_message"))
    CommandBus(app).handle(ctx(102), RevokeFamilyNotificationConsent(
        patient_id=pid, family_member="Lee Garside"))
    CommandBus(app).handle(ctx(103), RecordSharingDissent(
        patient_id=pid, organisation="Leeds Housing Trust"))
    CommandBus(app).handle(ctx(104), BreakGlass(
        patient_id=pid, reason="Urgent clinical need at night", hours=4))
    CommandBus(app).handle(ctx(105), PlanRelease(
        patient_id=pid, expected_release_date=date(2026, 6, 20), release_area="Leeds",
        gp_registered=True, gp_practice="Burley Park Medical Centre",
        community_treatment_referral=True, community_service="Forward Leeds",
        reconnect_referral=True, medicines=[MedicineOnRelease(name="Methadone 30mg", days=7)],
        ost_bridging=True, naloxone_supplied=True))
    appointment = CommandBus(app).handle(ctx(106), BookAppointment(
        patient_id=pid, kind="probation", agency="Leeds Probation",
        agency_contact="probation@example.org", starts_at=datetime(2026, 6, 22, 10, tzinfo=UTC),
        ends_at=datetime(2026, 6, 22, 11, tzinfo=UTC),
        place="Leeds Probation Office")).details["appointment_id"]
    CommandBus(app).handle(ctx(107), BookAppointment(
        patient_id=pid, kind="gp", agency="Burley Park", agency_contact=None,
        starts_at=datetime(2026, 6, 23, 10, tzinfo=UTC),
        ends_at=datetime(2026, 6, 23, 10, 30, tzinfo=UTC), place="Burley Park Medical Centre"))
    CommandBus(app).handle(ctx(108), CancelAppointment(
        patient_id=pid, appointment_id=appointment, reason="Rearranged by probation"))
    ids = [n.originator_id for n in app.recorder.select_notifications(start=1, limit=10_000)
           if ":CareRecord." in n.topic]
    views = {str(r.id): {**record_view(r, NOW.date()), "other": other_state(r)}
             for r in map(app.get_record, dict.fromkeys(ids))}
    (HERE / "expected.json").write_text(json.dumps(views, indent=1, sort_keys=True,
                                                   default=str))


if __name__ == "__main__":
    main()
