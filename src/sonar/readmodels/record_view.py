"""A JSON-ready view of one care record, read from the write model.

Used by ``GET /patients/{id}`` until the read-model projections (issue 3) serve it; it
shows entries marked in error with their reason rather than hiding them.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import date, datetime
from enum import Enum
from typing import Any

from sonar.domain.care_record import CareRecord
from sonar.domain.review_schedule import review_status
from sonar.domain.sms_episode import Entry, Episode
from sonar.domain.top import Top


def plain(value: Any) -> Any:
    """JSON-ready data of a value: enums as their values, times as ISO-8601, value objects
    as dicts, tuples as lists. Dispatches on the exact type, its handler found once per
    type (the isinstance walk was a tenth of a timeline rebuild)."""
    kind = type(value)
    if kind is str or kind is int or kind is bool or kind is float or value is None:
        return value
    handler = _PLAIN.get(kind)
    if handler is None:
        handler = _PLAIN[kind] = _plain_handler(kind)
    return handler(value)


_PLAIN: dict[type[Any], Callable[[Any], Any]] = {}


def _plain_handler(kind: type[Any]) -> Callable[[Any], Any]:
    if issubclass(kind, Enum):
        return lambda v: v.value
    if issubclass(kind, datetime | date):
        return lambda v: v.isoformat()
    if dataclasses.is_dataclass(kind):
        return lambda v: {k: plain(x) for k, x in vars(v).items()}
    if issubclass(kind, dict):
        return lambda v: {str(k): plain(x) for k, x in v.items()}
    if issubclass(kind, list | tuple):
        return lambda v: [plain(x) for x in v]
    return lambda v: v


def _entry(entry: Entry) -> dict[str, Any]:
    kind = type(entry.value).__name__
    value = plain(entry.value)
    if isinstance(entry.value, Top):
        value = {"stage": entry.value.stage, "before_custody": entry.value.before_custody,
                 "answers": dict(entry.value.answers.values),
                 "other_substance_name": entry.value.answers.other_substance_name}
    return {"entry_version": entry.version, "kind": kind, "occurred_at": plain(entry.occurred_at),
            "in_error": entry.in_error, "flags": list(entry.flags), "value": value}


def _episode(episode: Episode, today: date) -> dict[str, Any]:
    done = episode.reviews_done()
    return {
        "number": episode.number,
        "status": episode.status.value,
        "referred_at": plain(episode.referred_at),
        "referral": plain(episode.referral),
        "outcome": plain(episode.outcome),
        "treatment_start": plain(episode.treatment_start),
        "caseload": ({"worker_id": episode.caseload_worker, "site": episode.caseload_site}
                     if episode.caseload_worker else None),
        "reviews": [{"kind": kind, "due": due.isoformat(),
                     "status": review_status(due, today, done=kind in done)}
                    for kind, due in episode.review_due_dates().items()],
        "discharge": plain(episode.discharge),
        "ended_at": plain(episode.ended_at),
        "entries": [_entry(e) for e in episode.entries],
    }


def record_view(record: CareRecord, today: date) -> dict[str, Any]:
    """The whole record as plain JSON values; review status is as of ``today``."""
    return {
        "patient_id": str(record.id),
        "version": record.version,
        "identity": {k: (str(v) if v is not None else None)
                     for k, v in vars(record.identity).items()},
        "demographics": plain(record.demographics),
        "setting": record.journey.setting,
        "location": record.journey.location,
        "journey": [plain(m) for m in record.journey.movements],
        "reception_screens": [_entry(e) for e in record.screens],
        "episodes": [_episode(e, today) for e in record.episodes],
    }
