"""Patient timeline: every event in order with its attribution, for clinicians and auditors.

An entry later marked in error keeps its row, with the reason beside it, so the record
view can strike it through rather than hide it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from functools import cache
from typing import Any, ClassVar

from sonar.domain.care_record import CareRecord
from sonar.readmodels.base import Change, Projection, Tables
from sonar.readmodels.record_view import plain
from sonar.sqlstore.store import Json, ReadStore, Tx, as_iso, as_json

_SKIP = {"originator_id", "originator_version", "timestamp", "attribution", "originator_topic"}
COLUMNS = ("patient_id", "version", "position", "event_type", "episode", "occurred_at",
           "recorded_at", "actor_id", "role", "organisation", "site", "purpose_of_use",
           "source", "correlation_id", "summary", "payload", "in_error_reason")
KEY = ("patient_id", "version")


@cache
def _summary(kind: type[object], episode: object) -> str:
    words = kind.__name__
    text = "".join(f" {c.lower()}" if c.isupper() else c for c in words).strip()
    return f"{text[0].upper()}{text[1:]}" + (f" (episode {episode})" if episode else "")


def summary(event: CareRecord.Event) -> str:
    """A one-line, human summary of what happened (shown in the timeline)."""
    episode = getattr(event, "episode", None)
    return _summary(type(event), episode if isinstance(episode, int) else None)


class TimelineProjection(Projection):
    name = "timeline"
    version = 1
    tables: ClassVar[tuple[str, ...]] = ("timeline",)

    def handle(self, tx: Tx, t: Tables, changes: Sequence[Change]) -> None:
        rows = []  # in COLUMNS order: one row per event, built without a dict per row
        for change in changes:
            event = change.event
            at = event.attribution
            actor = at.actor
            episode = getattr(event, "episode", None)
            rows.append((
                change.patient_id, event.originator_version, change.position,
                type(event).__name__, episode, at.occurred_at, at.recorded_at, actor.actor_id,
                actor.role, actor.organisation, actor.site, at.purpose_of_use, at.source,
                at.correlation_id, summary(event),
                Json({k: plain(v) for k, v in vars(event).items() if k not in _SKIP}), None))
        if rows:
            tx.upsert(t["timeline"], COLUMNS, KEY, (), rows)
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
