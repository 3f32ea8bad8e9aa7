"""A live `sonar serve` with a signed-up clinician, and Debian's Chromium driven by Playwright.

No browser is downloaded: the tests use /usr/bin/chromium (installed by .ci/run) and skip
when it or axe-core (npm ci) is missing, unless SONAR_REQUIRE_BROWSER=1 makes that a failure.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

CHROMIUM = Path("/usr/bin/chromium")
ROOT = Path(__file__).resolve().parents[2]
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
ARTIFACTS = ROOT / "test-artifacts"
PASSWORD = "correct horse battery staple"  # noqa: S105 - synthetic test user
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


@dataclass(frozen=True)
class Server:
    url: str
    username: str
    password: str
    elsewhere: str = "clinician-hull"  # a prison clinician at HMP Hull: no relationship

    def api_token(self) -> str:
        """A bearer token for checking, through the API, what the UI did."""
        response = httpx.post(f"{self.url}/api/v1/auth/token",
                              data={"username": self.username, "password": self.password})
        response.raise_for_status()
        return str(response.json()["access_token"])


def _missing(what: str) -> None:
    if os.environ.get("SONAR_REQUIRE_BROWSER") == "1":
        pytest.fail(f"{what} is missing and SONAR_REQUIRE_BROWSER=1")
    pytest.skip(f"{what} is missing (see .ci/run)")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """`sonar serve` on a free loopback port over a fresh data dir, with one SMS worker."""
    data_dir = tmp_path_factory.mktemp("sonar-ui")
    env = {**os.environ, "SONAR_DATA_DIR": str(data_dir), "SONAR_LOG_FORMAT": "json",
           "SONAR_AUTH_SECRET": "browser-test-signing-secret-0123456789abcdef"}
    env.pop("SONAR_DATABASE_URL", None)
    sonar = str(Path(sys.executable).with_name("sonar"))
    for user, role, site in (("nurse-ui", "sms_worker", "HMP Leeds"),
                             ("clinician-hull", "prison_clinician", "HMP Hull")):
        subprocess.run(  # noqa: S603 - our own console script
            [sonar, "users", "add", user, "--role", role, "--org", f"{site} Healthcare",
             "--site", site, "--password-stdin"],
            input=PASSWORD + "\n", text=True, env=env, check=True, capture_output=True)
    port = _free_port()
    proc = subprocess.Popen([sonar, "serve", "--host", "127.0.0.1", "--port", str(port)],  # noqa: S603
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(f"{url}/health", timeout=2).raise_for_status()
                break
            except httpx.HTTPError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise
                time.sleep(0.2)
        yield Server(url, "nurse-ui", PASSWORD)
    finally:
        proc.terminate()
        proc.wait(timeout=20)


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    """Headless Debian Chromium; never a downloaded browser."""
    if not CHROMIUM.exists():
        _missing(str(CHROMIUM))
    from playwright.sync_api import sync_playwright  # noqa: PLC0415 - only when a browser exists

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                                              args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def axe_source() -> str:
    if not AXE.exists():
        _missing(str(AXE))
    return AXE.read_text()


@pytest.fixture
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS
