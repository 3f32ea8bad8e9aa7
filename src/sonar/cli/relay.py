"""`sonar relay` and `sonar worker`: the Kafka backbone's processes.

Kafka is optional: with ``SONAR_KAFKA_BOOTSTRAP`` unset SONAR runs embedded, and
``sonar worker --source log`` (the default) runs the in-process projection runner, which is
what ``sonar projections status`` reports on. ``--source kafka`` joins a consumer group
instead; its progress is per partition (``sonar worker --source kafka --status``), because
Kafka workers never move the runner's ``rm_meta`` positions. Run one source per read store:
switching from log to Kafka is seamless (workers skip what the runner applied), switching
back needs ``sonar projections rebuild``.
"""

from __future__ import annotations

import signal
import threading
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table

from sonar.config import Settings

if TYPE_CHECKING:
    from sonar.eventstore.application import SonarApplication
    from sonar.sqlstore.store import ReadStore

console = Console()


class Source(StrEnum):
    kafka = "kafka"
    log = "log"


def _stop_on_signals() -> threading.Event:
    """SIGINT/SIGTERM end the loop after the current batch, which then commits or not."""
    stop = threading.Event()
    for number in (signal.SIGINT, signal.SIGTERM):
        signal.signal(number, lambda *_: stop.set())
    return stop


def _bootstrap(settings: Settings) -> str:
    if not settings.kafka_bootstrap:
        typer.echo("SONAR_KAFKA_BOOTSTRAP is not set: Kafka is off "
                   "(try `python -m devtools.kafka start`).", err=True)
        raise typer.Exit(2)
    return settings.kafka_bootstrap


def relay(
    interval: Annotated[float, typer.Option(min=0.01, help="Seconds between polls of the log.")]
    = 0.5,
    once: Annotated[bool, typer.Option(help="Publish what is in the log now, then exit.")]
    = False,
) -> None:
    """Publish every care-record event to Kafka in log order (needs SONAR_KAFKA_BOOTSTRAP)."""
    from sonar.adapters.kafka.relay import KafkaRelay  # noqa: PLC0415
    from sonar.bootstrap import build_application, build_read_store  # noqa: PLC0415 - fast --help
    from sonar.observability import configure_logging  # noqa: PLC0415

    settings = Settings()
    bootstrap = _bootstrap(settings)
    configure_logging(settings.log_level, settings.log_format)
    store = build_read_store(settings)
    publisher = KafkaRelay(build_application(settings), store, bootstrap)
    try:
        if once:
            sent = publisher.run_once()
            typer.echo(f"Published {sent} events; relay position {publisher.position()}.")
            return
        publisher.run_forever(_stop_on_signals(), interval)
    finally:
        publisher.close()
        store.close()


def worker(
    source: Annotated[Source, typer.Option(help="log: the in-process runner; kafka: a "
                                                "consumer group on sonar.events.v1.")]
    = Source.log,
    group: Annotated[str, typer.Option(help="Kafka consumer group.")] = "sonar-projections",
    status: Annotated[bool, typer.Option(help="Print the group's offsets and lag, then exit "
                                              "(--source kafka).")] = False,
    interval: Annotated[float, typer.Option(min=0.01, help="Seconds between polls.")] = 0.5,
) -> None:
    """Keep the read models up to date, from the log in-process or from Kafka."""
    from sonar.bootstrap import (  # noqa: PLC0415 - fast --help
        build_application,
        build_log_listener,
        build_read_store,
        build_runner,
    )
    from sonar.cli.runtime import tune_gc  # noqa: PLC0415
    from sonar.observability import configure_logging  # noqa: PLC0415

    settings = Settings()
    configure_logging(settings.log_level, settings.log_format)
    application = build_application(settings)
    store = build_read_store(settings)
    tune_gc()
    try:
        if source is Source.log:
            runner = build_runner(settings, application, store, worker=True)
            runner.migrate()
            listener = build_log_listener(settings, application)
            stop = _stop_on_signals()
            try:
                runner.run_forever(stop, interval, (lambda t: listener.wait(t, stop))
                                   if listener else None)
            finally:
                if listener:
                    listener.close()
            return
        _kafka_worker(settings, application, store, group, interval, status=status)
    finally:
        store.close()


def _kafka_worker(settings: Settings, application: SonarApplication, store: ReadStore,
                  group: str, interval: float, *, status: bool) -> None:
    from sonar.adapters.kafka.worker import KafkaProjectionWorker  # noqa: PLC0415

    consumer = KafkaProjectionWorker(application, store, _bootstrap(settings), group_id=group,
                                     replica_cache_size=settings.replica_cache_size)
    if status:
        table = Table("partition", "next offset", "end offset", "lag")
        for row in consumer.status():
            table.add_row(str(row.partition), str(row.next_offset), str(row.end_offset),
                          str(row.lag))
        console.print(table)
        return
    try:
        consumer.run_forever(_stop_on_signals(), interval)
    finally:
        consumer.close()
