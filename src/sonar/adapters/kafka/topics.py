"""Topic names and creation, shared by the relay and the projection workers.

Topics are created explicitly (not by the broker's auto-create) so that the partition count,
which bounds how many projection workers can share the load, is chosen by SONAR.
"""

from __future__ import annotations

import contextlib
import time
from typing import Any

import kafka  # type: ignore[import-untyped]
import kafka.errors  # type: ignore[import-untyped]
from kafka.admin import NewTopic  # type: ignore[import-untyped]

EVENTS_TOPIC = "sonar.events.v1"
ALERTS_TOPIC = "sonar.alerts.v1"
DEFAULT_PARTITIONS = 6  # the most projection workers one group can keep busy
DEFAULT_REPLICATION = 1  # the development/CI broker is a single node
TOPIC_READY_SECONDS = 30.0
RECONNECT_BACKOFF_MAX_MS = 5000  # a restarted broker is picked up within seconds, not 30 s


# The events topic is a full copy of the log: a new worker group (or a rebuilt service) reads
# it from the first event, so it is never trimmed by age or size.
KEEP_FOREVER = {"retention.ms": "-1", "retention.bytes": "-1"}


def ensure_topics(bootstrap: str, topics: list[str], *, partitions: int = DEFAULT_PARTITIONS,
                  replication: int = DEFAULT_REPLICATION, client_id: str = "sonar-admin",
                  configs: dict[str, dict[str, str]] | None = None) -> None:
    """Create whichever of ``topics`` is missing (``configs`` per topic name); an existing
    topic is left as it is."""
    admin = kafka.KafkaAdminClient(bootstrap_servers=bootstrap, client_id=client_id)
    try:
        missing = [t for t in topics if t not in set(admin.list_topics())]
        for topic in missing:  # one by one: a racing creator must not hide the others
            with contextlib.suppress(kafka.errors.TopicAlreadyExistsError):
                admin.create_topics([NewTopic(
                    topic, num_partitions=partitions, replication_factor=replication,
                    topic_configs=(configs or {}).get(topic, {}))])
        _wait_until_led(admin, dict.fromkeys(missing, partitions))
    finally:
        admin.close()


def _wait_until_led(admin: Any, topics: dict[str, int],
                    timeout: float = TOPIC_READY_SECONDS) -> None:
    """Return once each new topic shows all its partitions, each with a leader.

    A consumer group that forms while a new topic is still half-visible assigns only the
    partitions it can see, and does not look again for minutes (metadata max age).
    """
    deadline = time.monotonic() + timeout
    while topics:
        described = admin.describe_topics(list(topics))
        if all(t.get("error_code", 0) == 0 and len(t["partitions"]) == topics[t["name"]]
               and all(p.get("leader_id", p.get("leader", -1)) >= 0 for p in t["partitions"])
               for t in described):
            return
        if time.monotonic() > deadline:
            raise kafka.errors.KafkaTimeoutError(f"topics {topics} have no leaders yet")
        time.sleep(0.1)
