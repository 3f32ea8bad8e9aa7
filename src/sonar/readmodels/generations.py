"""Generations of a read model's tables: each generation has its own tables
(``rm_<table>_g<N>``) and readers use stable views (``rm_<table>``), so a rebuild fills a
new generation while the old one serves, then swaps the views in one transaction."""

from __future__ import annotations

from sonar.readmodels.base import Projection
from sonar.readmodels.positions import insert_meta
from sonar.sqlstore.store import Dialect, Tx


def create_generation(tx: Tx, dialect: Dialect, projection: Projection, generation: int, *,
                      indexes: bool = True) -> list[str]:
    """Create a generation's tables; return its secondary indexes if not ``indexes``
    (a rebuild builds them once its rows are in, rather than row by row)."""
    for table in projection.physical(generation).values():
        tx.execute(f"DROP TABLE IF EXISTS {table}")
    later = []
    for statement in projection.create_sql(dialect, generation):
        if not indexes and statement.upper().startswith("CREATE INDEX"):
            later.append(statement)
        else:
            tx.execute(statement)
    return later


def swap_views(tx: Tx, projection: Projection, old: int | None, new: int) -> None:
    """Point the views at generation ``new`` and drop generation ``old``'s tables."""
    for logical, table in projection.physical(new).items():
        tx.execute(f"DROP VIEW IF EXISTS rm_{logical}")
        tx.execute(f"CREATE VIEW rm_{logical} AS SELECT * FROM {table}")
    if old is not None and old != new:
        for table in projection.physical(old).values():
            tx.execute(f"DROP TABLE IF EXISTS {table}")


def create_first(tx: Tx, dialect: Dialect, projection: Projection) -> None:
    """A read model that does not exist yet: generation 1, empty, at position 0."""
    create_generation(tx, dialect, projection, 1)
    swap_views(tx, projection, None, 1)
    insert_meta(tx, projection.name, projection.version, 1, 0)
