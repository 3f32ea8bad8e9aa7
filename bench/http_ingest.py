"""Scenario 2: HTTP ingest through ``sonar serve`` under a threaded httpx load generator.

``sonar serve`` runs as a subprocess on a free loopback port with SONAR_DATABASE_URL and
SONAR_DATABASE_SCHEMA naming a fresh schema. If the API offers ``POST /api/v1/auth/token``
a user is created with ``sonar users add`` and every request carries its bearer token;
otherwise the interim X-Actor-* headers are sent. Patients with open episodes are set up
through the application beforehand. The load generator shares the machine's cores with
the server and PostgreSQL, so figures are a floor. Beside SONAR in the same run:
``GET /health`` (one trivial SQL query per request) -- the HTTP stack's own ceiling here.
"""

from __future__ import annotations

import os
import secrets
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from uuid import UUID

import httpx

from bench.common import (
    ORG,
    SITE,
    Op,
    Result,
    Sizes,
    context,
    open_patient,
    p50,
    percentile,
    run_closed_loop,
    scratch_schema,
    settings_for,
    sonar_app,
)

USERNAME = "bench-http"
PATIENTS_PER_THREAD = 3
BODIES: tuple[tuple[str, dict[str, Any]], ...] = (
    ("risk-assessments", {"level": "medium", "risks": ["overdose", "opiate_withdrawal"]}),
    ("dual-diagnoses", {"status": "no"}),
    ("brief-interventions", {"intervention": "alcohol_brief_advice", "outcome": "completed"}),
)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _sonar_cli() -> list[str]:
    script = Path(sys.executable).parent / "sonar"
    return [str(script)] if script.exists() else [
        sys.executable, "-c", "import sys; from sonar.cli import main; sys.exit(main())"]


