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

from sonar.app.group_commit import GroupCommit


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
        except IntegrityError as exc:
            results[a.id] = exc
    threads = [threading.Thread(target=one, args=(a,)) for a in aggregates]
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
