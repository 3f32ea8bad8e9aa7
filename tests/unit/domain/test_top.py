"""TOP items: ranges, whole numbers, yes/no, and "not answered" distinct from zero."""

from __future__ import annotations

import pytest

from sonar.domain.errors import InvalidValue, InvalidValues
from sonar.domain.top import TOP_ITEMS, Top, TopAnswers


def test_not_answered_is_distinct_from_zero() -> None:
    answers = TopAnswers({"opiates_days": 0, "crack_days": None})
    assert answers.answer("opiates_days") == 0
    assert answers.answer("crack_days") is None
    assert "crack_days" not in answers.values


@pytest.mark.parametrize(("code", "value", "rule"), [
    ("opiates_days", 29, "top.days_range"),
    ("opiates_days", -1, "top.days_range"),
    ("psychological_health", 21, "top.score_range"),
    ("assault_violence_count", 29, "top.count_range"),
    ("alcohol_amount", 201, "top.amount_range"),
    ("paid_work_days", 2.5, "top.whole_number"),
    ("shared_needles", 1, "top.yes_no"),
    ("quality_of_life", True, "top.number"),
    ("heroin_days", 3, "top.unknown_item"),
])
def test_each_bad_value_is_named_with_its_rule(code: str, value: object, rule: str) -> None:
    with pytest.raises(InvalidValue) as caught:
        TopAnswers({code: value})  # type: ignore[dict-item]
    assert caught.value.field == f"answers.{code}"
    assert caught.value.rule == rule


def test_all_bad_items_are_reported_together() -> None:
    with pytest.raises(InvalidValues) as caught:
        TopAnswers({"opiates_days": 40, "physical_health": 25})
    assert [p.field for p in caught.value.problems] == ["answers.opiates_days",
                                                        "answers.physical_health"]


def test_an_amount_for_a_substance_not_used_is_refused() -> None:
    with pytest.raises(InvalidValue) as caught:
        TopAnswers({"crack_days": 0, "crack_amount": 2})
    assert caught.value.rule == "top.amount_without_use"


def test_other_substance_used_must_be_named() -> None:
    with pytest.raises(InvalidValue) as caught:
        TopAnswers({"other_days": 4})
    assert caught.value.field == "other_substance_name"
    assert TopAnswers({"other_days": 4}, other_substance_name="ketamine").answer("other_days") == 4


def test_boundaries_are_inclusive() -> None:
    answers = TopAnswers({"opiates_days": 28, "psychological_health": 20, "physical_health": 0})
    assert answers.answer("opiates_days") == 28


def test_every_item_has_a_range_or_is_yes_no() -> None:
    codes = [item.code for item in TOP_ITEMS]
    assert len(codes) == len(set(codes)) == 30
    assert all(item.maximum > item.minimum or item.kind == "yes_no" for item in TOP_ITEMS)


def test_unknown_stage_is_refused() -> None:
    with pytest.raises(InvalidValue) as caught:
        Top("middle", TopAnswers({}))
    assert caught.value.rule == "top_stage.unknown_code"


def test_huge_numbers_are_out_of_range_not_a_crash() -> None:
    with pytest.raises(InvalidValues) as caught:
        TopAnswers({"alcohol_days": 10**400, "alcohol_amount": 10**400})
    assert {p.rule for p in caught.value.problems} == {"top.days_range", "top.amount_range"}


def test_nan_is_refused() -> None:
    with pytest.raises(InvalidValue):
        TopAnswers({"alcohol_amount": float("nan")})


def test_whole_numbers_sent_as_floats_are_stored_as_int() -> None:
    value = TopAnswers({"opiates_days": 3.0}).answer("opiates_days")
    assert value == 3
    assert type(value) is int


def test_control_characters_in_free_text_are_refused() -> None:
    from sonar.domain import Review  # noqa: PLC0415

    with pytest.raises(InvalidValue) as caught:
        Review("day_5", "completed", notes="a\x00b")
    assert caught.value.rule == "text.control_characters"
