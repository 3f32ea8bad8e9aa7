"""A realistic synthetic cohort, written through the command pipeline (never as rows).

Everyone here is invented: NHS numbers use the 999 range set aside for testing, names are
drawn from short lists, and clinical facts are random within their clinical ranges.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from uuid import UUID

from sonar.commands.base import Command
from sonar.commands.context import CommandContext, CommandResult
from sonar.commands.journey import (
    DetainInPoliceCustody,
    RecallToPrison,
    ReceiveIntoPrison,
    ReleaseFromPoliceCustody,
    ReleaseFromPrison,
)
from sonar.commands.pathway import (
    AssessDualDiagnosis,
    AssessRisk,
    AssignCaseload,
    DischargeEpisode,
    RecordBriefIntervention,
    RecordReceptionScreen,
    RecordReferralOutcome,
    RecordReview,
    RecordTop,
    ReferToSms,
    ReviseCarePlan,
)
from sonar.commands.pipeline import CommandBus
from sonar.commands.record import RegisterPatient
from sonar.domain import codes
from sonar.domain.attribution import Actor
from sonar.domain.identity import NhsNumber, nhs_check_digit
from sonar.eventstore.application import SonarApplication

PRISONS = ("HMP Leeds", "HMP Hull", "HMP Wakefield", "HMP Doncaster", "HMP Lindholme",
           "HMP Moorland", "HMP Hatfield", "HMP Full Sutton", "HMP Humber", "HMP Askham Grange",
           "HMP New Hall", "HMP Wealstun", "HMP Leeds Annex")
GIVEN = ("Alex", "Sam", "Jordan", "Casey", "Riley", "Jamie", "Robin", "Charlie", "Morgan",
         "Taylor", "Jess", "Lee", "Danny", "Kerry", "Nat")
FAMILY = ("Ashdown", "Brennan", "Cole", "Dunmore", "Ellery", "Fenwick", "Garside", "Holt",
          "Ingram", "Jessop", "Kilner", "Lowther", "Marsden", "Nuttall", "Oakes")
SUBSTANCE_MIX = (("heroin", "crack"), ("alcohol",), ("heroin", "crack", "benzodiazepines"),
                 ("cocaine", "alcohol"), ("synthetic_cannabinoids",), ("cannabis", "alcohol"),
                 ("heroin",), ("pregabalin_gabapentin", "heroin"))


def synthetic_nhs_number(rng: random.Random) -> NhsNumber:
    """A valid NHS number in the 999 test range."""
    while True:
        first_nine = "999" + "".join(rng.choice("0123456789") for _ in range(6))
        check = nhs_check_digit(first_nine)
        if check is not None:
            return NhsNumber(first_nine + str(check))


def _top(rng: random.Random, pid: UUID, stage: str, improvement: float) -> RecordTop:
    opiate_days = max(0, min(28, round(rng.randint(10, 28) * (1 - improvement))))
    answers: dict[str, int | float | bool | None] = {
        "opiates_days": opiate_days,
        "opiates_amount": round(rng.uniform(0.2, 1.5), 1) if opiate_days else 0,
        "crack_days": max(0, round(rng.randint(0, 20) * (1 - improvement))),
        "alcohol_days": rng.randint(0, 28),
        "tobacco_days": 28,
        "tobacco_amount": rng.randint(5, 30),
        "injecting_days": rng.choice((0, 0, 4, 12)),
        "shared_needles": rng.random() < 0.1,
        "shoplifting_days": rng.randint(0, 10),
        "psychological_health": min(20, rng.randint(3, 10) + round(improvement * 8)),
        "physical_health": min(20, rng.randint(4, 12) + round(improvement * 6)),
        "quality_of_life": min(20, rng.randint(2, 10) + round(improvement * 8)),
        "acute_housing_problem": rng.random() < 0.3,
    }
    if rng.random() < 0.2:
        answers["education_days"] = None  # not answered, distinct from 0
    return RecordTop(patient_id=pid, episode=1, stage=stage, answers=answers,
                     before_custody=stage == "start")


@dataclass(frozen=True)
class _Seeder:
    """Runs one person's steps through the command pipeline, each at its clinical time."""

    bus: CommandBus
    rng: random.Random
    now: datetime

    def run(self, actor: Actor, at: datetime, command: Command) -> CommandResult:
        ctx = CommandContext(actor=actor, correlation_id=f"demo-{self.rng.getrandbits(40):x}")
        return self.bus.handle(ctx, command.model_copy(update={"occurred_at": min(at, self.now)}))


