"""The SQL adapter that read models, and apart from them the records (``records.py``), live
in: SQLite (embedded) or PostgreSQL.

SQL is written once with ``?`` placeholders and a few type words in braces
(``{ts}``, ``{date}``, ``{json}``, ``{bool}``, ``{bigint}``, and ``{serial_id}`` for a key
the store numbers) that each dialect fills in (``ddl``), so every table is declared once
for both. Values are adapted here too: on SQLite,
times are stored as UTC ISO-8601 text (which sorts correctly) and JSON as text.
"""

from __future__ import annotations

import json
import re
import sqlite3
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, Literal, Protocol
from uuid import UUID

from psycopg import Connection
from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool

Dialect = Literal["sqlite", "postgres"]
Row = dict[str, Any]

TYPES: Mapping[Dialect, Mapping[str, str]] = {
    "sqlite": {"ts": "TEXT", "date": "TEXT", "json": "TEXT", "bool": "INTEGER",
               "bigint": "INTEGER", "serial_id": "INTEGER PRIMARY KEY AUTOINCREMENT"},
    "postgres": {"ts": "TIMESTAMPTZ", "date": "DATE", "json": "JSONB", "bool": "BOOLEAN",
                 "bigint": "BIGINT", "serial_id": "BIGSERIAL PRIMARY KEY"},
}


@dataclass(frozen=True)
class Json:
    """Marks a parameter to be stored as JSON."""

    value: Any


_JSON = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False)  # one, not one per dump


def _sqlite_param(value: Any) -> Any:
    if isinstance(value, Json):
        return _JSON.encode(value.value)
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat(timespec="microseconds")
    if isinstance(value, date):
        return value.isoformat()
    return value


def _no_nul(text: str) -> str:
    """PostgreSQL text and JSONB cannot hold NUL. The domain refuses control characters in
    free text; should one ever reach a read model, it is replaced, never allowed to stall
    the projection runner on one event."""
    return text.replace("\x00", "\ufffd")


def _jsonb_dumps(value: Any) -> str:
    text = _JSON.encode(value)
    if "\\u0000" not in text:  # the usual case: one pass
        return text
    return _JSON.encode(_without_nul(value))


