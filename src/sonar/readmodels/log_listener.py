"""Waking a projector in another process the moment the event log grows.

Every insert into the PostgreSQL event table also sends ``NOTIFY <channel>`` (the
eventsourcing recorder does it in the inserting transaction, so the notice arrives only
after the commit). A projector that runs apart from the API (``sonar worker``) listens on
its own connection, so it catches up at once instead of on its next poll. Notices are a
hint only: the projector still reads positions from the log, and polls anyway.
"""

from __future__ import annotations

import threading
import time

import psycopg
import structlog

log = structlog.get_logger("sonar.readmodels")


class LogListener:
    def __init__(self, url: str, channel: str) -> None:
        self.url, self.channel = url, channel
        self._conn: psycopg.Connection[tuple[object, ...]] | None = None

    SLICE = 0.25  # seconds: how soon a stop request is noticed while waiting

    def wait(self, timeout: float, stop: threading.Event | None = None) -> bool:
        """Block until the log grows (True), ``timeout`` passes or ``stop`` is set (False)."""
        stop = stop or threading.Event()
        deadline = time.monotonic() + timeout
        while not stop.is_set() and (remaining := deadline - time.monotonic()) > 0:
            try:
                conn = self._connect()
                if any(True for _ in conn.notifies(timeout=min(self.SLICE, remaining),
                                                   stop_after=1)):
                    return True
            except psycopg.Error as exc:  # the server went away: poll until it is back
                log.warning("log_listener_lost", error_type=type(exc).__name__)
                self.close()
                stop.wait(min(1.0, remaining))
        return False

    def _connect(self) -> psycopg.Connection[tuple[object, ...]]:
        if self._conn is None or self._conn.closed:
            self._conn = psycopg.connect(self.url, autocommit=True, connect_timeout=5)
            self._conn.execute(f'LISTEN "{self.channel}"')
        return self._conn

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None