def seed_patient(app: SonarApplication, rng: random.Random, now: datetime) -> None:
    """One person's journey: custody → prison → SMS pathway → maybe release or recall."""
    seeder = _Seeder(CommandBus(app), rng, now)
    run = seeder.run
    prison = rng.choice(PRISONS)
    worker = Actor(f"sms-{PRISONS.index(prison):02d}-{rng.randint(1, 4)}", "sms_worker",
                   f"{prison} Healthcare", prison)
    custody = Actor("custody-nurse-1", "custody_nurse", "West Yorkshire Police", "Leeds Custody")
    start = now - timedelta(days=rng.randint(2, 150), hours=rng.randint(0, 12))
    given, family = rng.choice(GIVEN), rng.choice(FAMILY)
    dob = date(rng.randint(1965, 2004), rng.randint(1, 12), rng.randint(1, 28))
    nhs = synthetic_nhs_number(rng) if rng.random() < 0.85 else None
    pid = run(custody, start - timedelta(days=1), RegisterPatient(
        nhs_number=nhs.value if nhs else None, given_name=given, family_name=family,
        date_of_birth=dob, sex=rng.choice(("male", "female")))).patient_id
    if rng.random() < 0.6:
        run(custody, start - timedelta(hours=20), DetainInPoliceCustody(
            patient_id=pid, custody_suite="Leeds District Custody Suite"))
        run(custody, start - timedelta(hours=2), ReleaseFromPoliceCustody(
            patient_id=pid, outcome="remanded_to_court"))
    number = (f"{rng.choice('ABGH')}{rng.randint(1000, 9999)}"
              f"{rng.choice('ABCDEFGH')}{rng.choice('ABCDEFGH')}")
    run(worker, start, ReceiveIntoPrison(patient_id=pid, establishment=prison,
                                         prison_number=number))
    mixture = rng.choice(SUBSTANCE_MIX)
    run(worker, start + timedelta(minutes=40), RecordReceptionScreen(
        patient_id=pid, physical_health_concern=rng.random() < 0.3,
        alcohol_use="alcohol" in mixture, substance_use=True,
        withdrawal_symptoms=rng.random() < 0.5, mental_health_concern=rng.random() < 0.4,
        self_harm_risk=rng.random() < 0.15, acct_opened=False,
        medicines=["Methadone 30mg"] if "heroin" in mixture else [], refer_to_sms=True))
    referred = start + timedelta(hours=2)
    run(worker, referred, ReferToSms(
        patient_id=pid, source="reception_screen", substances=list(mixture),
        injecting_status=rng.choice(("currently", "previously", "never")),
        previously_treated=rng.random() < 0.5))
    if rng.random() < 0.1:
        run(worker, referred + timedelta(hours=3), RecordReferralOutcome(
            patient_id=pid, episode=1, outcome="declined_by_patient"))
        return
    steps: list[tuple[timedelta, Command]] = [
        (timedelta(hours=3), RecordReferralOutcome(patient_id=pid, episode=1,
                                                   outcome="accepted")),
        (timedelta(hours=4), AssessDualDiagnosis(
            patient_id=pid, episode=1, status=rng.choice(("yes", "no", "no", "declined")),
            mental_health_service="Mental health in-reach")),
        (timedelta(hours=5), AssessRisk(
            patient_id=pid, episode=1, level=rng.choice(("low", "medium", "medium", "high")),
            risks=rng.sample(("opiate_withdrawal", "overdose", "blood_borne_virus",
                              "violence"), k=rng.randint(1, 3)))),
        (timedelta(hours=6), AssignCaseload(patient_id=pid, episode=1,
                                            worker_id=worker.actor_id, site=prison)),
    ]
    if "alcohol" in mixture:
        steps.append((timedelta(hours=7), RecordBriefIntervention(
            patient_id=pid, episode=1, intervention="alcohol_brief_advice",
            outcome="completed")))
    steps += [
        (timedelta(days=1), _top(rng, pid, "start", 0.0)),
        (timedelta(days=1, hours=1), ReviseCarePlan(
            patient_id=pid, episode=1,
            goals=["Stabilise on opioid substitution", "Reduce illicit use"],
            interventions=["304681000000107", "299941000000103"], named_worker=worker.actor_id,
            next_review_date=(referred + timedelta(days=28)).date())),
    ]
    for after, command in steps:
        run(worker, referred + after, command)
    elapsed = (now - referred).days
    for kind, days in (("day_5", 5), ("day_28", 28), ("week_13", 91)):
        if elapsed > days + 2 and rng.random() < 0.85:
            outcome = "completed" if rng.random() < 0.9 else "did_not_attend"
            run(worker, referred + timedelta(days=days + rng.randint(0, 2)), RecordReview(
                patient_id=pid, episode=1, kind=kind, outcome=outcome))
        else:
            break
    if elapsed > 40 and rng.random() < 0.7:
        run(worker, referred + timedelta(days=min(elapsed - 1, 90)),
            _top(rng, pid, "review", rng.uniform(0.0, 0.9)))
    if elapsed > 60 and rng.random() < 0.5:
        release_at = referred + timedelta(days=rng.randint(45, elapsed))
        _release(app, seeder, pid, release_at, mixture, worker)


