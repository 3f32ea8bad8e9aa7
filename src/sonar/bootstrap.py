"""The one place that builds SONAR's concrete objects from Settings."""

from __future__ import annotations

from sonar.app.application import Clock, SonarApplication, utc_now
from sonar.config import Settings


def build_application(settings: Settings, clock: Clock = utc_now) -> SonarApplication:
    """The application on the store the settings name (SQLite file unless a URL is given)."""
    if not settings.database_url:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    return SonarApplication(env=settings.event_store_env(), clock=clock)
