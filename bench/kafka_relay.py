"""Relay throughput (events/s) against a raw kafka-python producer, same broker, same run.

Why this comparison: the raw producer is the ceiling for this client library on this broker;
the ratio shows what the relay's guarantees cost (reading the log, decoding each event for
its envelope and alerts, waiting for ``acks=all`` per batch, saving the position). The raw
producer sends the relay's own envelopes (same keys, same bytes, same count) with the same
producer settings, to a fresh topic of the same shape.

    python -m bench.kafka_relay --events 20000            # temporary SQLite store
    python -m bench.kafka_relay --events 20000 --database-url postgresql://...

Uses ``SONAR_KAFKA_BOOTSTRAP`` when set, else starts a broker of its own. ``measure(url,
events)`` is the entry point of the bench harness (``bench/relay.py``).
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import kafka  # type: ignore[import-untyped]
from devtools.kafka_broker import KafkaBroker

from bench.common import build_records_in_bulk, scratch_schema
from sonar.adapters.kafka.envelope import envelope_of, is_published
from sonar.adapters.kafka.relay import KafkaRelay, producer_config
from sonar.adapters.kafka.topics import ensure_topics
from sonar.bootstrap import build_application, build_read_store
from sonar.config import Settings

EVENTS_PER_PATIENT = 20


@contextmanager
def broker() -> Iterator[str]:
    given = os.environ.get("SONAR_KAFKA_BOOTSTRAP")
    if given:
        yield given
        return
    own = KafkaBroker()
    try:
        yield own.start(timeout=180)
    finally:
        own.stop()


def seed(settings: Settings, events: int) -> int:
    app = build_application(settings)
    patients = max(1, events // EVENTS_PER_PATIENT)
    return build_records_in_bulk(app, patients, EVENTS_PER_PATIENT)


def relay_rate(settings: Settings, bootstrap: str) -> tuple[int, float]:
    app = build_application(settings)
    store = build_read_store(settings)
    relay = KafkaRelay(app, store, bootstrap, f"bench.relay.{uuid.uuid4().hex[:8]}",
                       alerts_topic=f"bench.alerts.{uuid.uuid4().hex[:8]}", batch_size=2000)
    relay.ensure_ready()
    try:
        started = time.perf_counter()
        sent = relay.run_once()
        return sent, time.perf_counter() - started
    finally:
        relay.close()
        store.close()


def envelopes(settings: Settings) -> list[tuple[bytes, bytes]]:
    """The relay's messages, prepared up front (untimed) for the raw producer."""
    app = build_application(settings)
    found: list[tuple[bytes, bytes]] = []
    start = 1
    while True:
        batch = app.recorder.select_notifications(start=start, limit=5000)
        if not batch:
            return found
        found += [(str(n.originator_id).encode(),
                   envelope_of(app, n, app.mapper.to_domain_event(n)))
                  for n in batch if is_published(n)]
        start = batch[-1].id + 1


def raw_rate(bootstrap: str, messages: list[tuple[bytes, bytes]]) -> float:
    topic = f"bench.raw.{uuid.uuid4().hex[:8]}"
    ensure_topics(bootstrap, [topic])
    producer: Any = kafka.KafkaProducer(**producer_config(bootstrap, "bench-raw", 30.0))
    try:
        started = time.perf_counter()
        futures = [producer.send(topic, key=key, value=value) for key, value in messages]
        producer.flush(timeout=120)
        for future in futures:
            future.get(timeout=5)
        return time.perf_counter() - started
    finally:
        producer.close(timeout=30)


def run(settings: Settings, events: int) -> dict[str, Any]:
    written = seed(settings, events)
    with broker() as bootstrap:
        messages = envelopes(settings)
        raw_seconds = raw_rate(bootstrap, messages)
        sent, relay_seconds = relay_rate(settings, bootstrap)
    size = sum(len(v) for _, v in messages) / max(1, len(messages))
    relay_eps, raw_eps = sent / relay_seconds, len(messages) / raw_seconds
    return {"events": written, "sent": sent, "message_bytes": size,
            "relay_seconds": relay_seconds, "raw_seconds": raw_seconds,
            "events_per_s": relay_eps, "raw_events_per_s": raw_eps,
            "ratio": relay_eps / raw_eps,
            "note": f"raw kafka-python {raw_eps:,.0f} msg/s; relay/raw {relay_eps / raw_eps:.2f}"}


def measure(url: str, events: int) -> dict[str, Any]:
    """The bench harness's entry point: the log on PostgreSQL at ``url``."""
    with scratch_schema(url, "relay") as schema:
        return run(Settings(database_url=url, database_schema=schema, pool_size=8), events)


def table(figures: dict[str, Any], store: str) -> str:
    rows = [("SONAR relay", figures["sent"], figures["relay_seconds"], figures["events_per_s"]),
            ("raw kafka-python producer", figures["sent"], figures["raw_seconds"],
             figures["raw_events_per_s"])]
    lines = [f"store: {store}; {figures['events']} events written; mean message "
             f"{figures['message_bytes']:.0f} bytes; acks=all, idempotent, linger 5 ms",
             f"{'':28}{'messages':>10}{'seconds':>10}{'events/s':>12}"]
    lines += [f"{name:28}{count:>10}{seconds:>10.2f}{rate:>12,.0f}"
              for name, count, seconds, rate in rows]
    lines.append(f"relay / raw: {figures['ratio']:.2f}")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--database-url", default=None,
                        help="PostgreSQL URL (a scratch schema is used); SQLite if omitted")
    args = parser.parse_args()
    if args.database_url:
        figures = measure(args.database_url, args.events)
        print(table(figures, "PostgreSQL"))
        return
    with tempfile.TemporaryDirectory(prefix="sonar-bench-relay-") as folder:
        figures = run(Settings(data_dir=Path(folder)), args.events)
    print(table(figures, "SQLite (temporary)"))


if __name__ == "__main__":
    main()
