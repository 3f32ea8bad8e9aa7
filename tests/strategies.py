"""Hypothesis strategies for SONAR's value objects, shared by every property test."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from hypothesis import strategies as st

from sonar.domain import codes
from sonar.domain.attribution import Actor, Attribution
from sonar.domain.identity import NhsNumber, nhs_check_digit
from sonar.domain.pathway import (
    BriefIntervention,
    CarePlan,
    Discharge,
    DualDiagnosis,
    Referral,
    ReferralOutcome,
    Review,
    RiskAssessment,
)
from sonar.domain.places import Place, PlaceKind, of_kind
from sonar.domain.top import TOP_ITEMS, TOP_STAGE, ItemKind, Top, TopAnswers, TopValue

BASE_TIME = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@st.composite
def nhs_numbers(draw: st.DrawFn) -> str:
    """Valid NHS numbers (those whose first nine digits admit a check digit)."""
    first_nine = draw(st.text("0123456789", min_size=9, max_size=9).filter(
        lambda s: nhs_check_digit(s) is not None))
    return first_nine + str(nhs_check_digit(first_nine))


def valid_nhs() -> st.SearchStrategy[NhsNumber]:
    return nhs_numbers().map(NhsNumber)


actors = st.builds(
    Actor,
    actor_id=st.sampled_from(["sms-1", "sms-2", "nurse-7"]),
    role=st.sampled_from(["sms_worker", "prison_clinician", "custody_nurse"]),
    organisation=st.just("HMP Leeds Healthcare"),
    site=st.sampled_from(["HMP Leeds", "HMP Hull"]),
)


def attributions(at: datetime = BASE_TIME) -> st.SearchStrategy[Attribution]:
    return st.builds(Attribution, actor=actors, purpose_of_use=st.just("direct_care"),
                     source=st.just("api"), correlation_id=st.uuids().map(str),
                     occurred_at=st.just(at), recorded_at=st.just(at))


def _item_value(kind: ItemKind, low: float, high: float) -> st.SearchStrategy[TopValue]:
    if kind is ItemKind.YES_NO:
        return st.booleans()
    if kind is ItemKind.AMOUNT:
        return st.floats(low, high, allow_nan=False).map(lambda v: round(v, 1))
    return st.integers(int(low), int(high))


@st.composite
def top_answers(draw: st.DrawFn) -> TopAnswers:
    """Valid answers: any subset of items answered, each in range, amounts consistent."""
    values: dict[str, TopValue] = {}
    for item in TOP_ITEMS:
        if draw(st.booleans()):
            values[item.code] = draw(_item_value(item.kind, item.minimum, item.maximum))
    for code in list(values):
        if code.endswith("_amount") and values.get(code.replace("_amount", "_days")) == 0:
            values[code] = 0
    name = "ketamine" if isinstance(values.get("other_days"), int) else None
    return TopAnswers(values, other_substance_name=name)


tops = st.builds(Top, stage=st.sampled_from(list(TOP_STAGE)), answers=top_answers(),
                 before_custody=st.booleans())
referrals = st.builds(
    Referral, source=st.sampled_from(list(codes.REFERRAL_SOURCE)),
    substances=st.lists(st.sampled_from(list(codes.SUBSTANCE)), min_size=1, max_size=3,
                        unique=True).map(tuple),
    injecting_status=st.sampled_from(list(codes.INJECTING_STATUS)),
    previously_treated=st.booleans())
referral_outcomes = st.sampled_from(list(codes.REFERRAL_OUTCOME)).map(
    lambda o: ReferralOutcome(o, referred_to="Community team" if o == "referred_elsewhere"
                              else None))
dual_diagnoses = st.builds(DualDiagnosis, status=st.sampled_from(list(codes.DUAL_DIAGNOSIS)))
risk_assessments = st.builds(
    RiskAssessment, level=st.sampled_from(list(codes.RISK_LEVEL)),
    risks=st.lists(st.sampled_from([r for r in codes.NAMED_RISK if r != "other"]),
                   unique=True, max_size=4).map(tuple))
brief_interventions = st.builds(BriefIntervention,
                                intervention=st.sampled_from(list(codes.BRIEF_INTERVENTION)),
                                outcome=st.sampled_from(list(codes.BRIEF_INTERVENTION_OUTCOME)))
reviews = st.builds(Review, kind=st.sampled_from(list(codes.REVIEW_KIND)),
                    outcome=st.sampled_from(list(codes.REVIEW_OUTCOME)))
care_plans = st.builds(
    CarePlan, goals=st.lists(st.sampled_from(["Stabilise", "Reduce use", "Housing"]),
                             min_size=1, max_size=3).map(tuple),
    interventions=st.lists(st.sampled_from(list(codes.INTERVENTION)), max_size=3).map(tuple),
    named_worker=st.just("sms-1"),
    next_review_date=st.dates(date(2026, 3, 1), date(2026, 12, 31)))
discharges = st.builds(Discharge, exit_reason=st.sampled_from(list(codes.EXIT_REASON)))
elapsed = st.integers(0, 200).map(lambda days: timedelta(days=days))

places: st.SearchStrategy[Place] = st.deferred(
    lambda: st.sampled_from([place for kind in PlaceKind for place in of_kind(kind)]))


@st.composite
def respellings(draw: st.DrawFn, text: str) -> str:
    """The same words, each letter's case and the whitespace around and between words redrawn."""
    gaps = st.text(" \t\n\u00a0", min_size=1, max_size=3)
    words = ["".join(c.upper() if draw(st.booleans()) else c.lower() for c in word)
             for word in text.split()]
    around = st.one_of(st.just(""), gaps)
    return draw(around) + "".join(w + draw(gaps) for w in words[:-1]) + words[-1] + draw(around)
