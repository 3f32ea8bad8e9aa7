"""The SMS episode state machine: what a clinician may and may not record, and when."""

from __future__ import annotations

import pytest

from sonar.domain import (
    CarePlan,
    Discharge,
    EpisodeStatus,
    IllegalStep,
    Referral,
    ReferralOutcome,
    Review,
    RiskAssessment,
    Top,
    TopAnswers,
)
from tests.unit.domain.builders import at, in_prison, with_open_episode

START_TOP = Top("start", TopAnswers({"opiates_days": 20}))


def test_a_review_on_an_episode_never_opened_is_refused() -> None:
    record = in_prison()
    with pytest.raises(IllegalStep) as caught:
        record.record_review(1, Review("day_5", "completed"), at(5))
    assert caught.value.rule == "episode.not_found"


def test_a_review_before_the_referral_is_accepted_is_refused() -> None:
    record = in_prison()
    record.refer_to_sms(Referral("self", ("alcohol",), "never", False), at(0))
    with pytest.raises(IllegalStep) as caught:
        record.record_review(1, Review("day_5", "completed"), at(5))
    assert caught.value.rule == "episode.review_not_allowed"


def test_a_review_on_a_discharged_episode_is_refused_and_records_nothing() -> None:
    record = with_open_episode()
    record.discharge(1, Discharge("completed"), at(3))
    pending = len(record.collect_events())
    with pytest.raises(IllegalStep, match="discharged"):
        record.record_review(1, Review("day_5", "completed"), at(5))
    assert record.collect_events() == []
    assert pending > 0


def test_reviews_are_recorded_in_order_once_each() -> None:
    record = with_open_episode()
    with pytest.raises(IllegalStep) as caught:
        record.record_review(1, Review("day_28", "completed"), at(28))
    assert caught.value.rule == "review.out_of_order"
    record.record_review(1, Review("day_5", "did_not_attend"), at(6))
    with pytest.raises(IllegalStep) as again:
        record.record_review(1, Review("day_5", "completed"), at(7))
    assert again.value.rule == "review.already_recorded"
    record.record_review(1, Review("day_28", "completed"), at(28))
    assert set(record.episode(1).reviews_done()) == {"day_5", "day_28"}


def test_review_due_dates_follow_the_one_rule_from_treatment_start() -> None:
    record = with_open_episode()
    dues = record.episode(1).review_due_dates()
    start = record.episode(1).treatment_start
    assert start is not None
    assert [(d - start).days for d in dues.values()] == [5, 28, 91]
    record.record_review(1, Review("day_5", "completed"), at(5))
    assert record.episode(1).next_review_due() == ("day_28", dues["day_28"])


def test_an_exit_top_without_a_start_top_is_allowed_but_flagged() -> None:
    record = with_open_episode()
    record.record_top(1, Top("exit", TopAnswers({"opiates_days": 0})), at(40))
    (entry,) = record.episode(1).entries
    assert entry.flags == ("no_start_top",)


def test_a_second_start_top_is_refused_until_the_first_is_marked_in_error() -> None:
    record = with_open_episode()
    record.record_top(1, START_TOP, at(1))
    with pytest.raises(IllegalStep) as caught:
        record.record_top(1, START_TOP, at(2))
    assert caught.value.rule == "top.start_already_recorded"
    record.mark_entered_in_error(record.episode(1).entries[0].version, "Wrong patient", at(2))
    record.record_top(1, START_TOP, at(2))
    assert [e.in_error for e in record.episode(1).entries] == ["Wrong patient", None]


def test_care_plans_are_revised_never_overwritten() -> None:
    record = with_open_episode()
    first = CarePlan(("Stabilise",), ("304681000000107",), "sms-1", at(28).occurred_at.date())
    second = CarePlan(("Reduce use",), ("299941000000103",), "sms-2", at(56).occurred_at.date())
    assert record.revise_care_plan(1, first, at(1)) == 1
    assert record.revise_care_plan(1, second, at(20)) == 2
    plans = [e.value for e in record.episode(1).entries]
    assert plans == [first, second]
    latest = record.episode(1).latest(CarePlan)
    assert latest is not None
    assert latest.value == second


def test_latest_risk_is_by_clinical_time_even_when_entered_late() -> None:
    record = with_open_episode()
    record.assess_risk(1, RiskAssessment("high", ("overdose",)), at(10))
    record.assess_risk(1, RiskAssessment("low", ()), at(5, recorded_days=11))  # late entry
    latest = record.episode(1).latest(RiskAssessment)
    assert latest is not None
    assert latest.value.level == "high"


