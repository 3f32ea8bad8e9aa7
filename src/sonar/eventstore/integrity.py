"""Tamper evidence: a hash chain through every stream, and Merkle checkpoints of the log.

Each stored event carries ``__chain__`` = SHA-256 over the previous event's chain value,
its originator id, version, topic and the exact stored JSON of its state (which holds the
timestamp and payload). Altering, deleting or reordering a stored row breaks the chain at
that row. Deleting a stream's *last* events, or truncating the log's tail, leaves no
broken link, so checkpoints also record a Merkle root over every event's chain value up to
a log position; an auditor keeps a copy outside SONAR and ``sonar audit verify`` checks it.
The chain value is appended to the JSON before compression and encryption, so it is
protected by (and verified after) the cipher when encryption at rest is on.
"""

from __future__ import annotations

import hashlib
import re
import threading
from collections import OrderedDict
from collections.abc import Hashable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any, cast
from uuid import UUID

from eventsourcing.domain import Snapshot
from eventsourcing.persistence import (
    Mapper,
    MapperDeserialisationError,
    StoredEvent,
    find_id_convertor,
)
from eventsourcing.utils import get_topic, resolve_topic

GENESIS = "0" * 64
_CHAIN = re.compile(rb',"__chain__":"([0-9a-f]{64})"}$')
Heads = dict[UUID, tuple[int, str]]


def link(previous: str, originator_id: UUID, version: int, topic: str, body: bytes) -> str:
    digest = hashlib.sha256()
    for part in (previous, str(originator_id), str(version), topic):
        digest.update(part.encode())
        digest.update(b"\n")
    digest.update(body)
    return digest.hexdigest()


class ChainingMapper(Mapper[UUID]):
    """A mapper that threads the per-stream hash chain through every stored event.

    The application tells it each stream's current head (``begin``) just before saving;
    heads are thread-local because one mapper serves concurrent requests.
    """

    KNOWN_HEADS = 20_000  # streams whose latest head is remembered between commands

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._local = threading.local()
        self._known: OrderedDict[UUID, tuple[int, str]] = OrderedDict()
        self._known_lock = threading.Lock()

    def begin(self, heads: Heads) -> None:
        self._local.heads = heads

    def saved(self) -> None:
        """The save that followed ``begin`` committed: its heads are now facts."""
        for originator_id, (version, chain) in getattr(self._local, "heads", {}).items():
            self._remember(originator_id, version, chain)
        self._local.heads = {}

    def _remember(self, originator_id: UUID, version: int, chain: str) -> None:
        with self._known_lock:
            known = self._known.get(originator_id)
            if known is None or known[0] <= version:
                self._known[originator_id] = (version, chain)
                self._known.move_to_end(originator_id)
                if len(self._known) > self.KNOWN_HEADS:
                    self._known.popitem(last=False)

    def to_stored_event(self, domain_event: Any) -> StoredEvent:
        if isinstance(domain_event, Snapshot):
            return super().to_stored_event(domain_event)  # caches, not evidence
        topic = get_topic(type(domain_event))
        state = dict(vars(domain_event))
        originator_id = state.pop("originator_id")
        version = state.pop("originator_version")
        class_version = getattr(type(domain_event), "class_version", 1)
        if class_version > 1:
            state["class_version"] = class_version
        body = self.transcoder.encode(state)
        heads: Heads = getattr(self._local, "heads", {})
        previous = GENESIS
        if version > 1:
            head = heads.get(originator_id)
            if head is None or head[0] != version - 1:
                msg = f"chain head unknown for {originator_id} before version {version}"
                raise RuntimeError(msg)
            previous = head[1]
        chain = link(previous, originator_id, version, topic, body)
        heads[originator_id] = (version, chain)
        stored = body[:-1] + b',"__chain__":"' + chain.encode() + b'"}'
        if self.compressor:
            stored = self.compressor.compress(stored)
        if self.cipher:
            stored = self.cipher.encrypt(stored)
        return StoredEvent(originator_id=originator_id, originator_version=version,
                           topic=topic, state=stored)

    def to_domain_event(self, stored_event: StoredEvent) -> Any:
        return self.decode(stored_event.originator_id, stored_event.originator_version,
                           stored_event.topic, stored_event.state)

    def decode(self, originator_id: UUID | str, version: int, topic: str, state: bytes,
               *, remember: bool = True) -> Any:
        """The domain event of a stored row, as eventsourcing's ``to_domain_event`` makes it
        (state decrypted, decompressed, decoded, upcast), with its chain value taken off.
        ``remember``: keep the stream's head, to extend it without a query next time (a
        projection runner reading the whole log does not: it would churn the bounded cache
        of heads the writers use)."""
        cls = resolve_topic(topic)
        try:
            if self.cipher:
                state = self.cipher.decrypt(state)
            if self.compressor:
                state = self.compressor.decompress(state)
            event_state: dict[str, Any] = self.transcoder.decode(state)
        except Exception as exc:
            msg = (f"Failed to deserialise state of stored event with topic '{topic}', "
                   f"originator_id '{originator_id}' and originator_version {version}: {exc}")
            raise MapperDeserialisationError(msg) from exc
        chain = event_state.pop("__chain__", None)
        convert = find_id_convertor(cls, cast(Hashable, type(originator_id)))
        event_state["originator_id"] = convert(originator_id)
        event_state["originator_version"] = version
        from_version = event_state.pop("class_version", 1)
        class_version = getattr(cls, "class_version", 1)
        while from_version < class_version:
            getattr(cls, f"upcast_v{from_version}_v{from_version + 1}")(event_state)
            from_version += 1
        event = object.__new__(cls)
        object.__setattr__(event, "__dict__", event_state)
        if remember and chain is not None:
            self._remember(event_state["originator_id"], version, chain)
        return event

    def seen_head(self, originator_id: UUID, version: int) -> str | None:
        """The chain value of (id, version) if it was read or written here lately."""
        with self._known_lock:
            head = self._known.get(originator_id)
        return head[1] if head and head[0] == version else None

    def plain_state(self, stored_event: StoredEvent) -> bytes:
        """The stored JSON, decrypted and decompressed."""
        state: bytes | str = stored_event.state
        if isinstance(state, str):  # a row rewritten as text by hand
            state = state.encode()
        if self.cipher:
            state = self.cipher.decrypt(state)
        if self.compressor:
            state = self.compressor.decompress(state)
        return state


