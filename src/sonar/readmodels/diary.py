"""The ReSet appointment diary as a table: what the missed-appointment scheduler scans."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, ClassVar

from sonar.readmodels.base import Change, Projection, Tables
from sonar.sqlstore.store import ReadStore, Tx, as_iso, upsert_rows


class DiaryProjection(Projection):
    name = "diary"
    version = 1
    tables: ClassVar[tuple[str, ...]] = ("appointment",)

    def handle(self, tx: Tx, t: Tables, changes: Sequence[Change]) -> None:
        rows: dict[tuple[str, str], dict[str, Any]] = {}
        for change in changes:
            appointment_id = getattr(change.event, "appointment_id", None)
            booked = getattr(change.event, "appointment", None)
            if booked is not None:
                appointment_id = booked.appointment_id
            if not isinstance(appointment_id, str):
                continue
            entry = change.record.diary[appointment_id]
            a = entry.appointment
            rows[(str(change.record.id), appointment_id)] = {
                "patient_id": str(change.record.id), "appointment_id": appointment_id,
                "kind": a.kind, "agency": a.agency, "starts_at": a.starts_at,
                "ends_at": a.ends_at, "place": a.place, "status": entry.status,
                "confirmed_by": entry.confirmed_by}
        upsert_rows(tx, t["appointment"], ["patient_id", "appointment_id"], list(rows.values()))


def overdue_unattended(store: ReadStore, before: datetime,
                       limit: int = 500) -> list[tuple[str, str]]:
    """Booked appointments that ended before ``before`` with no attendance recorded."""
    rows = store.fetchall("SELECT patient_id, appointment_id FROM rm_appointment "
                          "WHERE status = 'booked' AND ends_at < ? ORDER BY ends_at LIMIT ?",
                          [before, limit])
    return [(r["patient_id"], r["appointment_id"]) for r in rows]


def starting_between(store: ReadStore, start: datetime, end: datetime,
                     limit: int = 1000) -> list[tuple[str, str]]:
    """Booked appointments starting in [start, end): the ones to remind people of."""
    rows = store.fetchall("SELECT patient_id, appointment_id FROM rm_appointment "
                          "WHERE status = 'booked' AND starts_at >= ? AND starts_at < ? "
                          "ORDER BY starts_at LIMIT ?", [start, end, limit])
    return [(r["patient_id"], r["appointment_id"]) for r in rows]


def diary(store: ReadStore, patient_id: str) -> list[dict[str, Any]]:
    rows = store.fetchall("SELECT * FROM rm_appointment WHERE patient_id = ? "
                          "ORDER BY starts_at", [patient_id])
    return [{**r, "starts_at": as_iso(r["starts_at"]), "ends_at": as_iso(r["ends_at"])}
            for r in rows]
