"""`sonar audit verify|checkpoint` and `sonar replay`: evidence for auditors."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Annotated
from uuid import UUID

import typer

from sonar.config import Settings

audit_cli = typer.Typer(help="Tamper evidence: verify the log, take checkpoints.",
                        no_args_is_help=True)


@audit_cli.command()
def verify(checkpoints: Annotated[Path | None, typer.Option(
        help="Checkpoints exported earlier (JSON); else those stored in SONAR.")] = None) -> None:
    """Check every hash-chain link and checkpoint; exit 1 naming the first broken link."""
    from sonar.audit import checkpoints as cp  # noqa: PLC0415
    from sonar.bootstrap import build_application, build_record_store  # noqa: PLC0415

    settings = Settings()
    app = build_application(settings)
    wanted = (cp.load_checkpoints(checkpoints) if checkpoints
              else cp.stored_checkpoints(build_record_store(settings)))
    report = cp.verify(app, wanted)
    if report.broken is None:
        typer.echo(f"OK: {report.checked} events, {report.checkpoints_checked} checkpoints "
                   f"verified (log head {report.head}).")
        return
    b = report.broken
    typer.echo(f"BROKEN at position {b.position} (stream {b.originator_id}, version "
               f"{b.version}): {b.reason}", err=True)
    raise typer.Exit(1)


@audit_cli.command()
def checkpoint(export: Annotated[Path | None, typer.Option(
        help="Also write all checkpoints as JSON here, for a third party.")] = None) -> None:
    """Record a Merkle root of the whole log's head."""
    from sonar.audit import checkpoints as cp  # noqa: PLC0415
    from sonar.bootstrap import build_application, build_record_store  # noqa: PLC0415

    settings = Settings()
    store = build_record_store(settings)
    taken = cp.take_checkpoint(build_application(settings), store)
    typer.echo(f"Checkpoint at position {taken.position}: {taken.root} ({taken.events} events)")
    if export:
        export.write_text(cp.export_checkpoints(cp.stored_checkpoints(store)))


def replay(patient_id: UUID, as_of: Annotated[datetime, typer.Option(
        "--as-of", help="Recorded time (ISO 8601 with offset).")]) -> None:
    """Print a patient's record exactly as it stood at a recorded time."""
    from sonar.audit.time_travel import record_as_of  # noqa: PLC0415
    from sonar.bootstrap import build_application  # noqa: PLC0415

    if as_of.tzinfo is None:
        raise typer.BadParameter("give a time zone offset, e.g. 2026-03-02T09:00:00+00:00")
    view = record_as_of(build_application(Settings()), patient_id, as_of)
    if view is None:
        typer.echo("The record did not exist yet at that time.", err=True)
        raise typer.Exit(1)
    typer.echo(json.dumps(view, indent=2, default=str))
