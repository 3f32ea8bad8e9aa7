"""The PostgreSQL event recorder, one round trip per commit.

eventsourcing's recorder commits a batch of events as a pipeline of seven messages (begin,
lock timeout, ``LOCK TABLE … EXCLUSIVE``, ``NOTIFY``, insert, sync, commit) and sends the
events as an array of a composite type, which psycopg escapes as text in Python. Under
16 writers the profile showed that machinery as a quarter of the process's time.

Here the same steps run inside one function, called as a single autocommit statement with
four plain arrays in binary. What matters is kept: the table lock serialises inserts so
that notification ids are assigned in commit order (readers never pass over a gap that
fills later), the listeners are notified, and a clash on (originator_id, version) is an
IntegrityError as before. A store whose function has not been created yet (an older
schema opened without creating tables) falls back to the library's insert.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import psycopg
from eventsourcing.persistence import ProgrammingError, StoredEvent
from eventsourcing.postgres import (
    PostgresAggregateRecorder,
    PostgresApplicationRecorder,
    PostgresDatastore,
    PostgresFactory,
)
from eventsourcing.utils import retry
from psycopg import Cursor
from psycopg.errors import InterfaceError, OperationalError
from psycopg.rows import DictRow
from psycopg.sql import SQL, Identifier


class SonarPostgresRecorder(PostgresApplicationRecorder):
    def __init__(self, datastore: PostgresDatastore, *,
                 events_table_name: str = "stored_events") -> None:
        super().__init__(datastore, events_table_name=events_table_name)
        function = Identifier(datastore.schema, f"sonar_insert_{events_table_name}")
        self.sql_create_statements.append(SQL(
            "CREATE OR REPLACE FUNCTION {function}("
            "ids {id_type}[], versions bigint[], topics text[], states bytea[]) "
            "RETURNS SETOF bigint LANGUAGE plpgsql AS $body$ BEGIN "
            "SET LOCAL lock_timeout = '{timeout}s'; "
            "LOCK TABLE {table} IN EXCLUSIVE MODE; "
            "NOTIFY {channel}; "
            "RETURN QUERY INSERT INTO {table} "
            "(originator_id, originator_version, topic, state) "
            "SELECT * FROM unnest(ids, versions, topics, states) RETURNING notification_id; "
            "END $body$").format(
                function=function, id_type=Identifier(datastore.originator_id_type),
                timeout=datastore.lock_timeout, channel=Identifier(self.channel_name),
                table=Identifier(datastore.schema, events_table_name)))
        self._invoke = SQL("SELECT * FROM {}(%b, %b, %b, %b)").format(function)
        self._function_missing = False

    @retry((InterfaceError, OperationalError), max_attempts=10, wait=0.2)
    def insert_events(self, stored_events: Sequence[StoredEvent],
                      **kwargs: Any) -> Sequence[int] | None:
        if not stored_events:
            return None
        if self._function_missing:
            return self._library_insert(stored_events, **kwargs)
        params = ([e.originator_id for e in stored_events],
                  [e.originator_version for e in stored_events],
                  [e.topic for e in stored_events],
                  [e.state for e in stored_events])
        try:
            with self.datastore.get_connection() as conn:
                rows = conn.execute(self._invoke, params, prepare=True).fetchall()
        except ProgrammingError as exc:
            if not isinstance(exc.__cause__, psycopg.errors.UndefinedFunction):
                raise
            self._function_missing = True
            return self._library_insert(stored_events, **kwargs)
        return [int(next(iter(row.values()))) for row in rows]

    def _library_insert(self, stored_events: Sequence[StoredEvent],
                        **kwargs: Any) -> Sequence[int] | None:
        ids: Sequence[int] | None = super().insert_events(stored_events, **kwargs)
        return ids


class SonarSnapshotRecorder(PostgresAggregateRecorder):
    """The snapshot store's recorder: one INSERT of four binary arrays.

    The library sends snapshots as an array of a composite type, escaped as text in
    Python; a snapshot is the whole pickled record (tens of kB), so escaping it was most
    of the cost of a command that took one. Snapshots need no table lock or NOTIFY."""

    def __init__(self, datastore: PostgresDatastore, *,
                 events_table_name: str = "stored_events") -> None:
        super().__init__(datastore, events_table_name=events_table_name)
        self._insert = SQL(
            "INSERT INTO {table} (originator_id, originator_version, topic, state) "
            "SELECT * FROM unnest(%b::{id_type}[], %b::bigint[], %b::text[], %b::bytea[])"
        ).format(table=Identifier(datastore.schema, events_table_name),
                 id_type=Identifier(datastore.originator_id_type))

    def _insert_stored_events(self, curs: Cursor[DictRow],
                              stored_events: Sequence[StoredEvent], **_: Any) -> None:
        curs.execute(self._insert, ([e.originator_id for e in stored_events],
                                    [e.originator_version for e in stored_events],
                                    [e.topic for e in stored_events],
                                    [e.state for e in stored_events]), prepare=True)


class SonarPostgresFactory(PostgresFactory):
    application_recorder_class = SonarPostgresRecorder
    aggregate_recorder_class = SonarSnapshotRecorder