def _release(app: SonarApplication, seeder: _Seeder, pid: UUID, release_at: datetime,
             mixture: tuple[str, ...], worker: Actor) -> None:
    """Discharge and release; then maybe community treatment, maybe a recall."""
    rng, now, run = seeder.rng, seeder.now, seeder.run
    reason = rng.choice(("transferred_not_in_custody", "completed", "dropped_out"))
    run(worker, release_at - timedelta(hours=1), DischargeEpisode(patient_id=pid, episode=1,
                                                           exit_reason=reason))
    run(worker, release_at, ReleaseFromPrison(
        patient_id=pid, release_type=rng.choice(("licence", "end_of_sentence")),
        destination_area="Leeds"))
    community = Actor("drug-service-leeds", "community_clinician",
                      "Leeds Community Drug Service", "Leeds")
    first_appointment = release_at + timedelta(days=rng.randint(2, 35))
    if reason == "transferred_not_in_custody" and first_appointment < now and (
            rng.random() < 0.6):
        run(community, first_appointment, ReferToSms(
            patient_id=pid, source="community_service", substances=list(mixture),
            injecting_status="previously", previously_treated=True))
        run(community, first_appointment + timedelta(hours=1), RecordReferralOutcome(
            patient_id=pid, episode=2, outcome="accepted"))
    record = app.get_record(pid)
    if (record.journey.last_release_type == "licence" and record.active_episode is None
            and rng.random() < 0.25):
        recall_at = release_at + timedelta(days=rng.randint(5, 20))
        if recall_at < now:
            run(worker, recall_at, RecallToPrison(
                patient_id=pid, recall_type=rng.choice(tuple(codes.RECALL_TYPE)),
                establishment=worker.site))


def seed_cohort(app: SonarApplication, patients: int, *, seed: int = 7,
                on_patient: Callable[[], None] | None = None) -> None:
    rng = random.Random(seed)
    now = datetime.now(UTC)
    for _ in range(patients):
        seed_patient(app, rng, now)
        if on_patient:
            on_patient()
