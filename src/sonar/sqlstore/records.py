"""The records' store: SONAR's tables that cannot be rebuilt from the event log.

Users, the access log, the notification outbox and the audit checkpoints hold facts the log
does not (who may sign in, who read what, what was sent to whom, which roots were taken), so
they are backed up with the log and a rebuild of the read models never touches them. They
are kept out of the read models' store, which analysts query: in a SQLite file of their own
(``records.db`` beside ``read_models.db``) or a PostgreSQL schema of their own
(``<schema>_records``). Each table's owner (``auth``, ``audit``, ``notifications``) creates
its own; this module only opens the store and, for stores made before the move, takes the
tables over from where the read models live (``adopt``).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, closing, contextmanager, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

from sonar.sqlstore.store import Dialect, PostgresReadStore, Row, SqliteReadStore, Tx


@dataclass(frozen=True)
class Adopted:
    """Tables taken over from the read models' store, and tables left there because the
    records' store already had one of the same name (PostgreSQL; a person should look)."""

    moved: tuple[str, ...] = ()
    left: tuple[str, ...] = ()


class RecordStore:
    """The SQL of the records' store (the same adapter as the read models', on its own file
    or schema): a type of its own so that the read models' store cannot be passed for it."""

    def __init__(self, sql_store: SqliteReadStore | PostgresReadStore) -> None:
        self.sql = sql_store
        self.dialect: Dialect = sql_store.dialect

    def transaction(self) -> AbstractContextManager[Tx]:
        transaction: AbstractContextManager[Tx] = self.sql.transaction()
        return transaction

    def fetchall(self, statement: str, params: Sequence[Any] = ()) -> list[Row]:
        return self.sql.fetchall(statement, params)

    def close(self) -> None:
        self.sql.close()

    def migrating(self) -> AbstractContextManager[None]:
        """Held while the tables are created or adopted: one process at a time."""
        return nullcontext()

    def adopt(self, tables: Sequence[str], functions: Sequence[str] = ()) -> Adopted:
        """Move ``tables`` (rows, indexes, triggers) and trigger ``functions`` here from the
        read models' store, where SONAR kept them before they had a store of their own."""
        raise NotImplementedError


class SqliteRecordStore(RecordStore):
    """The records in their own SQLite file; ``legacy`` is the read models' file."""

    def __init__(self, path: Path, legacy: Path) -> None:
        super().__init__(SqliteReadStore(path))
        self.path, self.legacy = path, legacy

    def adopt(self, tables: Sequence[str], functions: Sequence[str] = ()) -> Adopted:
        """Copy each table found in the read models' file (made here from its own DDL when
        this file lacks it), commit, and only then drop it there. A crash between the two
        leaves the rows in both files; the next start copies again (rows already here are
        kept) and drops them. SQLite has no functions to move."""
        if not self.legacy.exists():  # ATTACH would create it
            return Adopted()
        with closing(sqlite3.connect(self.path, isolation_level=None, timeout=30)) as conn:
            conn.execute("ATTACH DATABASE ? AS legacy", [str(self.legacy)])
            with _sqlite_transaction(conn):  # looked for inside: another process may move them
                found = [t for t in tables if _sqlite_has(conn, "legacy", t)]
                for table in found:
                    if not _sqlite_has(conn, "main", table):
                        for (ddl,) in conn.execute(
                                "SELECT sql FROM legacy.sqlite_master WHERE tbl_name = ? AND "
                                "sql IS NOT NULL ORDER BY type <> 'table', name", [table]
                        ).fetchall():
                            conn.execute(ddl)  # unqualified: made in this (main) file
                    names = ", ".join(row[1] for row in conn.execute(
                        f"PRAGMA legacy.table_info({table})"))
                    conn.execute(f"INSERT OR IGNORE INTO main.{table} ({names}) "
                                 f"SELECT {names} FROM legacy.{table}")
            if found:
                with _sqlite_transaction(conn):
                    for table in found:
                        conn.execute(f"DROP TABLE IF EXISTS legacy.{table}")
        return Adopted(moved=tuple(found))


def _sqlite_has(conn: sqlite3.Connection, schema: str, table: str) -> bool:
    return conn.execute(f"SELECT 1 FROM {schema}.sqlite_master WHERE type = 'table' "
                        "AND name = ?", [table]).fetchone() is not None


@contextmanager
def _sqlite_transaction(conn: sqlite3.Connection) -> Iterator[None]:
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


class PostgresRecordStore(RecordStore):
    """The records in their own PostgreSQL schema, made by ``migrating`` when missing;
    ``legacy_schema`` is the read models' (None: the connection's default schema)."""

    def __init__(self, url: str, schema: str, legacy_schema: str | None = None,
                 pool_size: int = 4) -> None:
        super().__init__(PostgresReadStore(url, schema, pool_size=pool_size))
        self.url, self.schema, self.legacy_schema = url, schema, legacy_schema

    @contextmanager
    def migrating(self) -> Iterator[None]:
        """An advisory lock held for the whole migration (two processes starting together
        would race each other's CREATE statements), and the schema made if it is missing.
        The schema is looked for first: CREATE SCHEMA IF NOT EXISTS needs the right to
        create schemas even when it exists, which a production role may not have."""
        with psycopg.connect(self.url, autocommit=True) as conn:
            conn.execute("SELECT pg_advisory_lock(hashtext(%s))",
                         [f"sonar records {self.schema}"])
            if conn.execute("SELECT 1 FROM pg_namespace WHERE nspname = %s",
                            [self.schema]).fetchone() is None:
                conn.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(
                    sql.Identifier(self.schema)))
            yield  # the lock goes with the connection

    def adopt(self, tables: Sequence[str], functions: Sequence[str] = ()) -> Adopted:
        """Move each table (with its rows, indexes, triggers and sequences) and function into
        this schema with ALTER ... SET SCHEMA, all in one transaction. A table this schema
        already has is left where it is, and reported."""
        moved, left = [], []
        with psycopg.connect(self.url) as conn, conn.transaction():
            legacy = self.legacy_schema or _one(conn, "SELECT current_schema()")
            if legacy is None or legacy == self.schema:
                return Adopted()
            for table in tables:
                if not _one(conn, "SELECT to_regclass(%s)", [f'"{legacy}".{table}']):
                    continue
                if _one(conn, "SELECT to_regclass(%s)", [f'"{self.schema}".{table}']):
                    left.append(table)
                    continue
                conn.execute(sql.SQL("ALTER TABLE {}.{} SET SCHEMA {}").format(
                    sql.Identifier(legacy), sql.Identifier(table), sql.Identifier(self.schema)))
                moved.append(table)
            for function in functions:  # e.g. "access_log_append_only()", a name in code
                if (_one(conn, "SELECT to_regprocedure(%s)", [f'"{legacy}".{function}'])
                        and not _one(conn, "SELECT to_regprocedure(%s)",
                                     [f'"{self.schema}".{function}'])):
                    conn.execute(sql.SQL("ALTER FUNCTION {}.{} SET SCHEMA {}").format(
                        sql.Identifier(legacy), sql.SQL(function),
                        sql.Identifier(self.schema)))
        return Adopted(tuple(moved), tuple(left))


def _one(conn: psycopg.Connection[Any], statement: str, params: Sequence[Any] = ()) -> Any:
    row = conn.execute(statement, params).fetchone()
    return None if row is None else row[0]
