"""The `sonar` command: serve the API, seed demo data."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Annotated

import structlog
import typer
from pydantic import ValidationError
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

from sonar.config import Settings

if TYPE_CHECKING:
    from sonar.eventstore.application import SonarApplication
    from sonar.readmodels.runner import ProjectionRunner
    from sonar.sqlstore.records import RecordStore

cli = typer.Typer(help="SONAR shared care record.", no_args_is_help=True,
                  pretty_exceptions_enable=False)


def _seed(patients: int) -> None:
    from sonar.bootstrap import build_application  # noqa: PLC0415 - keep `--help` fast
    from sonar.cli.demo import seed_cohort  # noqa: PLC0415

    application = build_application(Settings())
    with Progress("[progress.description]{task.description}", BarColumn(),
                  MofNCompleteColumn(), TimeRemainingColumn()) as progress:
        task = progress.add_task("Seeding synthetic patients", total=patients)
        seed_cohort(application, patients, on_patient=lambda: progress.advance(task))
    typer.echo(f"Seeded {patients} synthetic patients; log position {application.position()}.")


@cli.command()
def demo(patients: Annotated[int, typer.Option(min=1, max=100_000)] = 50) -> None:
    """Seed a synthetic cohort (custody → prison → SMS pathway → release) via the app layer."""
    _seed(patients)


@cli.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Bind address (default SONAR_HOST).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (default SONAR_PORT).")] = None,
    demo_patients: Annotated[int, typer.Option(
        "--demo", help="Seed this many synthetic patients first if the store is empty.")] = 0,
) -> None:
    """Serve the API (SQLite under SONAR_DATA_DIR unless SONAR_DATABASE_URL is set)."""
    import uvicorn  # noqa: PLC0415 - keep `--help` fast

    from sonar.api.main import create_app  # noqa: PLC0415
    from sonar.bootstrap import (  # noqa: PLC0415
        build_application,
        build_record_store,
        build_runner,
    )
    from sonar.cli.runtime import tune_gc  # noqa: PLC0415
    from sonar.observability import configure_logging  # noqa: PLC0415
    from sonar.ui import mount_ui  # noqa: PLC0415

    settings = Settings()
    configure_logging(settings.log_level, settings.log_format)
    application = build_application(settings)
    if demo_patients and application.position() == 0:
        _seed(demo_patients)
    runner = build_runner(settings, application)
    runner.migrate()
    records = build_record_store(settings)
    if not runner.external:  # else `sonar worker` keeps the read models
        runner.catch_up()
    if demo_patients and settings.environment == "development":
        _demo_user(records, f"http://{host or settings.host}:{port or settings.port}/ui")
    if not runner.external:
        runner.start()
    tune_gc()
    stop = threading.Event()
    threading.Thread(target=_missed_appointments,
                     args=(application, runner, records, stop, settings),
                     name="sonar-scheduler", daemon=True).start()
    if settings.checkpoint_minutes:
        threading.Thread(target=_checkpoints, args=(application, records,
                                                    settings.checkpoint_minutes * 60, stop),
                         name="sonar-checkpoints", daemon=True).start()
    try:
        uvicorn.run(create_app(settings, application, runner, records, ui=mount_ui),
                    host=host or settings.host, port=port or settings.port,
                    log_level=settings.log_level.lower(), access_log=False)
    finally:
        stop.set()
        runner.stop()


def _demo_user(records: RecordStore, url: str) -> None:
    """With demo data, a demo clinician to sign in as (development only, first run only)."""
    import secrets  # noqa: PLC0415

    from sonar.auth.users import UserDirectory  # noqa: PLC0415

    users = UserDirectory(records)
    if users.list():
        return
    password = secrets.token_urlsafe(12)
    users.add("demo", password, role="sms_worker", organisation="HMP Leeds Healthcare",
              site="HMP Leeds")
    typer.echo(f"Demo sign-in (development only): user 'demo', password '{password}' "
               f"at {url}", err=True)


def _missed_appointments(application: SonarApplication, runner: ProjectionRunner,
                         records: RecordStore, stop: threading.Event,
                         settings: Settings) -> None:
    from sonar.bootstrap import build_dispatcher  # noqa: PLC0415
    from sonar.notifications.scheduler import run_forever  # noqa: PLC0415

    run_forever(application, runner, stop,
                dispatcher=build_dispatcher(settings, application, records, runner.store))


@cli.command()
def scheduler(once: Annotated[bool, typer.Option(help="Run one pass and exit.")] = False,
              every: Annotated[float, typer.Option(min=1.0)] = 60.0) -> None:
    """Record missed appointments (safe beside `sonar serve` or a second scheduler)."""
    from sonar.bootstrap import (  # noqa: PLC0415
        build_application,
        build_dispatcher,
        build_record_store,
        build_runner,
    )
    from sonar.notifications.scheduler import run_forever, run_once  # noqa: PLC0415

    settings = Settings()
    application = build_application(settings)
    runner = build_runner(settings, application)
    runner.migrate()
    dispatcher = build_dispatcher(settings, application, build_record_store(settings),
                                  runner.store)
    if once:
        typer.echo(f"{run_once(application, runner)} missed appointment(s) recorded.")
        typer.echo(f"{dispatcher.enqueue()} notification(s) queued, "
                   f"{dispatcher.deliver()} delivered.")
        return
    run_forever(application, runner, threading.Event(), every, dispatcher)


def _checkpoints(application: SonarApplication, records: RecordStore, every: float,
                 stop: threading.Event) -> None:
    """Record a Merkle checkpoint of the log's head periodically (export for auditors)."""
    from sonar.audit.checkpoints import take_checkpoint  # noqa: PLC0415

    log = structlog.get_logger("sonar.audit")
    while not stop.wait(every):
        try:
            taken = take_checkpoint(application, records)
            log.info("checkpoint_recorded", position=taken.position, events=taken.events)
        except Exception as exc:
            log.error("checkpoint_failed", error_type=type(exc).__name__)