def test_reassignment_records_the_previous_worker() -> None:
    record = with_open_episode()
    record.assign_caseload(1, "sms-1", "HMP Leeds", at(1))
    for same in ("HMP Leeds", "hmp  leeds"):
        with pytest.raises(IllegalStep) as caught:
            record.assign_caseload(1, "sms-1", same, at(2))
        assert caught.value.rule == "caseload.already_assigned"
    record.assign_caseload(1, "sms-2", "HMP Leeds", at(3))
    events = record.collect_events()
    assert events[-1].previous_worker_id == "sms-1"  # type: ignore[attr-defined]
    assert record.episode(1).caseload_worker == "sms-2"


def test_only_one_active_episode_and_a_new_one_after_discharge() -> None:
    record = with_open_episode()
    with pytest.raises(IllegalStep) as caught:
        record.refer_to_sms(Referral("self", ("alcohol",), "never", False), at(1))
    assert caught.value.rule == "episode.already_active"
    record.discharge(1, Discharge("transferred_in_custody"), at(2))
    assert record.refer_to_sms(Referral("self", ("alcohol",), "never", True), at(3)) == 2
    assert record.episode(1).status is EpisodeStatus.DISCHARGED
    assert record.active_episode is record.episode(2)


def test_a_declined_referral_closes_the_episode() -> None:
    record = in_prison()
    record.refer_to_sms(Referral("court", ("cocaine",), "declined", False), at(0))
    record.record_referral_outcome(1, ReferralOutcome("declined_by_patient"), at(1))
    assert record.episode(1).status is EpisodeStatus.CLOSED
    with pytest.raises(IllegalStep):
        record.discharge(1, Discharge("declined"), at(2))


def test_a_step_dated_before_its_referral_is_refused() -> None:
    record = with_open_episode()
    with pytest.raises(IllegalStep) as caught:
        record.assess_risk(1, RiskAssessment("low", ()), at(-2))
    assert caught.value.rule == "episode.before_referral"


def test_journey_moves_and_pathway_transitions_cannot_be_marked_in_error() -> None:
    record = with_open_episode()
    with pytest.raises(IllegalStep) as caught:
        record.mark_entered_in_error(2, "oops", at(1))  # version 2: the prison reception
    assert caught.value.rule == "entered_in_error.not_an_entry"


def test_a_post_treatment_top_follows_discharge_only() -> None:
    record = with_open_episode()
    post = Top("post_treatment", TopAnswers({"opiates_days": 0}))
    with pytest.raises(IllegalStep) as caught:
        record.record_top(1, post, at(10))
    assert caught.value.rule == "episode.post_treatment_top_not_allowed"
    record.record_top(1, START_TOP, at(1))
    record.discharge(1, Discharge("completed"), at(20))
    record.record_top(1, post, at(60))
    assert [e.value.stage for e in record.episode(1).entries] == [  # type: ignore[union-attr]
        "start", "post_treatment"]


def test_discharge_cannot_be_dated_before_treatment_started() -> None:
    record = with_open_episode()  # accepted at day 0.1
    with pytest.raises(IllegalStep) as caught:
        record.discharge(1, Discharge("completed"), at(0.05))
    assert caught.value.rule == "discharge.before_treatment_start"


def test_review_timing_uses_the_moment_not_the_senders_offset() -> None:
    from datetime import datetime, timedelta, timezone  # noqa: PLC0415

    from tests.unit.domain.builders import when  # noqa: PLC0415

    record = in_prison()
    record.refer_to_sms(Referral("self", ("alcohol",), "never", False), at(0))
    bst = timezone(timedelta(hours=1))
    accepted = datetime(2026, 3, 3, 0, 30, tzinfo=bst)
    record.record_referral_outcome(1, ReferralOutcome("accepted"), when(accepted))
    # 00:30 at +01:00 on 3 March is 23:30 on 2 March in England (GMT until late March).
    assert str(record.episode(1).treatment_start) == "2026-03-02"
    record.record_review(1, Review("day_5", "completed"), when(accepted + timedelta(minutes=15)))
    with pytest.raises(IllegalStep):
        record.record_review(1, Review("day_28", "completed"),
                             when(accepted.astimezone(bst) - timedelta(minutes=29)))


def test_a_new_referral_cannot_overlap_the_previous_episode() -> None:
    record = with_open_episode()
    record.discharge(1, Discharge("completed"), at(20))
    with pytest.raises(IllegalStep) as caught:
        record.refer_to_sms(Referral("self", ("alcohol",), "never", True), at(10, 21))
    assert caught.value.rule == "episode.overlaps_previous"
