"""Group commit: concurrent commands share a transaction, each gets its own result, and a
failure in a shared batch fails only the command that caused it."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any
from uuid import UUID, uuid4

import pytest
from eventsourcing.persistence import IntegrityError

from sonar.eventstore.group_commit import GroupCommit


@dataclass
class FakeAggregate:
    id: UUID = field(default_factory=uuid4)
    pending: list[Any] = field(default_factory=list)

    def collect_events(self) -> list[Any]:
        taken, self.pending = self.pending, []
        return taken


class Store:
    """Stands in for the application's save: records each transaction's contents."""

    def __init__(self, refuse: frozenset[UUID] = frozenset()) -> None:
        self.transactions: list[list[UUID]] = []
        self.refuse = refuse
        self.lock = threading.Lock()

    def save(self, *objs: Any) -> list[Any]:
        events = [o for o in objs if not isinstance(o, FakeAggregate)]
        time.sleep(0.005)  # a commit takes a while: others queue meanwhile
        if self.refuse & {e.originator_id for e in events}:
            raise IntegrityError("duplicate version")
        with self.lock:
            self.transactions.append([e.originator_id for e in events])
            start = sum(len(t) for t in self.transactions)
        return [SimpleNamespace(domain_event=e, notification=SimpleNamespace(id=start + i))
                for i, e in enumerate(events)]


def command(aggregate: FakeAggregate) -> FakeAggregate:
    aggregate.pending.append(SimpleNamespace(originator_id=aggregate.id))
    return aggregate


def run_concurrently(group: GroupCommit, aggregates: list[FakeAggregate],
                     ) -> dict[UUID, Any]:
    results: dict[UUID, Any] = {}

    def one(a: FakeAggregate) -> None:
        try:
            results[a.id] = group.save(command(a))
        except Exception as exc:  # the command's outcome, as its caller would see it
            results[a.id] = exc
    threads = [threading.Thread(target=one, args=(a,), daemon=True) for a in aggregates]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=10)
    return results


def test_concurrent_commands_share_transactions_and_get_their_own_recordings() -> None:
    store = Store()
    group = GroupCommit(store.save)
    aggregates = [FakeAggregate() for _ in range(24)]
    results = run_concurrently(group, aggregates)
    assert sorted(i for t in store.transactions for i in t) == sorted(a.id for a in aggregates)
    assert len(store.transactions) < len(aggregates)  # some commits held several commands
    for a in aggregates:
        (recording,) = results[a.id]
        assert recording.domain_event.originator_id == a.id


def test_a_refused_command_fails_alone_and_the_rest_of_its_batch_is_saved() -> None:
    bad = FakeAggregate()
    store = Store(refuse=frozenset({bad.id}))
    group = GroupCommit(store.save)
    good = [FakeAggregate() for _ in range(12)]
    results = run_concurrently(group, [*good[:6], bad, *good[6:]])
    assert isinstance(results[bad.id], IntegrityError)
    assert all(not isinstance(results[a.id], Exception) for a in good)
    saved = [i for t in store.transactions for i in t]
    assert sorted(saved) == sorted(a.id for a in good)  # each once; the refused one never


def test_one_batch_never_holds_two_commands_on_the_same_aggregate() -> None:
    store = Store()
    group = GroupCommit(store.save)
    shared = FakeAggregate()
    twins = [FakeAggregate(id=shared.id) for _ in range(6)]
    others = [FakeAggregate() for _ in range(6)]
    run_concurrently(group, [*twins, *others])
    assert all(t.count(shared.id) <= 1 for t in store.transactions)
    assert [i for t in store.transactions for i in t].count(shared.id) == 6


@pytest.mark.parametrize("size", [1, 3])
def test_batches_are_capped(size: int) -> None:
    store = Store()
    group = GroupCommit(store.save, max_batch=size)
    run_concurrently(group, [FakeAggregate() for _ in range(10)])
    assert max(len(t) for t in store.transactions) <= size
    assert group.commands == 10


def test_one_commit_at_a_time_and_every_command_is_woken() -> None:
    """One leader at a time: commits never overlap, and every command returns (none is left
    waiting for a wake-up that never comes), over many rounds of hand-over."""
    in_flight, most = [0], [0]
    lock = threading.Lock()
    store = Store()

    def save(*objs: Any) -> list[Any]:
        with lock:
            in_flight[0] += 1
            most[0] = max(most[0], in_flight[0])
        try:
            return store.save(*objs)
        finally:
            with lock:
                in_flight[0] -= 1

    group = GroupCommit(save)
    results = run_concurrently(group, [FakeAggregate() for _ in range(64)])
    assert len(results) == 64
    assert most[0] == 1
    assert group.commands == 64
    assert group.batches < 64


def test_a_commit_that_breaks_off_fails_its_batch_and_the_next_command_leads() -> None:
    """If the leader's commit raises after the save (a bug, not a clash), every command of
    its batch is woken with an error rather than left waiting, and the lead is released."""
    broke = [False]
    store = Store()

    def save(*objs: Any) -> list[Any]:
        time.sleep(0.005)
        if len(objs) > 2 and not broke[0]:  # the first batch of several commands
            broke[0] = True
            return [object()]  # no domain_event: sorting the recordings out raises
        return store.save(*objs)

    group = GroupCommit(save)
    first = run_concurrently(group, [FakeAggregate() for _ in range(8)])
    assert len(first) == 8
    failed = [r for r in first.values() if isinstance(r, BaseException)]
    assert broke[0]
    assert len(failed) >= 2
    assert all(isinstance(r, RuntimeError | AttributeError) for r in failed)
    (recording,) = group.save(command(FakeAggregate()))  # nobody holds the lead
    assert recording.notification.id >= 1
