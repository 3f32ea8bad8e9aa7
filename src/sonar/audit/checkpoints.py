"""Log checkpoints for auditors: Merkle roots of the log's head, stored and exportable.

A checkpoint kept only inside SONAR proves little against someone who can rewrite the
database; its value is the copy exported to a third party (``sonar audit checkpoint
--export``), which ``sonar audit verify --checkpoints FILE`` checks the log against.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sonar.eventstore.application import SonarApplication
from sonar.eventstore.integrity import (
    Checkpoint,
    VerifyReport,
    iter_notifications,
    leaf,
    merkle_root,
    split_chain,
    verify_stream_order,
)
from sonar.sqlstore.records import RecordStore
from sonar.sqlstore.store import ddl

TABLES = ("audit_checkpoint",)
_DDL = ("CREATE TABLE IF NOT EXISTS audit_checkpoint (position {bigint} PRIMARY KEY, "
        "root TEXT NOT NULL, events INTEGER NOT NULL, created_at {ts} NOT NULL)")


def ensure_table(store: RecordStore) -> None:
    with store.transaction() as tx:
        tx.execute(ddl(_DDL, store.dialect))


def take_checkpoint(app: SonarApplication, store: RecordStore) -> Checkpoint:
    """Merkle root over every event's chain value up to the current head."""
    ensure_table(store)
    leaves, position = [], 0
    for n in iter_notifications(app.recorder):
        split = split_chain(app.chaining_mapper.plain_state(n))
        if split is None:
            msg = f"event at position {n.id} has no chain value; run `sonar audit verify`"
            raise RuntimeError(msg)
        leaves.append(leaf(n.id, split[1]))
        position = n.id
    checkpoint = Checkpoint(position, merkle_root(leaves), len(leaves))
    with store.transaction() as tx:
        tx.execute("DELETE FROM audit_checkpoint WHERE position = ?", [position])
        tx.execute("INSERT INTO audit_checkpoint VALUES (?, ?, ?, ?)",
                   [checkpoint.position, checkpoint.root, checkpoint.events, datetime.now(UTC)])
    return checkpoint


def stored_checkpoints(store: RecordStore) -> list[Checkpoint]:
    ensure_table(store)
    return [Checkpoint(int(r["position"]), r["root"], int(r["events"]))
            for r in store.fetchall("SELECT position, root, events FROM audit_checkpoint "
                                    "ORDER BY position")]


def export_checkpoints(checkpoints: list[Checkpoint]) -> str:
    return json.dumps({"format": "sonar.checkpoints.v1", "checkpoints": [
        {"position": c.position, "root": c.root, "events": c.events} for c in checkpoints]},
        indent=2)


def load_checkpoints(path: Path) -> list[Checkpoint]:
    return load_checkpoints_from_text(path.read_text())


def verify(app: SonarApplication, checkpoints: list[Checkpoint]) -> VerifyReport:
    return verify_stream_order(iter_notifications(app.recorder), app.chaining_mapper,
                               checkpoints)


def load_checkpoints_from_text(text: str) -> list[Checkpoint]:
    data: dict[str, Any] = json.loads(text)
    return [Checkpoint(int(c["position"]), str(c["root"]), int(c["events"]))
            for c in data["checkpoints"]]
