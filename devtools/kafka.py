"""`python -m devtools.kafka start|stop|status`: a real single-node Kafka broker for development.

The broker runs detached (it outlives the command) and is recorded in
``$SONAR_KAFKA_HOME/dev-broker.json``; its data lives in ``$SONAR_KAFKA_HOME/dev`` and survives
a stop and start unless ``--fresh`` is given. Point SONAR at it with
``export SONAR_KAFKA_BOOTSTRAP=$(python -m devtools.kafka status --quiet)``.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Annotated

import typer

kafka_cli = typer.Typer(help="A local Apache Kafka broker (KRaft, single node, loopback only).",
                        no_args_is_help=True, pretty_exceptions_enable=False)

STATE_FILE_NAME = "dev-broker.json"
DATA_DIR_NAME = "dev"


def _home() -> Path:
    from devtools.kafka_broker import default_home  # noqa: PLC0415 - keep `--help` fast

    return default_home()


@kafka_cli.command()
def start(
    timeout: Annotated[float, typer.Option(help="Seconds to wait for the broker.")] = 120.0,
    fresh: Annotated[bool, typer.Option(help="Discard topics and offsets kept from before.")]
    = False,
) -> None:
    """Start the broker in the background (the first run fetches its jars with Maven)."""
    from devtools.kafka_broker import KafkaBroker, KafkaBrokerError  # noqa: PLC0415

    home = _home()
    state_file = home / STATE_FILE_NAME
    previous = KafkaBroker.from_state(state_file, home)
    if previous is not None and previous.is_running():
        typer.echo(f"Kafka is already running on {previous.bootstrap} (pid {previous.pid}).")
        return
    data_dir = home / DATA_DIR_NAME
    if fresh:
        shutil.rmtree(data_dir, ignore_errors=True)
    broker = KafkaBroker(home, data_dir=data_dir, state_file=state_file, detached=True)
    typer.echo("Starting Kafka (the first start downloads its jars with Maven)...")
    try:
        bootstrap = broker.start(timeout=timeout)
    except KafkaBrokerError as error:
        typer.echo(str(error), err=True)
        raise typer.Exit(1) from error
    typer.echo(f"Kafka is running on {bootstrap} (pid {broker.pid}); log {broker.log_file}")
    typer.echo(f"  export SONAR_KAFKA_BOOTSTRAP={bootstrap}")


@kafka_cli.command()
def stop() -> None:
    """Stop the broker that `start` left running (SIGTERM, then SIGKILL after 30 s)."""
    from devtools.kafka_broker import KafkaBroker  # noqa: PLC0415

    home = _home()
    broker = KafkaBroker.from_state(home / STATE_FILE_NAME, home)
    if broker is None or not broker.is_running():
        if broker is not None:
            broker.stop(remove_data=False)  # drop the stale record
        typer.echo("Kafka is not running.")
        return
    pid = broker.pid
    broker.stop(remove_data=False)
    typer.echo(f"Kafka stopped (pid {pid}).")


@kafka_cli.command()
def status(
    quiet: Annotated[bool, typer.Option("--quiet", "-q",
                                        help="Print only the bootstrap address.")] = False,
) -> None:
    """Print the bootstrap address if the broker is running; exit 1 if it is not."""
    from devtools.kafka_broker import KafkaBroker, broker_ready  # noqa: PLC0415

    home = _home()
    broker = KafkaBroker.from_state(home / STATE_FILE_NAME, home)
    if broker is None or not broker.is_running():
        if not quiet:
            typer.echo("Kafka is not running.")
        raise typer.Exit(1)
    if quiet:
        typer.echo(broker.bootstrap)
        return
    answering = "answering" if broker_ready(broker.bootstrap) else "NOT answering metadata yet"
    typer.echo(f"Kafka is running on {broker.bootstrap} (pid {broker.pid}, {answering}); "
               f"log {broker.log_file}")


if __name__ == "__main__":
    kafka_cli()
