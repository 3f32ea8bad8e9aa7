"""`sonar serve` runs on the embedded default with no other server and answers /health."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
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
    assert proc.stdout is not None
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(
        line.decode() for line in iter(proc.stdout.readline, b"")), daemon=True)
    reader.start()
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
        sign_in = next(line for line in lines if "Demo sign-in" in line)
        password = sign_in.split("password '")[1].split("'")[0]
        token = httpx.post(f"http://127.0.0.1:{port}/api/v1/auth/token",
                           data={"username": "demo", "password": password}, timeout=10)
        assert token.status_code == 200
        caseload = httpx.get(f"http://127.0.0.1:{port}/api/v1/caseloads", timeout=10, headers={
            "Authorization": f"Bearer {token.json()['access_token']}"})
        assert caseload.status_code == 200
    finally:
        proc.terminate()
        proc.wait(timeout=20)
        reader.join(timeout=5)
        output = "".join(lines)
    assert "9434765919" not in output
    assert "given_name" not in output
