"""The relay: carries SONAR's event log, in log order, to Kafka (at least once, never lost).

PostgreSQL (or SQLite) stays the system of record; Kafka is a copy that other services and
scale-out projection workers read. Each care-record event goes to ``sonar.events.v1`` keyed by
patient id, so one patient's events share a partition and stay in order; events an agency must
act on also raise a message on ``sonar.alerts.v1`` (see :mod:`sonar.adapters.kafka.alerts`).

Why it cannot lose an event: the relay's position (the last log position handed over) lives
in the read store table ``relay_position`` and is saved only after the broker acknowledged
every message of the batch (``acks=all``, flush, then every send's future checked). If the
broker is down or a send fails, the batch raises :class:`RelayError`, the position stays
where it was, the producer is dropped, and the next run re-sends from there.

Why duplicates are harmless and rare: the producer is idempotent, so the broker's own retries
never duplicate. A duplicate can appear only when the relay stops after the broker acknowledged
a batch but before its position was saved; the batch is then re-sent, and consumers drop it by
event id (``<patient id>:<version>``; the projection worker keeps each patient's last applied
version). Order per partition holds with up to 5 requests in flight because idempotence makes
the broker reject out-of-sequence batches and the client retry them in order.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

import kafka  # type: ignore[import-untyped]
import kafka.errors  # type: ignore[import-untyped]
import structlog
from eventsourcing.persistence import Notification

from sonar.adapters.kafka.alerts import alerts_for
from sonar.adapters.kafka.envelope import encrypted, envelope_of, is_published
from sonar.adapters.kafka.topics import (
    ALERTS_TOPIC,
    DEFAULT_PARTITIONS,
    EVENTS_TOPIC,
    KEEP_FOREVER,
    RECONNECT_BACKOFF_MAX_MS,
)
from sonar.adapters.kafka.topics import ensure_topics as create_topics
from sonar.domain.care_record import CareRecord
from sonar.eventstore.application import SonarApplication
from sonar.sqlstore.store import ReadStore, ddl

log = structlog.get_logger("sonar.relay")

FLUSH_MARGIN_SECONDS = 5.0  # beyond the delivery timeout, so sends end with their own error
RELAY_DDL = ("CREATE TABLE IF NOT EXISTS relay_position (relay TEXT PRIMARY KEY, "
             "position {bigint} NOT NULL)")


class RelayError(RuntimeError):
    """The broker did not acknowledge a batch; the relay's position was not advanced."""


