"""The access log: every read of identifiable data, append-only, apart from clinical streams
(in the records' store, never with the read models analysts query).

Rows are inserted, never updated or deleted: a trigger refuses UPDATE and DELETE (and
TRUNCATE on PostgreSQL) on both stores. A table owner can still drop the trigger, so on
PostgreSQL the API should connect as a role that does not own the table; the hash-chained
event log, not this table, is the tamper-evident record.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sonar.sqlstore.records import RecordStore
from sonar.sqlstore.store import Json, Row, as_bool, as_iso, as_json, ddl

TABLES = ("access_log",)
FUNCTIONS = ("access_log_append_only()",)  # PostgreSQL: the triggers' function
_DDL = ("CREATE TABLE IF NOT EXISTS access_log (id {serial_id}, "
        "at {ts} NOT NULL, actor_id TEXT NOT NULL, role TEXT NOT NULL, "
        "organisation TEXT NOT NULL, site TEXT NOT NULL, purpose TEXT NOT NULL, "
        "method TEXT NOT NULL, route TEXT NOT NULL, patient_ids {json} NOT NULL, "
        "status INTEGER NOT NULL, break_glass {bool} NOT NULL, "
        "correlation_id TEXT NOT NULL)")
_GUARDS = {
    "sqlite": [
        "CREATE TRIGGER IF NOT EXISTS access_log_no_update BEFORE UPDATE ON access_log "
        "BEGIN SELECT RAISE(ABORT, 'access_log is append-only'); END",
        "CREATE TRIGGER IF NOT EXISTS access_log_no_delete BEFORE DELETE ON access_log "
        "BEGIN SELECT RAISE(ABORT, 'access_log is append-only'); END",
        "CREATE INDEX IF NOT EXISTS access_log_actor ON access_log (actor_id, at)",
    ],
    "postgres": [
        "CREATE OR REPLACE FUNCTION access_log_append_only() RETURNS trigger "
        "LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'access_log is append-only'; END $$",
        "DROP TRIGGER IF EXISTS access_log_no_change ON access_log",
        "CREATE TRIGGER access_log_no_change BEFORE UPDATE OR DELETE ON access_log "
        "FOR EACH ROW EXECUTE FUNCTION access_log_append_only()",
        "DROP TRIGGER IF EXISTS access_log_no_truncate ON access_log",
        "CREATE TRIGGER access_log_no_truncate BEFORE TRUNCATE ON access_log "
        "FOR EACH STATEMENT EXECUTE FUNCTION access_log_append_only()",
        "CREATE INDEX IF NOT EXISTS access_log_actor ON access_log (actor_id, at)",
    ],
}


@dataclass(frozen=True)
class AccessRecord:
    """One read: who (and as what), why, which route and patients, when, and how."""

    at: datetime
    actor_id: str
    role: str
    organisation: str
    site: str
    purpose: str
    method: str
    route: str
    patient_ids: tuple[str, ...]
    status: int
    break_glass: bool
    correlation_id: str


class AccessLog:
    """Appends and answers "who accessed patient X" and "what did user Y access"."""

    def __init__(self, store: RecordStore) -> None:
        self.store = store

    def migrate(self) -> None:
        dialect = self.store.dialect
        with self.store.transaction() as tx:
            tx.execute(ddl(_DDL, dialect))
            for statement in _GUARDS[dialect]:
                tx.execute(statement)

    def append(self, entry: AccessRecord) -> None:
        with self.store.transaction() as tx:
            tx.execute("INSERT INTO access_log (at, actor_id, role, organisation, site, purpose, "
                       "method, route, patient_ids, status, break_glass, correlation_id) "
                       "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                       [entry.at, entry.actor_id, entry.role, entry.organisation, entry.site,
                        entry.purpose, entry.method, entry.route, Json(list(entry.patient_ids)),
                        entry.status, entry.break_glass, entry.correlation_id])

    def search(self, *, patient_id: str | None = None, actor_id: str | None = None,
               start: datetime | None = None, end: datetime | None = None,
               limit: int = 500) -> list[dict[str, Any]]:
        """Reads of a patient and/or by a user, oldest first, between ``start`` and ``end``."""
        where, params = ["1 = 1"], list[Any]()
        if actor_id is not None:
            where.append("actor_id = ?")
            params.append(actor_id)
        if start is not None:
            where.append("at >= ?")
            params.append(start)
        if end is not None:
            where.append("at < ?")
            params.append(end)
        if patient_id is not None:  # JSON containment: JSONB @> on PostgreSQL, text on SQLite
            if self.store.dialect == "postgres":
                where.append("patient_ids @> ?")
                params.append(Json([patient_id]))
            else:
                where.append("patient_ids LIKE ?")
                params.append(f'%"{patient_id}"%')
        rows = self.store.fetchall(
            f"SELECT * FROM access_log WHERE {' AND '.join(where)} "  # noqa: S608 - fixed SQL
            "ORDER BY id LIMIT ?", [*params, limit])
        return [_public(r) for r in rows]


def _public(row: Row) -> dict[str, Any]:
    result = dict(row)
    result["at"] = as_iso(row["at"])
    result["patient_ids"] = list(as_json(row["patient_ids"]))
    result["break_glass"] = bool(as_bool(row["break_glass"]))
    return result
