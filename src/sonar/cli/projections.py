"""`sonar migrate` and `sonar projections status|rebuild`: operating the read models."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    Progress,
    TaskID,
    TaskProgressColumn,
    TextColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from sonar.config import Settings

if TYPE_CHECKING:
    from sonar.readmodels.runner import ProjectionRunner

projections_cli = typer.Typer(help="Read models: status and rebuild.", no_args_is_help=True)
console = Console()


def _runner(settings: Settings | None = None) -> ProjectionRunner:
    from sonar.bootstrap import build_application, build_runner  # noqa: PLC0415 - fast --help
    from sonar.cli.runtime import tune_gc  # noqa: PLC0415

    settings = settings or Settings()
    runner = build_runner(settings, build_application(settings))
    tune_gc()
    return runner


def migrate() -> None:
    """Create or upgrade read-model tables (a changed schema is rebuilt from the log), and
    the records' store (users, access log, outbox, checkpoints)."""
    from sonar.bootstrap import build_record_store  # noqa: PLC0415

    settings = Settings()
    runner = _runner(settings)
    runner.migrate()
    position = runner.catch_up()
    build_record_store(settings).close()
    typer.echo(f"Read models migrated and caught up to position {position}; records' store "
               "ready.")


@projections_cli.command()
def status() -> None:
    """Position and lag (events and seconds) of each read model."""
    runner = _runner()
    table = Table("projection", "state", "version", "generation", "position", "head",
                  "lag (events)", "lag (s)")
    statuses = runner.status()
    for s in statuses:
        table.add_row(s.name, s.state, str(s.version), str(s.generation), str(s.position),
                      str(s.head), str(s.lag_events), f"{s.lag_seconds:.1f}")
    console.print(table)
    for s in statuses:
        if s.failure is not None:
            console.print(f"{s.name} is degraded: it cannot apply the event at position "
                          f"{s.failure.position} ({s.failure.error}). Fix the cause, then run "
                          "`sonar projections retry`.")


@projections_cli.command()
def retry(name: Annotated[str | None, typer.Argument(
        help="One degraded read model; every degraded one if omitted.")] = None) -> None:
    """Resume degraded read models: clear their recorded failure and catch up (a model that
    still cannot apply its event is recorded as degraded again)."""
    runner = _runner()
    failed = runner.failures()
    if name is not None and name not in failed:
        raise typer.BadParameter(f"{name!r} is not degraded; degraded: "
                                 f"{', '.join(failed) or 'none'}")
    position = runner.retry([name] if name else None)
    still = runner.failures()
    for model, failure in still.items():
        typer.echo(f"{model}: still degraded at position {failure.position} ({failure.error}).")
    typer.echo(f"Read models caught up to position {position}.")
    if still:
        raise typer.Exit(1)


@projections_cli.command()
def rebuild(name: Annotated[str | None, typer.Argument(
        help="One read model (record, caseload, outcomes, continuity, timeline); all if "
             "omitted.")] = None) -> None:
    """Replay the log into fresh tables; readers see the old model until the swap. Every
    model is rebuilt in one pass over the log (split between SONAR_REBUILD_WORKERS
    processes on PostgreSQL)."""
    runner = _runner()
    runner.migrate()
    names = [p.name for p in runner.projections]
    if name is not None and name not in names:
        raise typer.BadParameter(f"unknown read model {name!r}; one of {', '.join(names)}")
    targets = [name] if name else names
    label = name or "every read model"
    with Progress(TextColumn(f"rebuilding {label}"), BarColumn(), TaskProgressColumn(),
                  TextColumn("{task.completed:.0f}/{task.total:.0f} events"),
                  TextColumn("{task.fields[rate]} events/s"), TimeRemainingColumn(),
                  console=console) as progress:
        task = progress.add_task(label, total=max(1, runner.app.position()), rate="-")
        started = time.monotonic()

        def advance(position: int, head: int, task: TaskID = task,
                    started: float = started) -> None:
            rate = position / max(time.monotonic() - started, 1e-6)
            progress.update(task, completed=position, total=max(1, head), rate=f"{rate:,.0f}")

        reached = runner.rebuild_many(targets, advance)
    typer.echo(f"{', '.join(targets)}: rebuilt to position {reached}.")
