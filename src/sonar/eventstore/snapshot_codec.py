"""Snapshots in pickle's binary format, read back through an allowlist of classes.

A snapshot is a cache of a care record's state, not evidence (the events are), so it can
use the encoding that is fastest to load. The tagged JSON of events builds a dict per tag
before the value it stands for; for a 1,000-event record that doubled the objects built on
a cold load. Pickle builds each object once.

Loading pickle can run any callable a stored byte stream names, so the unpickler resolves
names only to the value types registered with the transcoder (by class name, like the JSON
tags) and to the ``datetime``/``uuid`` classes they hold; anything else is refused. Snapshots
written as JSON before this codec (the first byte is ``{``) are still read.
"""

from __future__ import annotations

import io
import pickle
from datetime import date, datetime, timedelta, timezone
from typing import Any
from uuid import UUID

from eventsourcing.persistence import Transcoder

from sonar.eventstore.transcoder import ValueTranscoder

PROTOCOL = 5
_STDLIB: dict[tuple[str, str], type[Any]] = {
    ("datetime", "datetime"): datetime,
    ("datetime", "date"): date,
    ("datetime", "timedelta"): timedelta,
    ("datetime", "timezone"): timezone,
    ("uuid", "UUID"): UUID,
}


class SnapshotRefused(pickle.UnpicklingError):
    """A stored snapshot names a class outside the allowlist."""


class _Unpickler(pickle.Unpickler):
    def __init__(self, data: bytes, types: dict[str, type[Any]]) -> None:
        super().__init__(io.BytesIO(data))
        self._types = types

    def find_class(self, module: str, name: str) -> Any:
        cls = self._types.get(name) or _STDLIB.get((module, name))
        if cls is None:
            msg = f"snapshot names {module}.{name}, which is not a registered value type"
            raise SnapshotRefused(msg)
        return cls


class SnapshotTranscoder(Transcoder):
    """Encodes snapshots with pickle; decodes pickle (allowlisted) or older JSON."""

    def __init__(self, values: ValueTranscoder) -> None:
        self._values = values
        self._types = values.types  # registered before snapshots are read; copied once

    def encode(self, obj: Any) -> bytes:
        return pickle.dumps(obj, protocol=PROTOCOL)

    def decode(self, data: bytes) -> Any:
        if data[:1] == b"\x80":  # pickle's PROTO opcode
            return _Unpickler(data, self._types).load()
        return self._values.decode(data)  # a snapshot written as JSON