_registered = False


def register_subcommands() -> None:
    """Each area owns its own command module; register them here, one line each."""
    global _registered  # noqa: PLW0603 - registration happens once per process
    if _registered:
        return
    _registered = True
    from sonar.cli import (  # noqa: PLC0415 - keep `--help` fast
        access,
        audit,
        export,
        projections,
        relay,
        users,
    )

    cli.command()(projections.migrate)
    cli.add_typer(projections.projections_cli, name="projections")
    cli.add_typer(export.export_cli, name="export")
    audit.audit_cli.command("access")(access.access)
    cli.add_typer(audit.audit_cli, name="audit")
    cli.add_typer(users.users_cli, name="users")
    cli.command()(relay.relay)
    cli.command()(relay.worker)
    cli.command()(audit.replay)


def main() -> None:
    register_subcommands()
    try:
        cli()
    except ValidationError as exc:  # a setting from the environment broke a rule
        if exc.title != Settings.__name__:
            raise
        typer.echo(settings_problems(exc), err=True)
        raise SystemExit(2) from None


def _variable(loc: tuple[int | str, ...]) -> str:
    """The environment variable of a setting; "settings" for a rule across several."""
    return "SONAR_" + "_".join(str(p) for p in loc).upper() if loc else "settings"


def settings_problems(exc: ValidationError) -> str:
    """Each setting that was refused, named as it is set (its environment variable), with
    the rule it broke: e.g. ``SONAR_REBUILD_WORKERS: Input should be less than or equal to 8
    (less_than_equal)``. The value itself is not shown: it may be a secret."""
    lines = [f"{_variable(error['loc'])}: {error['msg']} ({error['type']})"
             for error in exc.errors()]
    return "\n".join(["SONAR cannot start: a setting is not valid.", *lines])
