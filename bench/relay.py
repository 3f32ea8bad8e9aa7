"""Scenario 7: Kafka relay events/s, measured by ``bench/kafka_relay.py`` when present.

That module belongs to the engineer who owns the Kafka relay; this harness only imports
it. It is used if it exposes ``measure(url: str, events: int) -> dict`` returning at least
``{"events_per_s": float}`` (and optionally ``"note"``) -- otherwise this scenario reports
a clear "not measured" row rather than guessing at another module's interface.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable
from typing import Any

from bench.common import Result, Sizes


def run(url: str, sizes: Sizes, log: Callable[[str], None]) -> list[Result]:
    try:
        module: Any = importlib.import_module("bench.kafka_relay")
    except ImportError as exc:
        log(f"relay: not measured ({exc})")
        return [Result("kafka relay", "SONAR relay", None, "ev/s",
                       note="not measured: bench/kafka_relay.py is not present")]
    measure = getattr(module, "measure", None)
    if not callable(measure):
        names = sorted(n for n in dir(module) if not n.startswith("_"))
        return [Result("kafka relay", "SONAR relay", None, "ev/s",
                       note="not measured: bench/kafka_relay.py has no "
                            f"measure(url, events); it has {', '.join(names)[:120]}")]
    if sizes.quick and not os.environ.get("SONAR_KAFKA_BOOTSTRAP"):
        return [Result("kafka relay", "SONAR relay", None, "ev/s",
                       note="not measured in --quick: starting a Kafka broker takes too long; "
                            "set SONAR_KAFKA_BOOTSTRAP or run without --quick")]
    events = max(100, sizes.catchup_events // 10)
    log(f"relay: bench.kafka_relay.measure({events} events)")
    figures = measure(url, events)
    sent = int(figures.get("sent", events))
    results = [Result("kafka relay", "SONAR relay (acks=all)", float(figures["events_per_s"]),
                      "ev/s", count=sent, note=str(figures.get("note", "")))]
    if "raw_events_per_s" in figures:
        results.append(Result("kafka relay", "raw kafka-python producer",
                              float(figures["raw_events_per_s"]), "msg/s", count=sent,
                              note="same envelopes, same producer settings"))
    return results
