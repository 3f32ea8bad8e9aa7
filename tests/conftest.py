"""Shared fixtures: an injectable clock, and the application on each kind of store."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from uuid import uuid4

import psycopg
import pytest

from sonar.config import Settings
from sonar.eventstore.application import SonarApplication

pytest_plugins = ["tests.integration.kafka_fixtures"]


class FakeClock:
    """A clock tests move by hand; the domain only ever sees times passed to it."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kwargs: float) -> None:
        self.now += timedelta(**kwargs)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime(2026, 3, 2, 9, 0, tzinfo=UTC))


@pytest.fixture
def memory_app(clock: FakeClock) -> SonarApplication:
    return SonarApplication(env={"PERSISTENCE_MODULE": "eventsourcing.popo"}, clock=clock)


def postgres_url() -> str | None:
    url = os.environ.get("SONAR_TEST_DATABASE_URL")
    if not url:
        if os.environ.get("SONAR_REQUIRE_POSTGRES") == "1":
            pytest.fail("SONAR_REQUIRE_POSTGRES=1 but SONAR_TEST_DATABASE_URL is not set")
        pytest.skip("PostgreSQL not configured; ./scripts/test provisions it")
    return url


@pytest.fixture
def postgres_settings() -> Iterator[Settings]:
    """Settings on the real PostgreSQL server, in a schema of this test's own (and the
    records' schema beside it, made when the records' store is first opened)."""
    url = postgres_url()
    assert url is not None
    schema = f"t_{uuid4().hex[:12]}"
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    try:
        yield Settings(database_url=url, database_schema=schema, pool_size=4)
    finally:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA IF EXISTS {schema}_records CASCADE")
            conn.execute(f"DROP SCHEMA {schema} CASCADE")


@pytest.fixture
def sqlite_settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "sonar")


@pytest.fixture(params=["sqlite", "postgres"])
def store_settings(request: pytest.FixtureRequest) -> Settings:
    """The same scenario runs on the embedded default and on real PostgreSQL."""
    if request.param == "postgres":
        request.applymarker(pytest.mark.postgres)
    settings: Settings = request.getfixturevalue(f"{request.param}_settings")
    return settings
