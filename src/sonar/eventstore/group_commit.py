"""Group commit: the events of concurrent commands saved in one transaction.

The event table is locked while events are inserted (so positions are committed in order
and readers never skip one), which makes every commit wait for the one before. Commands
arriving while a commit is in flight queue up; the next thread through becomes the leader
and saves every queued command's aggregates together: one lock, one flush to disk, many
commands. Each command is still acknowledged only after the transaction holding its events
has committed, so an acknowledged command is durable.

A batch never holds two commands on the same aggregate (the later one waits for the next
batch). If a batch's save fails (one command lost a race with another process, say), each
of its commands is saved on its own, so one conflict fails only its own command; nothing is
half-written, since each save is one transaction.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from eventsourcing.persistence import Recording

Save = Callable[..., list[Recording[UUID]]]


def _held() -> threading.Lock:
    lock = threading.Lock()
    lock.acquire()
    return lock


@dataclass(eq=False)
class _Pending:
    objs: Sequence[Any]  # the aggregates (their events taken off them) and their events
    ids: frozenset[UUID]
    recordings: list[Recording[UUID]] = field(default_factory=list)
    error: BaseException | None = None
    done: bool = False
    # Released once, to wake the command's thread: when its commit is over, or when it is
    # handed the lead. One lock per command wakes just that thread; a shared condition's
    # notify_all woke every waiting writer to find most had nothing to do (6% of a busy
    # writers' process).
    wake: threading.Lock = field(default_factory=_held)


class GroupCommit:
    def __init__(self, save: Save, max_batch: int = 64) -> None:
        self._save, self.max_batch = save, max_batch
        self._lock = threading.Lock()
        self._queue: list[_Pending] = []
        self._leading = False  # a thread is committing; the others wait to be woken
        self.batches = 0  # commits made, for the benchmark's notes
        self.commands = 0

    def save(self, *objs: Any) -> list[Recording[UUID]]:
        """Save these aggregates, with whatever else is waiting; return their recordings."""
        events = [e for o in objs for e in o.collect_events()]  # kept for a retry alone
        item = _Pending((*events, *objs), frozenset(o.id for o in objs))
        with self._lock:
            self._queue.append(item)
            leading = not self._leading
            self._leading = True
        if not leading:
            item.wake.acquire()  # committed by the leader, or made the leader
            leading = not item.done
        if leading:
            try:
                while not item.done:  # lead until this command's own commit is over
                    with self._lock:
                        batch = self._take()
                    try:
                        self._commit(batch)
                    finally:
                        self._finish(batch, item)
            finally:
                self._hand_over()
        if item.error is not None:
            raise item.error
        return item.recordings

    @staticmethod
    def _finish(batch: list[_Pending], leader: _Pending) -> None:
        """Wake the batch's other commands, each done (with an error if the commit broke
        off before it got to them, so none of them takes the lead)."""
        for pending in batch:
            if not pending.done:
                pending.error = RuntimeError("the group commit broke off")
                pending.done = True
            if pending is not leader:
                pending.wake.release()

    def _hand_over(self) -> None:
        """The oldest waiting command's thread leads next; with none waiting, the next
        command to arrive does."""
        with self._lock:
            if self._queue:
                self._queue[0].wake.release()
            else:
                self._leading = False

    def _take(self) -> list[_Pending]:
        """The queue's oldest commands, at most one per aggregate; the rest stay queued."""
        batch: list[_Pending] = []
        claimed: set[UUID] = set()
        for pending in self._queue:
            if len(batch) == self.max_batch:
                break
            if claimed.isdisjoint(pending.ids):
                batch.append(pending)
                claimed |= pending.ids
        self._queue = [p for p in self._queue if p not in batch]
        return batch

    def _commit(self, batch: list[_Pending]) -> None:
        try:
            recordings = self._save(*(o for p in batch for o in p.objs))
        except BaseException as exc:
            if len(batch) == 1:
                batch[0].error = exc
            else:  # find out whose command it was: each one alone
                for pending in batch:
                    try:
                        pending.recordings = self._save(*pending.objs)
                    except BaseException as own:
                        pending.error = own
        else:
            for pending in batch:
                pending.recordings = [r for r in recordings
                                      if r.domain_event.originator_id in pending.ids]
        self.batches += 1
        self.commands += len(batch)
        for pending in batch:
            pending.done = True
