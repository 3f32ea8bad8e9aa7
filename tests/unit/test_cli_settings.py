"""A setting from the environment that breaks a rule stops `sonar` with a message naming
the variable and the rule, exit status 2, and no traceback; a refused secret is not shown."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

SONAR = str(Path(sys.executable).with_name("sonar"))


def _sonar(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("SONAR_")}
    return subprocess.run(  # noqa: S603 - the project's own command
        [SONAR, *args], env={**clean, "SONAR_DATA_DIR": str(tmp_path), **env},
        capture_output=True, text=True, timeout=60, check=False)


@pytest.mark.parametrize(("variable", "value", "rule"), [
    ("SONAR_REBUILD_WORKERS", "99", "less_than_equal"),
    ("SONAR_REBUILD_WORKERS", "two", "int_parsing"),
    ("SONAR_POOL_SIZE", "0", "greater_than_equal"),
])
def test_a_setting_out_of_its_range_is_named_with_its_rule(
        tmp_path: Path, variable: str, value: str, rule: str) -> None:
    done = _sonar(tmp_path, "projections", "status", **{variable: value})
    assert done.returncode == 2
    assert f"{variable}: " in done.stderr
    assert f"({rule})" in done.stderr
    assert "Traceback" not in done.stderr + done.stdout


def test_a_refused_secret_is_not_shown(tmp_path: Path) -> None:
    done = _sonar(tmp_path, "projections", "status", SONAR_ENVIRONMENT="production",
                  SONAR_AUTH_SECRET="short-secret-value")  # noqa: S106 - a refused test value
    assert done.returncode == 2
    assert "settings: " in done.stderr or "SONAR_AUTH_SECRET: " in done.stderr
    assert "short-secret-value" not in done.stderr + done.stdout
    assert "Traceback" not in done.stderr + done.stdout
