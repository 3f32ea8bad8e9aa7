"""Signing in for API tests: users per role, bearer-token headers, and the app under test."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import SecretStr

from sonar.api.main import create_app
from sonar.auth.users import UserDirectory
from sonar.bootstrap import build_application, build_record_store, build_runner
from sonar.config import Settings
from sonar.domain import codes
from sonar.eventstore.application import Clock
from sonar.ui import mount_ui

PASSWORD = "correct horse battery staple"  # noqa: S105 - synthetic test user
SECRET = "test-signing-secret-that-is-long-enough-0123456789"  # noqa: S105 - tests only


@dataclass(frozen=True)
class TestUser:
    username: str
    role: str
    organisation: str
    site: str


# The scenario's clinician, as the X-Actor headers used to name them.
SMS_WORKER = TestUser("sms-1", "sms_worker", "HMP Leeds Healthcare", "HMP Leeds")


def user_for(role: str, site: str = "HMP Leeds", organisation: str = "HMP Leeds Healthcare",
             ) -> TestUser:
    return TestUser(f"{role}-{site.lower().replace(' ', '-')}", role, organisation, site)


def add_user(app: FastAPI, user: TestUser, patient_id: str | None = None) -> None:
    users: UserDirectory = app.state.users
    if users.get(user.username) is None:
        users.add(user.username, PASSWORD, role=user.role, organisation=user.organisation,
                  site=user.site, patient_id=patient_id or (
                      "00000000-0000-4000-8000-000000000000" if user.role == "patient"
                      else None))


def sign_in(client: TestClient, user: TestUser) -> dict[str, str]:
    """Create the user if needed and return headers carrying their bearer token."""
    add_user(client.app, user)  # type: ignore[arg-type]
    response = client.post("/api/v1/auth/token",
                           data={"username": user.username, "password": PASSWORD})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def settings_for(data_dir: Path, **changes: Any) -> Settings:
    """Settings on a fresh SQLite store with a fixed signing secret."""
    return Settings(data_dir=data_dir, auth_secret=SecretStr(SECRET), **changes)


@contextmanager
def api_client(settings: Settings, clock: Clock) -> Iterator[TestClient]:
    """The app on the given settings, with read models migrated."""
    application = build_application(settings, clock)
    runner = build_runner(settings, application)
    runner.migrate()
    with TestClient(create_app(settings, application, runner, build_record_store(settings),
                               ui=mount_ui),
                    raise_server_exceptions=False) as client:
        yield client


ROLES = tuple(codes.ROLE)
