"""Upserts on both read stores, small (INSERT ... ON CONFLICT) and large (PostgreSQL stages
the rows with COPY): the same rows result, the last row per key wins, ``keep`` columns
keep their first value."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from sonar.bootstrap import build_read_store
from sonar.config import Settings
from sonar.domain.sms_episode import EpisodeStatus
from sonar.sqlstore.store import Json, as_json, ddl, upsert_rows


@pytest.mark.parametrize("size", [10, 250])
def test_upserts_give_the_same_rows_whatever_the_batch_size(store_settings: Settings,
                                                            size: int) -> None:
    store = build_read_store(store_settings)
    table = f"t_upsert_{size}"
    at = datetime(2026, 3, 1, tzinfo=UTC)
    try:
        with store.transaction() as tx:
            tx.execute(ddl(f"CREATE TABLE {table} (k TEXT, n INTEGER, site TEXT, at {{ts}}, "
                           "body {json}, PRIMARY KEY (k, n))", store.dialect))

        def rows(version: int) -> list[dict[str, object]]:
            return [{"k": f"p{i % 7}", "n": i, "site": f"site-{version}",
                     "at": at + timedelta(minutes=i), "body": Json({"v": version, "i": i})}
                    for i in range(size)]

        with store.transaction() as tx:
            upsert_rows(tx, table, ["k", "n"], rows(1) + rows(2)[:3], keep=["site"])
        with store.transaction() as tx:
            upsert_rows(tx, table, ["k", "n"], rows(3), keep=["site"])
        found = store.fetchall(f"SELECT * FROM {table} ORDER BY n")  # noqa: S608 - ours
        assert len(found) == size
        assert {r["site"] for r in found} == {"site-1"}  # kept from the first insert
        bodies = [as_json(r["body"]) for r in found]
        assert [b["v"] for b in bodies] == [3] * size  # the last write wins
        assert [b["i"] for b in bodies] == list(range(size))
    finally:
        with store.transaction() as tx:
            tx.execute(f"DROP TABLE IF EXISTS {table}")
        store.close()


@pytest.mark.parametrize("size", [1, 150])  # arrays, and the COPY of a large batch
def test_a_nul_character_never_stops_a_read_model_write(store_settings: Settings,
                                                        size: int) -> None:
    """The domain refuses control characters; should one reach a read model anyway,
    PostgreSQL (which cannot store NUL) gets a replacement character, not an error. Text
    of a str subclass (a StrEnum member) is stored as its plain text."""
    store = build_read_store(store_settings)
    try:
        with store.transaction() as tx:
            tx.execute(ddl("CREATE TABLE t_nul (k TEXT PRIMARY KEY, site TEXT, status TEXT, "
                           "body {json})", store.dialect))
        with store.transaction() as tx:
            upsert_rows(tx, "t_nul", ["k"], [
                {"k": f"a{i}", "site": "Leeds\x00", "status": EpisodeStatus.OPEN,
                 "body": Json({"x": "y\x00", "z": "\\u0000"})} for i in range(size)])
        rows = store.fetchall("SELECT * FROM t_nul")
        assert len(rows) == size
        for row in rows:
            assert row["site"] in ("Leeds\x00", "Leeds\ufffd")  # SQLite keeps it; PG replaces
            assert row["status"] == "open"
            assert as_json(row["body"])["x"] in ("y\x00", "y\ufffd")
            assert as_json(row["body"])["z"] == "\\u0000"  # a literal backslash-u is text
    finally:
        with store.transaction() as tx:
            tx.execute("DROP TABLE IF EXISTS t_nul")
        store.close()
