"""Continuity of care after release: the headline outcome SONAR exists to move.

A person released with a treatment need counts as engaged when their first community
treatment starts within 21 calendar days of the day they left prison, in England's dates
(``sonar.domain.continuity`` holds the rule). The "first community treatment" is the
earlier of: an attended drug and alcohol service appointment in the ReSet diary, or an SMS
episode accepted in the community, after that release and before any return to custody.

Definitions (all by clinical time, so figures do not depend on when events arrive):
- custody stay: from the last reception or recall before the release, to the release;
- treatment need: an SMS episode overlapping the stay that had not completed free of
  dependency before release;
- referred on release: an episode of the stay discharged "transferred - not in custody"
  before the release or within 24 hours after it (``sonar.domain.continuity``).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any, ClassVar

from sonar.domain.care_record import CareRecord
from sonar.domain.continuity import (
    awaiting_engagement,
    days_after_release,
    engaged_in_time,
    referred_on_release,
)
from sonar.domain.journey import Movement
from sonar.readmodels.base import Change, Projection, Tables, last_per_patient
from sonar.sqlstore.store import ReadStore, Tx, as_datetime, upsert_rows

_CUSTODY_STARTS = ("received_into_prison", "recalled_to_prison")


class ContinuityProjection(Projection):
    name = "continuity"
    version = 3  # v3: days to treatment in calendar days in England
    tables: ClassVar[tuple[str, ...]] = ("release",)

    def handle(self, tx: Tx, t: Tables, changes: Sequence[Change]) -> None:
        rows: list[dict[str, Any]] = []
        for record in last_per_patient(changes).values():
            rows += release_rows(record)
        upsert_rows(tx, t["release"], ["patient_id", "release_version"], rows)


def release_rows(record: CareRecord) -> list[dict[str, Any]]:
    moves = record.journey.movements
    rows = []
    for i, move in enumerate(moves):
        if move.kind != "released_from_prison":
            continue
        stay_start = next((m.occurred_at for m in reversed(moves[:i])
                           if m.kind in _CUSTODY_STARTS), move.occurred_at)
        next_custody = next((m.occurred_at for m in moves[i + 1:]
                             if m.kind in _CUSTODY_STARTS), None)
        rows.append(_row(record, move, moves[i - 1] if i else None, stay_start, next_custody))
    return rows


def _row(record: CareRecord, release: Movement, before: Movement | None,
         stay_start: datetime, next_custody: datetime | None) -> dict[str, Any]:
    released = release.occurred_at
    stay = [e for e in record.episodes if e.accepted_at is not None
            and e.accepted_at <= released and (e.ended_at is None or e.ended_at >= stay_start)]
    need = any(e.ended_at is None or e.ended_at >= released or e.discharge is None
               or e.discharge.exit_reason != "completed_free_of_dependency" for e in stay)
    referred = any(referred_on_release(e, released) for e in stay)
    started = [e.accepted_at for e in record.episodes if e.accepted_at is not None]
    attended = [d.appointment.starts_at for d in record.diary.values()
                if d.status == "attended" and d.appointment.kind == "drug_alcohol_service"]
    community = sorted(t for t in (*started, *attended) if t >= released
                       and (next_custody is None or t < next_custody))
    first = community[0] if community else None
    return {"patient_id": str(record.id), "release_version": release.version,
            "released_at": released, "establishment": before.location if before else None,
            "release_type": release.detail or "unknown", "treatment_need": need,
            "referred_on_release": referred, "first_treatment_at": first,
            "days_to_treatment": days_after_release(released, first) if first else None}


def continuity(store: ReadStore, start: datetime, end: datetime, today: date,
               site: str | None = None) -> dict[str, Any]:
    """Releases in [start, end) with a treatment need, and how many engaged within 21 days
    (as of ``today``, England's date, for those not yet treated)."""
    where = "released_at >= ? AND released_at < ? AND treatment_need = ?"
    params: list[Any] = [start, end, True]
    if site is not None:
        where += " AND establishment = ?"
        params.append(site)
    rows = store.fetchall(f"SELECT * FROM rm_release WHERE {where} "
                          "ORDER BY released_at, patient_id", params)
    engaged = pending = not_engaged = referred = 0
    for row in rows:
        referred += bool(row["referred_on_release"])
        released = as_datetime(row["released_at"])
        first = (as_datetime(row["first_treatment_at"])
                 if row["first_treatment_at"] is not None else None)
        if first is not None and engaged_in_time(released, first):
            engaged += 1
        elif first is None and awaiting_engagement(released, today):
            pending += 1
        else:
            not_engaged += 1
    decided = engaged + not_engaged
    return {"site": site, "from": start.isoformat(), "to": end.isoformat(),
            "released_with_treatment_need": len(rows), "referred_on_release": referred,
            "engaged_within_21_days": engaged, "not_engaged": not_engaged,
            "pending": pending,
            "engagement_rate": round(engaged / decided, 3) if decided else None}
