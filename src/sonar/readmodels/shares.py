"""Rebuilding read models in several processes at once, each replaying a share of the log.

Every row of every read model belongs to one patient, and everything a row is made from
is in that patient's stream, so a rebuild can be split by stream: share ``i`` of ``n``
replays the events of its streams (``sonar.eventstore.pg_recorder.Share``), in log order, into
the same new generation of tables. No two shares write the same row, and each applies its
events exactly as a single runner would, so the tables come out the same (a test holds
them to it). On 2 cores the shares, the database and the coordinator share the machine;
on more, the rebuild goes as fast as the database can take the rows.

The coordinator (``ProjectionRunner.rebuild_many``) fixes the head, runs one job per
share through ``ShareWorkers``, applies whatever arrived after the head itself, and swaps
the new generation in. A share that fails fails the rebuild; the live generation is
untouched and the next rebuild starts again.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from sonar.eventstore.pg_recorder import Share


@dataclass(frozen=True)
class ShareJob:
    """Replay ``share`` of the log, up to ``head``, into these generations of these models."""

    share: Share
    head: int
    models: tuple[tuple[str, int], ...]  # (projection name, generation)
    batch_size: int

    def meta_name(self, projection: str) -> str:
        """The job's own position row for a model (beside the rebuild's ``name#rebuild``)."""
        return f"{projection}#rebuild#{self.share.index}of{self.share.count}"


class ShareFailed(RuntimeError):
    """A share of a rebuild did not finish; the rebuild is abandoned."""


class ShareWorkers(Protocol):
    """Runs share jobs side by side, in other processes."""

    count: int  # how many shares a rebuild is split into

    def run(self, jobs: Sequence[ShareJob], progress: Callable[[int], None] | None) -> None:
        """Run every job to its head; ``progress`` gets the position every share has
        reached. Raises ``ShareFailed`` if any job fails (the others are stopped)."""