def producer_config(bootstrap: str, client_id: str, ack_timeout: float) -> dict[str, Any]:
    """Durable, ordered, de-duplicated sends (shared with the benchmark's raw producer).

    A send not acknowledged within ``ack_timeout`` fails (``delivery_timeout_ms``) instead of
    being retried for minutes: the relay re-sends it from its saved position anyway, and a
    producer holding expired batches can then be closed without the broker.
    """
    delivery_ms = int(ack_timeout * 1000)
    return {
        "bootstrap_servers": bootstrap, "client_id": client_id,
        "acks": "all", "enable_idempotence": True,
        "max_in_flight_requests_per_connection": 5,  # ordered: idempotence sequences batches
        "linger_ms": 5, "batch_size": 256 * 1024,
        "delivery_timeout_ms": delivery_ms, "request_timeout_ms": max(500, delivery_ms * 3 // 4),
        "max_block_ms": delivery_ms,
        "reconnect_backoff_max_ms": RECONNECT_BACKOFF_MAX_MS,
    }


class KafkaRelay:
    """Publishes every care-record event after the relay's saved position, batch by batch."""

    def __init__(self, app: SonarApplication, read_store: ReadStore, bootstrap: str,
                 topic: str = EVENTS_TOPIC, *, alerts_topic: str = ALERTS_TOPIC,
                 name: str = "sonar", batch_size: int = 1000, ack_timeout: float = 30.0,
                 partitions: int = DEFAULT_PARTITIONS) -> None:
        self.app, self.store, self.bootstrap = app, read_store, bootstrap
        self.topic, self.alerts_topic, self.name = topic, alerts_topic, name
        self.batch_size, self.ack_timeout, self.partitions = batch_size, ack_timeout, partitions
        self._producer: Any = None
        self._ready = False
        self.failed_batches = 0  # batches the broker did not acknowledge (then re-sent)

    # --- setup -----------------------------------------------------------------------------

    def ensure_ready(self) -> None:
        """The position table and both topics exist (idempotent; done once per relay)."""
        if self._ready:
            return
        with self.store.transaction() as tx:
            tx.execute(ddl(RELAY_DDL, self.store.dialect))
        create_topics(self.bootstrap, [self.topic, self.alerts_topic],
                      partitions=self.partitions, client_id=f"{self.name}-relay-admin",
                      configs={self.topic: KEEP_FOREVER})
        self._ready = True

    def position(self) -> int:
        """The last log position the broker acknowledged (0 before the first batch)."""
        with self.store.transaction() as tx:
            tx.execute(ddl(RELAY_DDL, self.store.dialect))
            rows = tx.fetchall("SELECT position FROM relay_position WHERE relay = ?",
                               [self.name])
        return int(rows[0]["position"]) if rows else 0

    def _save_position(self, position: int) -> None:
        with self.store.transaction() as tx:
            tx.execute("INSERT INTO relay_position (relay, position) VALUES (?, ?) "
                       "ON CONFLICT (relay) DO UPDATE SET position = excluded.position",
                       [self.name, position])

    def _producer_now(self) -> Any:
        if self._producer is None:
            self._producer = kafka.KafkaProducer(
                **producer_config(self.bootstrap, f"{self.name}-relay", self.ack_timeout))
        return self._producer

    # --- relaying --------------------------------------------------------------------------

    def run_once(self) -> int:
        """Publish everything up to the log's head now; return how many events were sent."""
        self.ensure_ready()
        head = self.app.position()
        position = self.position()
        published = 0
        while position < head:
            notifications = self.app.recorder.select_notifications(
                start=position + 1, limit=self.batch_size, stop=head)
            if not notifications:
                break
            published += self._publish(notifications)
            position = notifications[-1].id
            self._save_position(position)  # only now: every message of it was acknowledged
        return published

    def _publish(self, notifications: Sequence[Notification]) -> int:
        producer = self._producer_now()
        include_details = not encrypted(self.app)
        futures = []
        try:
            for notification in notifications:
                if not is_published(notification):
                    continue
                event = self.app.mapper.to_domain_event(notification)
                key = str(notification.originator_id).encode("ascii")
                futures.append(producer.send(self.topic, key=key,
                                             value=envelope_of(self.app, notification, event)))
                if isinstance(event, CareRecord.Event):
                    for alert in alerts_for(self.app, notification.id, event):
                        futures.append(producer.send(
                            self.alerts_topic, key=key,
                            value=alert.to_json(include_details=include_details)))
            producer.flush(timeout=self.ack_timeout + FLUSH_MARGIN_SECONDS)
            for future in futures:
                future.get(timeout=FLUSH_MARGIN_SECONDS)  # done by now: raises its error
        except kafka.errors.KafkaError as error:
            self._drop_producer()
            raise RelayError(f"the broker did not acknowledge events from position "
                             f"{notifications[0].id}: {type(error).__name__}: {error}"
                             ) from error
        return sum(1 for n in notifications if is_published(n))

    def _drop_producer(self) -> None:
        """Discard unsent messages: they are re-sent from the saved position, in order."""
        producer, self._producer = self._producer, None
        if producer is not None:
            try:
                producer.close(timeout=self.ack_timeout)  # unsent batches expire meanwhile
            except kafka.errors.KafkaError as error:  # closing a broken producer may complain
                log.warning("relay_producer_close_failed", error_type=type(error).__name__)

    def run_forever(self, stop: threading.Event, interval: float = 0.5) -> None:
        """Relay until ``stop`` is set; a failed batch is retried after a short pause."""
        while not stop.is_set():
            try:
                sent = self.run_once()
            except (RelayError, kafka.errors.KafkaError) as error:
                self.failed_batches += 1
                log.error("relay_error", error=str(error))
                self._drop_producer()
                stop.wait(max(interval, 1.0))
                continue
            if sent:
                log.info("relay_published", events=sent, position=self.position())
            stop.wait(interval)

    def close(self) -> None:
        producer, self._producer = self._producer, None
        if producer is not None:
            producer.close(timeout=self.ack_timeout)
