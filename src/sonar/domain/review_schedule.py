"""The one rule for when 5-day, 28-day and 13-week reviews fall due.

No primary source fixes the rule (../shared/DOMAIN.md), so SONAR anchors every review on
the episode's treatment start: the clinical date the SMS referral was accepted. A
commissioner who wants another rule changes ``REVIEW_OFFSETS`` (or the anchor) here only.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta

REVIEW_ORDER: tuple[str, ...] = ("day_5", "day_28", "week_13")

REVIEW_OFFSETS: Mapping[str, timedelta] = {
    "day_5": timedelta(days=5),
    "day_28": timedelta(days=28),
    "week_13": timedelta(weeks=13),
}


def review_due_dates(treatment_start: date) -> dict[str, date]:
    """Due date of each review for an episode whose treatment started on ``treatment_start``."""
    return {kind: treatment_start + REVIEW_OFFSETS[kind] for kind in REVIEW_ORDER}


def is_overdue(due: date, today: date) -> bool:
    """A review not done is due up to and including its due day, overdue from the next."""
    return today > due


def review_status(due: date, today: date, *, done: bool) -> str:
    """'done', 'overdue' or 'due' for one review slot as of ``today``."""
    if done:
        return "done"
    return "overdue" if is_overdue(due, today) else "due"