def _wait_healthy(base: str, server: subprocess.Popen[bytes], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            msg = f"sonar serve exited with {server.returncode}"
            raise RuntimeError(msg)
        try:
            if httpx.get(f"{base}/health", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    msg = "sonar serve did not become healthy within 60 s"
    raise RuntimeError(msg)


def _headers(base: str, env: dict[str, str]) -> tuple[dict[str, str], str]:
    paths = httpx.get(f"{base}/openapi.json", timeout=10).json().get("paths", {})
    if "/api/v1/auth/token" not in paths:
        return {"X-Actor-Id": "bench-sms-1", "X-Actor-Role": "sms_worker",
                "X-Actor-Organisation": ORG, "X-Actor-Site": SITE}, "X-Actor headers"
    password = secrets.token_urlsafe(24)
    added = subprocess.run([*_sonar_cli(), "users", "add", USERNAME, "--role", "sms_worker",
                            "--org", ORG, "--site", SITE, "--password-stdin"],
                           input=password + "\n", text=True, env=env, check=False,
                           capture_output=True, timeout=60)
    how = "bearer token (user from `sonar users add`)"
    if added.returncode != 0:  # the CLI command may not be registered yet: same code path
        _add_user_directly(env, password)
        how = "bearer token (user added via UserDirectory: `sonar users` not registered)"
    answer = httpx.post(f"{base}/api/v1/auth/token",
                        data={"username": USERNAME, "password": password}, timeout=30)
    answer.raise_for_status()
    return {"Authorization": f"Bearer {answer.json()['access_token']}"}, how


def _add_user_directly(env: dict[str, str], password: str) -> None:
    """What ``sonar users add`` does (sonar.cli.users), for a tree where it is not wired."""
    from sonar.auth.users import UserDirectory  # noqa: PLC0415 - only when needed
    from sonar.bootstrap import build_record_store  # noqa: PLC0415

    store = build_record_store(settings_for(env["SONAR_DATABASE_URL"],
                                            env["SONAR_DATABASE_SCHEMA"], pool_size=2))
    directory = UserDirectory(store)
    directory.add(USERNAME, password, role="sms_worker", organisation=ORG, site=SITE)
    store.close()


@dataclass(frozen=True)
class Served:
    base: str
    env: dict[str, str]
    server: subprocess.Popen[bytes]
    log_path: Path


@contextmanager
def sonar_served(url: str, schema: str, tmp: str, pool_size: int,
                 **extra_env: str) -> Iterator[Served]:
    """`sonar serve` on a free loopback port over ``schema``, healthy, until the block ends."""
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    env = {**os.environ, "SONAR_DATABASE_URL": url, "SONAR_DATABASE_SCHEMA": schema,
           "SONAR_AUTH_SECRET": secrets.token_urlsafe(48), "SONAR_LOG_LEVEL": "WARNING",
           "SONAR_DATA_DIR": tmp, "SONAR_POOL_SIZE": str(pool_size),
           "SONAR_ENVIRONMENT": "development", **extra_env}
    env.pop("SONAR_KAFKA_BOOTSTRAP", None)
    log_path = Path(tmp) / "serve.log"
    with log_path.open("wb") as server_log:
        server = subprocess.Popen([*_sonar_cli(), "serve", "--host", "127.0.0.1",
                                   "--port", str(port)], env=env, stdout=server_log,
                                  stderr=subprocess.STDOUT)
        try:
            _wait_healthy(base, server)
            yield Served(base, env, server, log_path)
        finally:
            server.terminate()
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait(timeout=10)


def run(url: str, sizes: Sizes, log: Callable[[str], None]) -> list[Result]:
    threads = sizes.http_threads
    with scratch_schema(url, "http") as schema, tempfile.TemporaryDirectory() as tmp:
        app = sonar_app(url, schema, pool_size=4)
        ctx = context(1)
        patients = [[open_patient(app, ctx, t * 100 + k) for k in range(PATIENTS_PER_THREAD)]
                    for t in range(threads)]
        app.close()
        with sonar_served(url, schema, tmp, threads + 6) as served:
            headers, auth = _headers(served.base, served.env)
            log(f"http: sonar serve on {served.base} ({auth}); {threads} client threads")
            results = [_load(served.base, headers, patients, sizes.http_seconds, auth),
                       _health(served.base, threads, sizes.http_seconds)]
        if results[0].extra.get("errors"):
            tail = served.log_path.read_text(errors="replace")[-600:]
            results[0].extra["server_log_tail"] = tail
    return results


def _load(base: str, headers: dict[str, str], patients: list[list[UUID]], seconds: float,
          auth: str) -> Result:
    ops: list[Op] = []
    clients: list[httpx.Client] = []
    for pids in patients:
        client = httpx.Client(base_url=base, headers=headers, timeout=30)
        clients.append(client)

        def op(i: int, c: httpx.Client = client, pids_: list[UUID] = pids) -> None:
            path, body = BODIES[i % len(BODIES)]
            answer = c.post(f"/api/v1/patients/{pids_[i % len(pids_)]}/episodes/1/{path}",
                            json=body)
            if answer.status_code != 201:
                msg = f"{answer.status_code} {answer.text[:200]}"
                raise RuntimeError(msg)
        ops.append(op)
    out = run_closed_loop(ops, seconds)
    for client in clients:
        client.close()
    return Result("http ingest", "SONAR POST (sonar serve)", out.rate, "req/s",
                  p50(out.latencies_ms), percentile(out.latencies_ms, 0.99), out.count,
                  {"threads": len(ops), "errors": out.errors, "first_error": out.first_error},
                  note=f"{auth}; 1 uvicorn process; load generator on the same 2 cores")


def _health_op(client: httpx.Client) -> Op:
    def op(_: int) -> None:
        client.get("/health").raise_for_status()
    return op


def _health(base: str, threads: int, seconds: float) -> Result:
    clients = [httpx.Client(base_url=base, timeout=30) for _ in range(threads)]
    ops: list[Op] = [_health_op(c) for c in clients]
    out = run_closed_loop(ops, min(seconds, 5.0))
    for client in clients:
        client.close()
    return Result("http ingest", "GET /health (HTTP stack ceiling)", out.rate, "req/s",
                  p50(out.latencies_ms), percentile(out.latencies_ms, 0.99), out.count,
                  {"threads": threads, "errors": out.errors})