def split_chain(plain: bytes) -> tuple[bytes, str] | None:
    """The JSON body as it was hashed, and the chain value; None if there is no chain."""
    found = _CHAIN.search(plain)
    if found is None:
        return None
    return plain[:found.start()] + b"}", found.group(1).decode()


@dataclass(frozen=True)
class BrokenLink:
    position: int
    originator_id: str
    version: int
    reason: str


@dataclass(frozen=True)
class Checkpoint:
    position: int
    root: str
    events: int


@dataclass
class VerifyReport:
    checked: int
    head: int
    broken: BrokenLink | None
    checkpoints_checked: int = 0

    @property
    def ok(self) -> bool:
        return self.broken is None


def merkle_root(leaves: list[bytes]) -> str:
    """Root of a binary Merkle tree (the last node is paired with itself when odd)."""
    if not leaves:
        return GENESIS
    level = leaves
    while len(level) > 1:
        if len(level) % 2:
            level = [*level, level[-1]]
        level = [hashlib.sha256(level[i] + level[i + 1]).digest()
                 for i in range(0, len(level), 2)]
    return level[0].hex()


def leaf(position: int, chain: str) -> bytes:
    return hashlib.sha256(f"{position}:{chain}".encode()).digest()


def verify_stream_order(notifications: Iterable[Any], mapper: ChainingMapper,
                        checkpoints: Iterable[Checkpoint] = ()) -> VerifyReport:
    """Check every link in log order; stop at the first broken one."""
    heads: dict[str, tuple[int, str]] = {}
    leaves: list[bytes] = []
    wanted = sorted(checkpoints, key=lambda c: c.position)
    checked = head = done = 0
    for n in notifications:
        while wanted and wanted[0].position < n.id:  # every leaf up to it is in
            mismatch = _checkpoint_mismatch(wanted.pop(0), leaves)
            if mismatch:
                return VerifyReport(checked, head, BrokenLink(n.id, "-", 0, mismatch), done)
            done += 1
        head = n.id
        oid, version = str(n.originator_id), n.originator_version
        try:
            plain = mapper.plain_state(n)
        except Exception:
            return VerifyReport(checked, head, BrokenLink(
                n.id, oid, version, "stored state cannot be decrypted or decompressed: "
                "the event was altered"), done)
        split = split_chain(plain)
        if split is None:
            return VerifyReport(checked, head, BrokenLink(n.id, oid, version,
                                                          "event has no chain value"), done)
        body, chain = split
        last = heads.get(oid)
        expected_version = last[0] + 1 if last else 1
        if version != expected_version:
            reason = (f"stream jumps from version {last[0] if last else 0} to {version}: "
                      "an event was deleted or reordered")
            return VerifyReport(checked, head, BrokenLink(n.id, oid, version, reason), done)
        previous = last[1] if last else GENESIS
        if link(previous, n.originator_id, version, n.topic, body) != chain:
            return VerifyReport(checked, head, BrokenLink(
                n.id, oid, version, "hash mismatch: the event was altered"), done)
        heads[oid] = (version, chain)
        leaves.append(leaf(n.id, chain))
        checked += 1
        if wanted and wanted[0].position == n.id:
            mismatch = _checkpoint_mismatch(wanted.pop(0), leaves)
            if mismatch:
                return VerifyReport(checked, head, BrokenLink(n.id, oid, version, mismatch), done)
            done += 1
    for cp in wanted:  # checkpoints beyond the last stored event
        mismatch = _checkpoint_mismatch(cp, leaves)
        if mismatch or cp.position > head:
            reason = mismatch or "log truncated"
            return VerifyReport(checked, head, BrokenLink(
                cp.position, "-", 0, f"{reason} (checkpoint at position {cp.position}, "
                f"{cp.events} events; the log now ends at position {head})"), done)
        done += 1
    return VerifyReport(checked, head, None, done)


def _checkpoint_mismatch(cp: Checkpoint, leaves: list[bytes]) -> str | None:
    if len(leaves) != cp.events:
        return (f"checkpoint at position {cp.position} covered {cp.events} events but "
                f"{len(leaves)} remain: events were deleted")
    if merkle_root(leaves) != cp.root:
        return f"checkpoint at position {cp.position}: Merkle root differs"
    return None


def iter_notifications(recorder: Any, batch: int = 1000) -> Iterator[Any]:
    """Every stored event in log order, read in batches."""
    start = 1
    while True:
        found = recorder.select_notifications(start=start, limit=batch)
        if not found:
            return
        yield from found
        start = found[-1].id + 1
