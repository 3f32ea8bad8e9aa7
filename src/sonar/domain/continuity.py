"""Continuity of care after release (../shared/DOMAIN.md): the rules every report of it
shares, so the continuity read model and the NDTMS extract agree."""

from __future__ import annotations

from datetime import datetime, timedelta

from sonar.domain.sms_episode import Episode

REFERRED_ON_RELEASE_WITHIN = timedelta(days=1)


def referred_on_release(episode: Episode, released_at: datetime) -> bool:
    """Whether an episode of the custody stay was a referral on release: discharged
    "transferred - not in custody" before the release or within 24 hours after it."""
    return (episode.discharge is not None
            and episode.discharge.exit_reason == "transferred_not_in_custody"
            and episode.ended_at is not None
            and episode.ended_at <= released_at + REFERRED_ON_RELEASE_WITHIN)
