"""Turning results into the API's answers: command acknowledgements, pages, CSV."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping, Sequence
from typing import Any

from fastapi import Request, Response

from sonar.api.schemas.common import CommandAccepted
from sonar.commands.context import CommandResult


def accepted(result: CommandResult, response: Response) -> CommandAccepted:
    response.headers["X-Log-Position"] = str(result.position)
    if result.replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return CommandAccepted(patient_id=result.patient_id, position=result.position,
                           episode=result.episode, replayed=result.replayed)


def page(items: Sequence[Mapping[str, Any]], limit: int, offset: int) -> dict[str, Any]:
    """A page of a list; ``next_offset`` is null on the last page."""
    more = len(items) > limit
    return {"items": list(items[:limit]), "limit": limit, "offset": offset,
            "next_offset": offset + limit if more else None}


def wants_csv(request: Request) -> bool:
    return "text/csv" in request.headers.get("accept", "")


def csv_response(rows: Sequence[Mapping[str, Any]], filename: str) -> Response:
    """Rows as CSV; nested values are written as JSON text."""
    out = io.StringIO()
    columns = list(dict.fromkeys(k for row in rows for k in row))
    writer = csv.DictWriter(out, fieldnames=columns, extrasaction="ignore")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: json.dumps(v) if isinstance(v, dict | list) else v
                         for k, v in row.items()})
    return Response(out.getvalue(), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})
