"""`sonar export`: national formats from the store the environment names.

- `sonar export fhir PATIENT_ID [--out FILE]`: a care record as a FHIR R4 Bundle, the same
  Bundle as `GET /api/v1/patients/{id}/fhir`, so an offline extract and the API never disagree.
- `sonar export ndtms --from DATE --to DATE [--site SITE] [--out FILE] [--report FILE]`:
  the NDTMS secure-settings extract and its validation report, the same rows as
  `GET /api/v1/reports/ndtms` (docs/ndtms.md).
"""

from __future__ import annotations

import json
import sys
from datetime import datetime
from pathlib import Path
from typing import Annotated
from uuid import UUID

import typer

export_cli = typer.Typer(help="Export records in national formats.", no_args_is_help=True,
                         pretty_exceptions_enable=False)


@export_cli.command()
def fhir(
    patient_id: Annotated[UUID, typer.Argument(help="The care record's id.")],
    out: Annotated[Path | None, typer.Option(
        "--out", help="Write the Bundle to this file (default: standard output).")] = None,
) -> None:
    """Export one care record as a FHIR R4 collection Bundle (application/fhir+json)."""
    from sonar.adapters.fhir.export import export_bundle  # noqa: PLC0415
    from sonar.bootstrap import build_application  # noqa: PLC0415
    from sonar.config import Settings  # noqa: PLC0415
    from sonar.eventstore.errors import PatientNotFound  # noqa: PLC0415 - keep `--help` fast

    application = build_application(Settings())
    try:
        record = application.get_record(patient_id)
    except PatientNotFound as e:
        typer.echo(e.message, err=True)
        raise typer.Exit(1) from None
    bundle = export_bundle(record, list(application.events.get(patient_id)))
    text = json.dumps(bundle, indent=2, ensure_ascii=False)
    if out is None:
        typer.echo(text)
    else:
        out.write_text(text + "\n", encoding="utf-8")
        typer.echo(f"Wrote {len(bundle['entry'])} resources to {out}.", err=True)


@export_cli.command()
def ndtms(
    start: Annotated[datetime, typer.Option(
        "--from", formats=["%Y-%m-%d"], help="First day of the period (YYYY-MM-DD).")],
    end: Annotated[datetime, typer.Option(
        "--to", formats=["%Y-%m-%d"], help="Last day of the period, included (YYYY-MM-DD).")],
    site: Annotated[str | None, typer.Option(
        help="Only episodes at this establishment (caseload site, else where referred).")
    ] = None,
    out: Annotated[Path | None, typer.Option(
        "--out", help="Write the CSV to this file (default: standard output).")] = None,
    report: Annotated[Path | None, typer.Option(
        "--report", help="Write the validation report (CSV) to this file; otherwise "
                         "missing items are listed on standard error.")] = None,
) -> None:
    """NDTMS extract for secure settings: episodes overlapping the period, as at its end.

    Exits 0 even when mandatory items are missing: the report is for fixing data first.
    """
    from sonar.bootstrap import build_application  # noqa: PLC0415 - keep `--help` fast
    from sonar.config import Settings  # noqa: PLC0415
    from sonar.reports.ndtms import (  # noqa: PLC0415
        COLUMNS,
        REPORT_COLUMNS,
        NdtmsNotConfigured,
        Period,
        build_extract,
        pseudonym_salt,
        write_csv,
    )

    settings = Settings()
    try:
        period = Period(start.date(), end.date())
        salt = pseudonym_salt(settings.environment)
    except (ValueError, NdtmsNotConfigured) as e:
        typer.echo(str(e), err=True)
        raise typer.Exit(2) from None
    extract = build_extract(build_application(settings), period, site, salt)
    if out is None:
        write_csv(extract.rows, COLUMNS, sys.stdout)
    else:
        with out.open("w", encoding="utf-8", newline="") as stream:
            write_csv(extract.rows, COLUMNS, stream)
    if report is not None:
        with report.open("w", encoding="utf-8", newline="") as stream:
            write_csv(extract.problems, REPORT_COLUMNS, stream)
    else:
        for p in extract.problems:
            typer.echo(f"{p['patient_id']} episode {p['episode']} ({p['site'] or 'no site'}): "
                       f"{p['field']} missing. {p['detail']}", err=True)
    typer.echo(f"{len(extract.rows)} episodes, {len(extract.problems)} missing mandatory "
               f"items for {period.start.isoformat()} to {period.end.isoformat()}.", err=True)
