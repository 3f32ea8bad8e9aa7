"""When a review falls due, and when it is overdue."""

from __future__ import annotations

from datetime import date, timedelta

from sonar.domain.review_schedule import is_overdue, review_due_dates, review_status

DUE = date(2026, 3, 7)


def test_a_review_is_due_on_its_due_day_and_overdue_the_day_after() -> None:
    assert review_status(DUE, DUE - timedelta(days=1), done=False) == "due"
    assert review_status(DUE, DUE, done=False) == "due"
    assert review_status(DUE, DUE + timedelta(days=1), done=False) == "overdue"
    assert (is_overdue(DUE, DUE), is_overdue(DUE, DUE + timedelta(days=1))) == (False, True)


def test_a_review_done_is_done_however_late() -> None:
    assert review_status(DUE, DUE + timedelta(days=30), done=True) == "done"


def test_reviews_fall_due_5_days_28_days_and_13_weeks_after_treatment_starts() -> None:
    start = date(2026, 3, 2)
    assert review_due_dates(start) == {"day_5": date(2026, 3, 7), "day_28": date(2026, 3, 30),
                                       "week_13": date(2026, 6, 1)}
