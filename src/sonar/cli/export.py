"""`sonar export fhir PATIENT_ID [--out FILE]`: a care record as a FHIR R4 Bundle.

Reads the store the environment names (as `sonar serve` does) and writes the same Bundle
as `GET /api/v1/patients/{id}/fhir`, so an offline extract and the API never disagree.
"""

from __future__ import annotations

import json
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
    from sonar.app.errors import PatientNotFound  # noqa: PLC0415 - keep `--help` fast
    from sonar.bootstrap import build_application  # noqa: PLC0415
    from sonar.config import Settings  # noqa: PLC0415
    from sonar.integration.fhir_export import export_bundle  # noqa: PLC0415

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
