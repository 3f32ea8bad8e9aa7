"""Signing secrets: production refuses to start without a strong one; development makes one."""

from __future__ import annotations

import pytest
from pydantic import SecretStr, ValidationError
from structlog.testing import capture_logs

from sonar.auth import tokens
from sonar.auth.tokens import TokenService
from sonar.auth.users import User
from sonar.config import Settings

STRONG = "k3J9x2QpZr7T1vWm8YbN4cLs6HdF0gAe"


@pytest.mark.parametrize("secret", [None, "", "short", "changeme", "changeme" * 4])
def test_production_refuses_a_missing_default_or_short_secret(secret: str | None) -> None:
    with pytest.raises(ValidationError, match="SONAR_AUTH_SECRET"):
        Settings(environment="production",
                 auth_secret=SecretStr(secret) if secret is not None else None)


def test_production_starts_with_a_strong_secret() -> None:
    assert Settings(environment="production", auth_secret=SecretStr(STRONG)).auth_secret


def test_production_reads_the_secret_from_the_environment(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SONAR_ENVIRONMENT", "production")
    monkeypatch.delenv("SONAR_AUTH_SECRET", raising=False)
    with pytest.raises(ValidationError):
        Settings()
    monkeypatch.setenv("SONAR_AUTH_SECRET", STRONG)
    assert Settings().environment == "production"


def test_oidc_settings_go_together() -> None:
    with pytest.raises(ValidationError, match="go together"):
        Settings(oidc_jwks_url="http://127.0.0.1/jwks")


def test_development_generates_a_per_process_secret_and_never_logs_it() -> None:
    tokens._process_secret.cache_clear()
    with capture_logs() as logs:
        first = TokenService(Settings())
        second = TokenService(Settings())
    assert first.secret == second.secret
    assert len(first.secret) >= 32
    assert [e["event"] for e in logs] == ["auth_secret_generated"]
    assert first.secret not in repr(logs)
    user = User("u", "sms_worker", "Org", "Site", "u", None, active=True)
    assert second.verify(first.issue(user)[0]).actor.actor_id == "u"
