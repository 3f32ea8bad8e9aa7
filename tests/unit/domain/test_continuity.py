"""Continuity of care after release: the rules the continuity report and NDTMS share."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from sonar.domain import Discharge, Episode, Referral, ReferralOutcome
from sonar.domain.continuity import referred_on_release

RELEASED = datetime(2026, 3, 20, 9, 0, tzinfo=UTC)


def episode(exit_reason: str | None, ended: datetime | None) -> Episode:
    found = Episode(1, Referral("reception_screen", ("heroin",), "never", False),
                    RELEASED - timedelta(days=30))
    found.apply_outcome(ReferralOutcome("accepted"), RELEASED - timedelta(days=29))
    if exit_reason is not None and ended is not None:
        found.apply_discharge(Discharge(exit_reason), ended)
    return found


@pytest.mark.parametrize(("after", "referred"), [
    (timedelta(days=-3), True),
    (timedelta(0), True),
    (timedelta(days=1), True),
    (timedelta(days=1, minutes=1), False),
])
def test_a_transfer_to_the_community_is_a_referral_on_release_up_to_a_day_after_it(
        after: timedelta, referred: bool) -> None:
    assert referred_on_release(episode("transferred_not_in_custody", RELEASED + after),
                               RELEASED) is referred


def test_other_discharges_and_running_episodes_are_not_referrals_on_release() -> None:
    assert not referred_on_release(episode("completed", RELEASED), RELEASED)
    assert not referred_on_release(episode(None, None), RELEASED)
