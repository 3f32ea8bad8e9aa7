"""A real Apache Kafka broker for the tests, started once per session.

``kafka_bootstrap`` is ``127.0.0.1:PORT``. It reuses ``SONAR_TEST_KAFKA_BOOTSTRAP`` when that is
set and answers metadata; otherwise it starts a single-node KRaft broker from the Maven jars
(``devtools.kafka_broker``; the first run on a machine fetches them with ``mvn``) and
stops it when the session ends. If no broker can be had the Kafka tests are skipped, unless
``SONAR_REQUIRE_KAFKA=1`` (CI), which makes that a failure.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from devtools.kafka_broker import KafkaBroker, KafkaBrokerError, broker_ready


@pytest.fixture(scope="session")
def kafka_bootstrap() -> Iterator[str]:
    given = os.environ.get("SONAR_TEST_KAFKA_BOOTSTRAP", "").strip()
    if given and broker_ready(given, timeout_ms=10_000):
        yield given
        return
    broker = KafkaBroker()  # jars from $SONAR_KAFKA_HOME or ~/.cache/sonar/kafka; temp data
    try:
        bootstrap = broker.start(timeout=180)
    except (KafkaBrokerError, OSError) as error:
        broker.stop()
        unreachable = f"SONAR_TEST_KAFKA_BOOTSTRAP={given} does not answer; " if given else ""
        message = f"{unreachable}no Kafka broker could be started: {error}"
        if os.environ.get("SONAR_REQUIRE_KAFKA") == "1":
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    try:
        yield bootstrap
    finally:
        broker.stop()
