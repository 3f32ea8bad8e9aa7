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
from sonar.commands import access, reset
from sonar.commands.context import CommandContext
from sonar.config import Settings
from sonar.domain.attribution import Actor
from sonar.domain.care_record import CareRecord
from sonar.domain.identity import Demographics, Identity, NhsNumber
from sonar.domain.pathway import BriefIntervention, Referral, ReferralOutcome
from sonar.domain.reset import MedicineSupply, ReleasePlan
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

    pid = app.register_patient(ctx(0), Identity(NhsNumber("9990000018")),
                               Demographics("Robin", "Garside", date(1988, 2, 3), "female")
                               ).patient_id
    app.receive_into_prison(ctx(1), pid, "HMP Leeds", None)
    app.refer_to_sms(ctx(2), pid, Referral("reception_screen", ("heroin",), "currently", True))
    app.record_referral_outcome(ctx(3), pid, 1, ReferralOutcome("accepted"))
    for i in range(60):  # past the snapshot interval (50)
        app.record_brief_intervention(ctx(10 + i), pid, 1,
                                      BriefIntervention("alcohol_brief_advice", "completed"))
    access.record_family_notification_consent(app, ctx(100), pid, "Pat Garside", "sister",
                                              "email")
    access.record_family_notification_consent(app, ctx(101), pid, "Lee Garside", "brother",
                                              "text_message")
    access.revoke_family_notification_consent(app, ctx(102), pid, "Lee Garside")
    access.record_sharing_dissent(app, ctx(103), pid, "Leeds Housing Trust")
    access.break_glass(app, ctx(104), pid, "Urgent clinical need at night", 4)
    reset.plan_release(app, ctx(105), pid, ReleasePlan(
        date(2026, 6, 20), "Leeds", True, "Burley Park Medical Centre", True,
        "Forward Leeds", True, (MedicineSupply("Methadone 30mg", 7),), True, True))
    _, appointment = reset.book_appointment(
        app, ctx(106), pid, kind="probation", agency="Leeds Probation",
        agency_contact="probation@example.org",
        starts_at=datetime(2026, 6, 22, 10, tzinfo=UTC),
        ends_at=datetime(2026, 6, 22, 11, tzinfo=UTC), place="Leeds Probation Office")
    reset.book_appointment(app, ctx(107), pid, kind="gp", agency="Burley Park",
                           agency_contact=None, starts_at=datetime(2026, 6, 23, 10, tzinfo=UTC),
                           ends_at=datetime(2026, 6, 23, 10, 30, tzinfo=UTC),
                           place="Burley Park Medical Centre")
    reset.cancel_appointment(app, ctx(108), pid, appointment, "Rearranged by probation")
    ids = [n.originator_id for n in app.recorder.select_notifications(start=1, limit=10_000)
           if ":CareRecord." in n.topic]
    views = {str(r.id): {**record_view(r, NOW.date()), "other": other_state(r)}
             for r in map(app.get_record, dict.fromkeys(ids))}
    (HERE / "expected.json").write_text(json.dumps(views, indent=1, sort_keys=True,
                                                   default=str))


if __name__ == "__main__":
    main()
