"""Small builders for domain tests: a record at a given point of the pathway."""

from __future__ import annotations

from datetime import datetime, timedelta

from sonar.domain import (
    Actor,
    Attribution,
    CareRecord,
    Demographics,
    Identity,
    Referral,
    ReferralOutcome,
)
from tests.strategies import BASE_TIME

NURSE = Actor("nurse-1", "prison_clinician", "HMP Leeds Healthcare", "HMP Leeds")


def at(days: float = 0, recorded_days: float | None = None) -> Attribution:
    occurred = BASE_TIME + timedelta(days=days)
    recorded = BASE_TIME + timedelta(days=recorded_days if recorded_days is not None else days)
    return Attribution(NURSE, "direct_care", "api", "corr-1", occurred, recorded)


def new_record() -> CareRecord:
    from datetime import date  # noqa: PLC0415 - only here

    return CareRecord.register(Identity(), Demographics("Sam", "Holt", date(1990, 5, 1), "male"),
                               at(-1))


def in_prison() -> CareRecord:
    record = new_record()
    record.receive_into_prison("HMP Leeds", None, at(0))
    return record


def with_open_episode() -> CareRecord:
    record = in_prison()
    record.refer_to_sms(Referral("reception_screen", ("heroin",), "never", False), at(0))
    record.record_referral_outcome(1, ReferralOutcome("accepted"), at(0.1))
    return record


def when(value: datetime) -> Attribution:
    return Attribution(NURSE, "direct_care", "api", "corr-1", value, value)