def _without_nul(value: Any) -> Any:
    if isinstance(value, str):
        return _no_nul(value)
    if isinstance(value, dict):
        return {_no_nul(str(k)): _without_nul(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_without_nul(v) for v in value]
    return value


_AS_IS = frozenset({int, float, bool, type(None), datetime, date, UUID})


def _pg_param(value: Any) -> Any:
    """A value as PostgreSQL takes it: text without NUL, JSON as its text (jsonb columns,
    COPY and jsonb[] casts all take text; a Jsonb wrapper was dumped in Python per row)."""
    kind = type(value)
    if kind is str:
        return value if "\x00" not in value else _no_nul(value)
    if kind in _AS_IS:
        return value
    if kind is Json:
        return _jsonb_dumps(value.value)
    return _no_nul(value) if isinstance(value, str) else value  # str subclasses as str


class Tx(Protocol):
    """One transaction on the read store."""

    def execute(self, sql: str, params: Sequence[Any] = ()) -> None: ...

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None: ...

    def fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[Row]: ...

    def upsert(self, table: str, columns: Sequence[str], key: Sequence[str],
               keep: Sequence[str], rows: Sequence[Sequence[Any]]) -> None: ...


class ReadStore(Protocol):
    dialect: Dialect

    def transaction(self) -> Any: ...  # a context manager yielding Tx

    def fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[Row]: ...

    def close(self) -> None: ...


def ddl(sql: str, dialect: Dialect, **names: str) -> str:
    return sql.format(**TYPES[dialect], **names)


# --- SQLite ---------------------------------------------------------------------------------


class _SqliteTx:
    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        self.conn.execute(sql, [_sqlite_param(p) for p in params])

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        self.conn.executemany(sql, [[_sqlite_param(p) for p in row] for row in rows])

    def fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        cursor = self.conn.execute(sql, [_sqlite_param(p) for p in params])
        names = [d[0] for d in cursor.description or ()]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

    def upsert(self, table: str, columns: Sequence[str], key: Sequence[str],
               keep: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
        self.executemany(upsert_sql(table, columns, key, keep), rows)


class SqliteReadStore:
    """Tables in a SQLite file (WAL) of their own, apart from the event store's file."""

    dialect: Dialect = "sqlite"

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._local = threading.local()
        self._write_lock = threading.Lock()

    def _conn(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self.path, isolation_level=None, timeout=30,
                                   check_same_thread=False)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            self._local.conn = conn
        return conn

    @contextmanager
    def transaction(self) -> Iterator[Tx]:
        conn = self._conn()
        with self._write_lock:
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield _SqliteTx(conn)
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    def fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        return _SqliteTx(self._conn()).fetchall(sql, params)

    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None


# --- PostgreSQL -----------------------------------------------------------------------------


class _PgTx:
    def __init__(self, conn: Connection[Row], types: dict[str, dict[str, str]]) -> None:
        self.conn, self._types = conn, types

    def _column_types(self, table: str) -> dict[str, str]:
        """Each column's SQL type, read from the catalogue once per table name."""
        found = self._types.get(table)
        if found is None:
            found = self._types[table] = {r["attname"]: r["type"] for r in self.conn.execute(
                "SELECT attname, format_type(atttypid, atttypmod) AS type FROM pg_attribute "
                "WHERE attrelid = %s::regclass AND attnum > 0 AND NOT attisdropped",
                [table]).fetchall()}
        return found

    def execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        self.conn.execute(sql.replace("?", "%s"), [_pg_param(p) for p in params])

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        with self.conn.cursor() as cursor:
            cursor.executemany(sql.replace("?", "%s"), [[_pg_param(p) for p in row]
                                                        for row in rows])

    def fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        return self.conn.execute(sql.replace("?", "%s"), [_pg_param(p) for p in params]
                                 ).fetchall()

    STAGE_FROM = 100  # rows; fewer go in as arrays, one per column

    def upsert(self, table: str, columns: Sequence[str], key: Sequence[str],
               keep: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
        """One statement whatever the batch: small ones as INSERT ... SELECT FROM unnest(one
        array per column) ... ON CONFLICT (one round trip and the same text each time, so
        the server prepares it once; executemany sent a statement per row), large ones
        (catch-up, rebuilds) copied into a temporary table with COPY, then upserted from it.
        Either way each key gets one row, as if the rows went in one by one: the last row
        wins, ``keep`` columns from the first."""
        merged = _merge_per_key(columns, key, keep, rows)
        names = ", ".join(columns)
        if len(merged) < self.STAGE_FROM:
            types = self._column_types(table)
            arrays = ", ".join(f"%b::{types[c]}[]" for c in columns)  # binary: no escaping
            self.conn.execute(
                f"INSERT INTO {table} ({names}) SELECT * FROM unnest({arrays}) "
                f"ON CONFLICT ({', '.join(key)}) DO UPDATE SET {_updates(columns, key, keep)}",
                [[_pg_param(values[i]) for values in merged] for i in range(len(columns))],
                prepare=True)
            return
        stage = "stage_" + re.sub(r"\W", "_", table)
        self.conn.execute(f"CREATE TEMP TABLE IF NOT EXISTS {stage} (LIKE {table}) "
                          "ON COMMIT DELETE ROWS")
        with self.conn.cursor() as cursor:
            with cursor.copy(f"COPY {stage} ({names}) FROM STDIN") as copy:
                for values in merged:
                    copy.write_row([_pg_param(p) for p in values])
            cursor.execute(_upsert_from(table, stage, columns, key, keep))
            cursor.execute(f"TRUNCATE {stage}")


def _merge_per_key(columns: Sequence[str], key: Sequence[str], keep: Sequence[str],
                   rows: Sequence[Sequence[Any]]) -> list[Sequence[Any]]:
    """One row per key, as if upserted one by one (PostgreSQL refuses to update a row twice
    in one statement): the last row per key, with ``keep`` columns from the first."""
    at, kept = [columns.index(k) for k in key], [columns.index(k) for k in keep]
    last: dict[tuple[Any, ...], Sequence[Any]] = {}
    for row in rows:
        k = tuple(row[i] for i in at)
        first = last.get(k)
        last[k] = row if first is None or not kept else [
            first[i] if i in kept else v for i, v in enumerate(row)]
    return list(last.values())


class PostgresReadStore:
    """Tables in one schema (``schema``, else the default search path) of the PostgreSQL
    database that holds the event log."""

    dialect: Dialect = "postgres"

    def __init__(self, url: str, schema: str | None = None, pool_size: int = 4) -> None:
        options = f"-c search_path={schema}" if schema else ""
        self.pool: ConnectionPool[Connection[Row]] = ConnectionPool(
            url, min_size=1, max_size=pool_size, open=True, check=ConnectionPool.check_connection,
            kwargs={"row_factory": dict_row, "options": options, "autocommit": False})
        self._column_types: dict[str, dict[str, str]] = {}  # by table, for upserts

    @contextmanager
    def transaction(self) -> Iterator[Tx]:
        with self.pool.connection() as conn, conn.transaction():
            yield _PgTx(conn, self._column_types)

    def fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        with self.pool.connection() as conn:
            return _PgTx(conn, self._column_types).fetchall(sql, params)

    def close(self) -> None:
        self.pool.close()


# --- reading values back the same way on both -----------------------------------------------


def as_json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


def as_iso(value: Any) -> str | None:
    """Times and dates as ISO-8601 text (times in UTC), whatever the dialect returned."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat(timespec="microseconds")
    if isinstance(value, date):
        return value.isoformat()
    raise TypeError(type(value).__name__)


def as_datetime(value: Any) -> datetime:
    """A stored time as an aware datetime, whatever the dialect returned."""
    if isinstance(value, datetime):
        return value
    return datetime.fromisoformat(str(value))


def as_bool(value: Any) -> bool | None:
    return None if value is None else bool(value)


def upsert_sql(table: str, columns: Sequence[str], key: Sequence[str],
               keep: Sequence[str] = ()) -> str:
    """INSERT ... ON CONFLICT DO UPDATE, valid on both SQLite and PostgreSQL.

    Columns in ``keep`` are set on insert only (facts fixed when the row was first made).
    """
    return (f"INSERT INTO {table} ({', '.join(columns)}) "
            f"VALUES ({', '.join('?' for _ in columns)}) "
            f"ON CONFLICT ({', '.join(key)}) DO UPDATE SET {_updates(columns, key, keep)}")


def _updates(columns: Sequence[str], key: Sequence[str], keep: Sequence[str]) -> str:
    return ", ".join(f"{c} = excluded.{c}" for c in columns if c not in (*key, *keep))


def _upsert_from(table: str, stage: str, columns: Sequence[str], key: Sequence[str],
                 keep: Sequence[str]) -> str:
    names = ", ".join(columns)
    return (f"INSERT INTO {table} ({names}) SELECT {names} FROM {stage} "
            f"ON CONFLICT ({', '.join(key)}) DO UPDATE SET {_updates(columns, key, keep)}")


def upsert_rows(tx: Tx, table: str, key: Sequence[str], rows: Sequence[Mapping[str, Any]],
                keep: Sequence[str] = ()) -> None:
    if rows:
        columns = list(rows[0])
        tx.upsert(table, columns, key, keep, [[r[c] for c in columns] for r in rows])
