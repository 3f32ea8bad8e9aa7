"""`sonar serve` runs on the embedded default with no other server and answers /health."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_sonar_serve_answers_health_with_demo_data(tmp_path: Path) -> None:
    port = _free_port()
    env = {**os.environ, "SONAR_DATA_DIR": str(tmp_path), "SONAR_LOG_FORMAT": "json"}
    env.pop("SONAR_DATABASE_URL", None)
    sonar = Path(sys.executable).with_name("sonar")
    command = [str(sonar), "serve", "--port", str(port), "--demo", "3"]
    proc = subprocess.Popen(command, env=env,  # noqa: S603 - our own console script
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                health = httpx.get(f"http://127.0.0.1:{port}/health", timeout=2)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise
                time.sleep(0.2)
        assert health.json()["status"] == "ok"
        assert health.json()["position"] > 10  # the demo cohort was seeded
        assert (tmp_path / "sonar.db").exists()
    finally:
        proc.terminate()
        output = proc.communicate(timeout=20)[0].decode()
    assert "9434765919" not in output
    assert "given_name" not in output
