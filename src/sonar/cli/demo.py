"""A realistic synthetic cohort, written through the application layer (never as rows).

Everyone here is invented: NHS numbers use the 999 range set aside for testing, names are
drawn from short lists, and clinical facts are random within their clinical ranges.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from uuid import UUID

from sonar.commands.context import CommandContext
from sonar.domain import codes
from sonar.domain.attribution import Actor
from sonar.domain.identity import Demographics, Identity, NhsNumber, PrisonNumber, nhs_check_digit
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
from sonar.domain.top import Top, TopAnswers
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


def _top(rng: random.Random, stage: str, improvement: float) -> Top:
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
    return Top(stage, TopAnswers(answers), before_custody=stage == "start")


def seed_patient(app: SonarApplication, rng: random.Random, now: datetime) -> None:
    """One person's journey: custody → prison → SMS pathway → maybe release or recall."""
    prison = rng.choice(PRISONS)
    worker = Actor(f"sms-{PRISONS.index(prison):02d}-{rng.randint(1, 4)}", "sms_worker",
                   f"{prison} Healthcare", prison)
    custody = Actor("custody-nurse-1", "custody_nurse", "West Yorkshire Police", "Leeds Custody")
    start = now - timedelta(days=rng.randint(2, 150), hours=rng.randint(0, 12))

    def ctx(actor: Actor, at: datetime) -> CommandContext:
        return CommandContext(actor=actor, correlation_id=f"demo-{rng.getrandbits(40):x}",
                              occurred_at=min(at, now))

    given, family = rng.choice(GIVEN), rng.choice(FAMILY)
    dob = date(rng.randint(1965, 2004), rng.randint(1, 12), rng.randint(1, 28))
    identity = Identity(synthetic_nhs_number(rng) if rng.random() < 0.85 else None)
    pid = app.register_patient(ctx(custody, start - timedelta(days=1)), identity,
                               Demographics(given, family, dob, rng.choice(("male", "female")))
                               ).patient_id
    if rng.random() < 0.6:
        app.detain_in_police_custody(ctx(custody, start - timedelta(hours=20)), pid,
                                     "Leeds District Custody Suite", None)
        app.release_from_police_custody(ctx(custody, start - timedelta(hours=2)), pid,
                                        "remanded_to_court")
    number = PrisonNumber(f"{rng.choice('ABGH')}{rng.randint(1000, 9999)}"
                          f"{rng.choice('ABCDEFGH')}{rng.choice('ABCDEFGH')}")
    app.receive_into_prison(ctx(worker, start), pid, prison, number)
    mixture = rng.choice(SUBSTANCE_MIX)
    app.record_reception_screen(ctx(worker, start + timedelta(minutes=40)), pid, ReceptionScreen(
        physical_health_concern=rng.random() < 0.3, alcohol_use="alcohol" in mixture,
        substance_use=True, withdrawal_symptoms=rng.random() < 0.5,
        mental_health_concern=rng.random() < 0.4, self_harm_risk=rng.random() < 0.15,
        acct_opened=False, medicines=("Methadone 30mg",) if "heroin" in mixture else (),
        refer_to_sms=True))
    referred = start + timedelta(hours=2)
    app.refer_to_sms(ctx(worker, referred), pid, Referral(
        "reception_screen", mixture, rng.choice(("currently", "previously", "never")),
        rng.random() < 0.5))
    step: Callable[[timedelta], CommandContext] = lambda d: ctx(worker, referred + d)  # noqa: E731
    if rng.random() < 0.1:
        app.record_referral_outcome(step(timedelta(hours=3)), pid, 1,
                                    ReferralOutcome("declined_by_patient"))
        return
    app.record_referral_outcome(step(timedelta(hours=3)), pid, 1, ReferralOutcome("accepted"))
    app.assess_dual_diagnosis(step(timedelta(hours=4)), pid, 1, DualDiagnosis(
        rng.choice(("yes", "no", "no", "declined")), "Mental health in-reach"))
    level = rng.choice(("low", "medium", "medium", "high"))
    risks = tuple(rng.sample(("opiate_withdrawal", "overdose", "blood_borne_virus",
                              "violence"), k=rng.randint(1, 3)))
    app.assess_risk(step(timedelta(hours=5)), pid, 1, RiskAssessment(level, risks))
    app.assign_caseload(step(timedelta(hours=6)), pid, 1, worker.actor_id, prison)
    if "alcohol" in mixture:
        app.record_brief_intervention(step(timedelta(hours=7)), pid, 1,
                                      BriefIntervention("alcohol_brief_advice", "completed"))
    app.record_top(step(timedelta(days=1)), pid, 1, _top(rng, "start", 0.0))
    app.revise_care_plan(step(timedelta(days=1, hours=1)), pid, 1, CarePlan(
        ("Stabilise on opioid substitution", "Reduce illicit use"),
        ("304681000000107", "299941000000103"), worker.actor_id,
        (referred + timedelta(days=28)).date()))
    elapsed = (now - referred).days
    for kind, days in (("day_5", 5), ("day_28", 28), ("week_13", 91)):
        if elapsed > days + 2 and rng.random() < 0.85:
            outcome = "completed" if rng.random() < 0.9 else "did_not_attend"
            app.record_review(step(timedelta(days=days + rng.randint(0, 2))), pid, 1,
                              Review(kind, outcome))
        else:
            break
    if elapsed > 40 and rng.random() < 0.7:
        app.record_top(step(timedelta(days=min(elapsed - 1, 90))), pid, 1,
                       _top(rng, "review", rng.uniform(0.0, 0.9)))
    if elapsed > 60 and rng.random() < 0.5:
        release_at = referred + timedelta(days=rng.randint(45, elapsed))
        _release(app, rng, now, pid, release_at, mixture, worker, ctx)


Context = Callable[[Actor, datetime], CommandContext]


def _release(app: SonarApplication, rng: random.Random, now: datetime, pid: UUID,
             release_at: datetime, mixture: tuple[str, ...], worker: Actor,
             ctx: Context) -> None:
    """Discharge and release; then maybe community treatment, maybe a recall."""
    reason = rng.choice(("transferred_not_in_custody", "completed", "dropped_out"))
    app.discharge(ctx(worker, release_at - timedelta(hours=1)), pid, 1, Discharge(reason))
    app.release_from_prison(ctx(worker, release_at), pid,
                            rng.choice(("licence", "end_of_sentence")), "Leeds")
    community = Actor("drug-service-leeds", "community_clinician",
                      "Leeds Community Drug Service", "Leeds")
    first_appointment = release_at + timedelta(days=rng.randint(2, 35))
    if reason == "transferred_not_in_custody" and first_appointment < now and (
            rng.random() < 0.6):
        app.refer_to_sms(ctx(community, first_appointment), pid, Referral(
            "community_service", mixture, "previously", True))
        app.record_referral_outcome(ctx(community, first_appointment + timedelta(hours=1)),
                                    pid, 2, ReferralOutcome("accepted"))
    record = app.get_record(pid)
    if (record.journey.last_release_type == "licence" and record.active_episode is None
            and rng.random() < 0.25):
        recall_at = release_at + timedelta(days=rng.randint(5, 20))
        if recall_at < now:
            app.recall_to_prison(ctx(worker, recall_at), pid,
                                 rng.choice(tuple(codes.RECALL_TYPE)), worker.site)


def seed_cohort(app: SonarApplication, patients: int, *, seed: int = 7,
                on_patient: Callable[[], None] | None = None) -> None:
    rng = random.Random(seed)
    now = datetime.now(UTC)
    for _ in range(patients):
        seed_patient(app, rng, now)
        if on_patient:
            on_patient()
