"""Treatment Outcomes Profile (TOP): every item, its range, and "not answered" distinct from 0.

An item missing from the answers (or given as None) was not answered; 0 is an answer.
Item codes are SONAR's; docs/top-items.md (and the FHIR issue) map them to national codes.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from sonar.domain import codes
from sonar.domain.errors import InvalidValue, raise_all
from sonar.domain.values import Immutable

TopValue = int | float | bool | None


class ItemKind(StrEnum):
    DAYS = "days"  # whole days in the past 28
    AMOUNT = "amount"  # typical amount on a using day
    SCORE = "score"  # 0-20 self-rating
    COUNT = "count"  # whole number of incidents
    YES_NO = "yes_no"


@dataclass(frozen=True)
class TopItem(Immutable):
    code: str
    label: str
    section: str
    kind: ItemKind
    minimum: float = 0
    maximum: float = 0
    unit: str = ""


SUBSTANCES: tuple[tuple[str, str, str, float], ...] = (
    ("alcohol", "Alcohol", "units", 200),
    ("opiates", "Opiates / opioids (illicit)", "grams", 100),
    ("crack", "Crack", "grams", 100),
    ("cocaine", "Cocaine", "grams", 100),
    ("amphetamines", "Amphetamines", "grams", 100),
    ("cannabis", "Cannabis", "grams", 100),
    ("other", "Other substance", "amount", 1000),
    ("tobacco", "Tobacco", "cigarettes", 200),
)


def _items() -> tuple[TopItem, ...]:
    items: list[TopItem] = []
    for code, label, unit, most in SUBSTANCES:
        items.append(TopItem(f"{code}_days", f"{label}: days used", "substance", ItemKind.DAYS,
                             0, 28, "days"))
        items.append(TopItem(f"{code}_amount", f"{label}: typical amount on a using day",
                             "substance", ItemKind.AMOUNT, 0, most, unit))
    items += [
        TopItem("injecting_days", "Days injected non-prescribed drugs", "injecting",
                ItemKind.DAYS, 0, 28, "days"),
        TopItem("shared_needles", "Shared needles or syringes", "injecting", ItemKind.YES_NO),
        TopItem("shared_other_equipment", "Shared other injecting equipment", "injecting",
                ItemKind.YES_NO),
        TopItem("shoplifting_days", "Days shoplifting", "crime", ItemKind.DAYS, 0, 28, "days"),
        TopItem("drug_selling_days", "Days selling drugs", "crime", ItemKind.DAYS, 0, 28, "days"),
        TopItem("other_theft_days", "Days of other theft", "crime", ItemKind.DAYS, 0, 28, "days"),
        TopItem("assault_violence_count", "Assault or violence (incidents)", "crime",
                ItemKind.COUNT, 0, 28, "incidents"),
        TopItem("psychological_health", "Psychological health (0 poor - 20 good)", "health",
                ItemKind.SCORE, 0, 20),
        TopItem("physical_health", "Physical health (0 poor - 20 good)", "health",
                ItemKind.SCORE, 0, 20),
        TopItem("quality_of_life", "Overall quality of life (0 poor - 20 good)", "health",
                ItemKind.SCORE, 0, 20),
        TopItem("paid_work_days", "Days in paid work", "health", ItemKind.DAYS, 0, 28, "days"),
        TopItem("education_days", "Days in education", "health", ItemKind.DAYS, 0, 28, "days"),
        TopItem("acute_housing_problem", "Acute housing problem", "health", ItemKind.YES_NO),
        TopItem("at_risk_of_eviction", "At risk of eviction", "health", ItemKind.YES_NO),
    ]
    return tuple(items)


TOP_ITEMS: tuple[TopItem, ...] = _items()
TOP_ITEM_BY_CODE: Mapping[str, TopItem] = {item.code: item for item in TOP_ITEMS}
SCORE_ITEMS: tuple[str, ...] = ("psychological_health", "physical_health", "quality_of_life")
SUBSTANCE_CODES: tuple[str, ...] = tuple(code for code, *_ in SUBSTANCES)

TOP_STAGE = codes.ValueSet(
    "top_stage",
    {
        "start": "Start of treatment",
        "review": "Review",
        "exit": "Exit",
        "post_treatment": "Post-treatment",
    },
)


def _item_problem(item: TopItem, value: TopValue) -> InvalidValue | None:
    field = f"answers.{item.code}"
    if value is None:
        return None
    if item.kind is ItemKind.YES_NO:
        if isinstance(value, bool):
            return None
        return InvalidValue(f"{item.label} is yes/no (true or false).",
                            rule="top.yes_no", field=field)
    if isinstance(value, bool) or not isinstance(value, int | float):
        return InvalidValue(f"{item.label} must be a number.", rule="top.number", field=field)
    nan = isinstance(value, float) and math.isnan(value)
    if nan or not item.minimum <= value <= item.maximum:
        shown = f"{value:g}" if isinstance(value, float) else str(value)[:12]
        return InvalidValue(
            f"{item.label} must be between {item.minimum:g} and {item.maximum:g}; got {shown}.",
            rule=f"top.{item.kind.value}_range",
            field=field,
        )
    whole = item.kind in (ItemKind.DAYS, ItemKind.COUNT, ItemKind.SCORE)
    if whole and isinstance(value, float) and not value.is_integer():
        return InvalidValue(f"{item.label} must be a whole number.",
                            rule="top.whole_number", field=field)
    return None


def _normalise(code: str, value: TopValue) -> TopValue:
    """Whole-number items are stored as int even when sent as 3.0."""
    kind = TOP_ITEM_BY_CODE[code].kind
    if kind in (ItemKind.DAYS, ItemKind.COUNT, ItemKind.SCORE) and isinstance(value, float):
        return int(value)
    return value


@dataclass(frozen=True)
class TopAnswers(Immutable):
    """The answered items of one TOP; an absent item was not answered."""

    values: Mapping[str, TopValue]
    other_substance_name: str | None = None

    def __post_init__(self) -> None:
        problems: list[InvalidValue] = []
        for code in self.values:
            if code not in TOP_ITEM_BY_CODE:
                problems.append(InvalidValue(f"'{code}' is not a TOP item.",
                                             rule="top.unknown_item", field=f"answers.{code}"))
        for item in TOP_ITEMS:
            problem = _item_problem(item, self.values.get(item.code))
            if problem:
                problems.append(problem)
        problems += self._consistency_problems()
        raise_all(problems)
        object.__setattr__(self, "values", {k: _normalise(k, v) for k, v in self.values.items()
                                            if v is not None})

    def _consistency_problems(self) -> list[InvalidValue]:
        problems = []
        for substance in SUBSTANCE_CODES:
            days = self.values.get(f"{substance}_days")
            amount = self.values.get(f"{substance}_amount")
            if days == 0 and isinstance(amount, int | float) and amount > 0:
                problems.append(InvalidValue(
                    "An amount is given for a substance used on 0 days.",
                    rule="top.amount_without_use", field=f"answers.{substance}_amount"))
        other_days = self.values.get("other_days")
        if isinstance(other_days, int | float) and other_days > 0 and not (
            self.other_substance_name and self.other_substance_name.strip()
        ):
            problems.append(InvalidValue("Name the other substance used.",
                                         rule="top.other_substance_named",
                                         field="other_substance_name"))
        return problems

    def answer(self, code: str) -> TopValue:
        """The answer to an item, or None when it was not answered."""
        return self.values.get(code)


@dataclass(frozen=True)
class Top(Immutable):
    """One completed TOP: its stage, whether it asks about the 4 weeks before custody, answers."""

    stage: str
    answers: TopAnswers
    before_custody: bool = False

    def __post_init__(self) -> None:
        TOP_STAGE.check(self.stage, field="stage")
