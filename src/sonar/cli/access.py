"""`sonar audit access`: who accessed a patient's record, or what a user accessed."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated
from uuid import UUID

import typer
from rich.console import Console
from rich.table import Table

from sonar.config import Settings

console = Console()


def access(patient: Annotated[str | None, typer.Option(
               "--patient", help="Patient id: who accessed this record?")] = None,
           user: Annotated[str | None, typer.Option(
               "--user", help="Actor id: what did this user access?")] = None,
           start: Annotated[str | None, typer.Option(
               "--from", help="First day (YYYY-MM-DD).")] = None,
           end: Annotated[str | None, typer.Option(
               "--to", help="Last day, inclusive (YYYY-MM-DD).")] = None) -> None:
    """Reads of identifiable data from the access log, oldest first."""
    from sonar.audit.access_log import AccessLog  # noqa: PLC0415 - keep `--help` fast
    from sonar.bootstrap import build_record_store  # noqa: PLC0415
    from sonar.domain.attribution import day_starts  # noqa: PLC0415

    if not patient and not user:
        typer.echo("Give --patient or --user (or both).", err=True)
        raise typer.Exit(code=2)
    try:
        patient_id = str(UUID(patient)) if patient else None
        first = day_starts(date.fromisoformat(start)) if start else None
        last = day_starts(date.fromisoformat(end) + timedelta(days=1)) if end else None
    except ValueError as bad:
        typer.echo(f"Not valid: {bad}", err=True)
        raise typer.Exit(code=2) from None
    log = AccessLog(build_record_store(Settings()))
    table = Table("when", "who", "role", "organisation", "site", "purpose", "route",
                  "patients", "status", "break glass")
    for row in log.search(patient_id=patient_id, actor_id=user, start=first, end=last,
                          limit=100_000):
        table.add_row(row["at"], row["actor_id"], row["role"], row["organisation"],
                      row["site"], row["purpose"], f"{row['method']} {row['route']}",
                      ", ".join(row["patient_ids"]), str(row["status"]),
                      "YES" if row["break_glass"] else "")
    console.print(table)
