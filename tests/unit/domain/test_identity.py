"""NHS number (Modulus 11), prison number and PNC id validation."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sonar.domain.errors import InvalidValue
from sonar.domain.identity import NhsNumber, PncId, PrisonNumber
from tests.strategies import nhs_numbers


def test_accepts_a_known_valid_nhs_number_with_spaces() -> None:
    assert NhsNumber("943 476 5919").value == "9434765919"


@pytest.mark.parametrize(("number", "rule"), [
    ("9434765918", "nhs_number.check_digit"),
    ("943476591", "nhs_number.format"),
    ("94347659190", "nhs_number.format"),
    ("94347659A9", "nhs_number.format"),
    ("١٢٣٤٥٦٧٨٩٠", "nhs_number.format"),  # non-ASCII digits are not NHS digits
])
def test_rejects_invalid_nhs_numbers_naming_the_rule(number: str, rule: str) -> None:
    with pytest.raises(InvalidValue) as caught:
        NhsNumber(number)
    assert caught.value.rule == rule
    assert caught.value.field == "nhs_number"


def test_rejects_a_number_whose_check_digit_would_be_ten() -> None:
    # 000000010: weights give a remainder of 1, so the check digit would be 10: never issued.
    with pytest.raises(InvalidValue):
        NhsNumber("0000000100")


@given(nhs_numbers(), st.integers(0, 9), st.integers(1, 9))
def test_any_single_digit_error_is_caught(number: str, position: int, shift: int) -> None:
    wrong = str((int(number[position]) + shift) % 10)
    altered = number[:position] + wrong + number[position + 1:]
    with pytest.raises(InvalidValue):
        NhsNumber(altered)


@given(nhs_numbers())
def test_every_generated_valid_number_is_accepted(number: str) -> None:
    assert NhsNumber(number).value == number


def test_prison_number_is_normalised_and_checked() -> None:
    assert PrisonNumber(" a1234bc ").value == "A1234BC"
    with pytest.raises(InvalidValue, match="prison number"):
        PrisonNumber("1234ABC")


def test_pnc_id_accepts_both_year_forms() -> None:
    assert PncId("2019/0123456x").value == "2019/0123456X"
    assert PncId("19/123A").value == "19/123A"
    with pytest.raises(InvalidValue):
        PncId("2019-0123456X")
