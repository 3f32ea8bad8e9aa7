"""Fixtures for fault tests: a PostgreSQL cluster of the test's own, and a live HTTP server.

The shared cluster of ``scripts/pg-up`` (127.0.0.1:54329) serves everybody's concurrent test
runs, so nothing here ever kills its connections, restarts it or makes it read-only: the
faults are injected into a private cluster (``scripts/pg-up`` with ``SONAR_PG_DIR`` and
``SONAR_PG_PORT`` pointing elsewhere), started once per module and stopped afterwards.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
import uvicorn
from fastapi import FastAPI
from pydantic import SecretStr

from sonar.config import Settings
from tests.conftest import postgres_url
from tests.e2e.auth_helpers import SECRET

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _as_server_user(argv: list[str]) -> list[str]:
    """pg_ctl refuses to run as root; scripts/pg-up runs the cluster as ``postgres`` then."""
    return ["runuser", "-u", "postgres", "--", *argv] if os.geteuid() == 0 else argv


class PrivatePostgres:
    """A throwaway PostgreSQL cluster that a test may kill, restart, fill or freeze."""

    def __init__(self) -> None:
        self.dir = Path(f"/tmp/sonar-reliability-{uuid.uuid4().hex[:10]}")  # noqa: S108
        self.port = free_port()
        self.mounts: list[Path] = []
        env = {k: v for k, v in os.environ.items() if k != "SONAR_TEST_DATABASE_URL"}
        env |= {"SONAR_PG_DIR": str(self.dir), "SONAR_PG_PORT": str(self.port)}
        done = subprocess.run([str(ROOT / "scripts" / "pg-up")], env=env, check=False,  # noqa: S603
                              capture_output=True, text=True, timeout=180)
        if done.returncode != 0:
            raise RuntimeError(f"pg-up failed: {done.stderr[-2000:]}")
        self.url = done.stdout.strip()
        version = (self.dir / "data" / "PG_VERSION").read_text().strip()
        self.bin = Path(f"/usr/lib/postgresql/{version}/bin")

    def url_for(self, database: str) -> str:
        return self.url.rsplit("/", 1)[0] + "/" + database

    def admin(self, sql: str, params: tuple[Any, ...] = (), database: str = "postgres",
              ) -> list[tuple[Any, ...]]:
        with psycopg.connect(self.url_for(database), autocommit=True, connect_timeout=10,
                             application_name="reliability-admin") as conn:
            cursor = conn.execute(sql, params)  # type: ignore[arg-type]
            return cursor.fetchall() if cursor.description else []

    def new_database(self) -> str:
        name = f"rel_{uuid.uuid4().hex[:10]}"
        self.admin(f"CREATE DATABASE {name} OWNER sonar")
        return name

    def terminate(self, database: str) -> int:
        """pg_terminate_backend on every client connection to ``database``; how many."""
        rows = self.admin(
            "SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = %s AND pid <> pg_backend_pid() AND backend_type = 'client backend'",
            (database,))
        return int(rows[0][0])

    def pg_ctl(self, *args: str, timeout: float = 60) -> None:
        subprocess.run(_as_server_user([str(self.bin / "pg_ctl"), "-D", str(self.dir / "data"),  # noqa: S603
                                        *args]),
                       check=True, capture_output=True, timeout=timeout, cwd="/")

    def restart(self) -> None:
        self.pg_ctl("-m", "fast", "-w", "-t", "30", "-l", str(self.dir / "postgres.log"),
                    "restart")

    def mount_tmpfs(self, name: str, size: str) -> Path:
        """A tiny filesystem owned by the server user (a tablespace that can fill up)."""
        where = self.dir.with_name(self.dir.name + "-" + name)
        where.mkdir()
        subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size},mode=0700", "tmpfs",  # noqa: S603, S607
                        str(where)], check=True, capture_output=True, timeout=30)
        self.mounts.append(where)
        if os.geteuid() == 0:
            shutil.chown(where, "postgres", "postgres")
        return where

    def stop(self) -> None:
        with contextlib.suppress(subprocess.SubprocessError):
            self.pg_ctl("-m", "immediate", "-w", "stop")
        for where in self.mounts:
            subprocess.run(["umount", "-l", str(where)], check=False, capture_output=True,  # noqa: S603, S607
                           timeout=30)
            shutil.rmtree(where, ignore_errors=True)
        shutil.rmtree(self.dir, ignore_errors=True)
        Path(f"{self.dir}.lock").unlink(missing_ok=True)


@pytest.fixture(scope="module")
def private_pg() -> Iterator[PrivatePostgres]:
    postgres_url()  # skip (or fail, under SONAR_REQUIRE_POSTGRES=1) like the other PG tests
    try:
        cluster = PrivatePostgres()
    except (RuntimeError, OSError, subprocess.SubprocessError) as error:
        if os.environ.get("SONAR_REQUIRE_POSTGRES") == "1":
            pytest.fail(f"could not start a private PostgreSQL cluster: {error}")
        pytest.skip(f"could not start a private PostgreSQL cluster: {error}")
    try:
        yield cluster
    finally:
        cluster.stop()


def settings_on(url: str, schema: str | None = None, **changes: Any) -> Settings:
    return Settings(database_url=url, database_schema=schema, auth_secret=SecretStr(SECRET),
                    **{"pool_size": 4, **changes})


class LiveServer:
    """The app under uvicorn on a loopback port, in a thread of this process."""

    def __init__(self, app: FastAPI) -> None:
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning",
                                access_log=False, lifespan="off")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, name="live-uvicorn",
                                       daemon=True)

    def __enter__(self) -> LiveServer:
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.02)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=15)
