"""Patient timeline: every event in order with its attribution, for clinicians and auditors.

An entry later marked in error keeps its row, with the reason beside it, so the record
view can strike it through rather than hide it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, ClassVar

from sonar.app.record_view import plain
from sonar.domain.care_record import CareRecord
from sonar.projections.base import Change, Projection, Tables
from sonar.projections.store import Json, ReadStore, Tx, as_iso, as_json, upsert_rows

_SKIP = {"originator_id", "originator_version", "timestamp", "attribution", "originator_topic"}


def summary(event: CareRecord.Event) -> str:
    """A one-line, human summary of what happened (shown in the timeline)."""
    words = type(event).__name__
    text = "".join(f" {c.lower()}" if c.isupper() else c for c in words).strip()
    episode = getattr(event, "episode", None)
    return f"{text[0].upper()}{text[1:]}" + (f" (episode {episode})" if episode else "")


class TimelineProjection(Projection):
    name = "timeline"
    version = 1
    tables: ClassVar[tuple[str, ...]] = ("timeline",)

    def handle(self, tx: Tx, t: Tables, changes: Sequence[Change]) -> None:
        rows = []
        for change in changes:
            event = change.event
            at = event.attribution
            payload = {k: plain(v) for k, v in vars(event).items() if k not in _SKIP}
            rows.append({
                "patient_id": str(event.originator_id), "version": event.originator_version,
                "position": change.position, "event_type": type(event).__name__,
                "episode": getattr(event, "episode", None), "occurred_at": at.occurred_at,
                "recorded_at": at.recorded_at, "actor_id": at.actor.actor_id,
                "role": at.actor.role, "organisation": at.actor.organisation,
                "site": at.actor.site, "purpose_of_use": at.purpose_of_use,
                "source": at.source, "correlation_id": at.correlation_id,
                "summary": summary(event), "payload": Json(payload), "in_error_reason": None})
        upsert_rows(tx, t["timeline"], ["patient_id", "version"], rows)
        for change in changes:
            if isinstance(change.event, CareRecord.EntryMarkedInError):
                tx.execute(f"UPDATE {t['timeline']} SET in_error_reason = ? "
                           "WHERE patient_id = ? AND version = ?",
                           [change.event.reason, str(change.event.originator_id),
                            change.event.entry_version])


def timeline(store: ReadStore, patient_id: str, *, event_types: Sequence[str] = (),
             episode: int | None = None, occurred_from: datetime | None = None,
             occurred_before: datetime | None = None, limit: int = 100,
             offset: int = 0) -> list[dict[str, Any]]:
    where: list[str] = ["patient_id = ?"]
    params: list[Any] = [patient_id]
    if occurred_from is not None:
        where.append("occurred_at >= ?")
        params.append(occurred_from)
    if occurred_before is not None:
        where.append("occurred_at < ?")
        params.append(occurred_before)
    if event_types:
        where.append(f"event_type IN ({', '.join('?' for _ in event_types)})")
        params += list(event_types)
    if episode is not None:
        where.append("episode = ?")
        params.append(episode)
    rows = store.fetchall(
        f"SELECT * FROM rm_timeline WHERE {' AND '.join(where)} "
        "ORDER BY version LIMIT ? OFFSET ?", [*params, limit, offset])
    return [{**row, "occurred_at": as_iso(row["occurred_at"]),
             "recorded_at": as_iso(row["recorded_at"]), "payload": as_json(row["payload"])}
            for row in rows]
