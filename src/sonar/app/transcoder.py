"""JSON transcoding of events and snapshots that round-trips SONAR's value objects exactly.

eventsourcing's JSONTranscoder needs one Transcoding per type and turns tuples into lists;
replay must rebuild *identical* state, so this transcoder tags the few non-JSON types
(dataclass, enum, tuple, date, datetime, UUID) and restores them by registered name.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterable
from datetime import date, datetime
from enum import Enum
from typing import Any
from uuid import UUID

from eventsourcing.persistence import Transcoder

TAG = "§"


class ValueTranscoder(Transcoder):
    """Encodes registered dataclasses and enums by class name; everything else is JSON."""

    def __init__(self, types: Iterable[type[Any]] = ()) -> None:
        self._types: dict[str, type[Any]] = {}
        self._encoder = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False,
                                         check_circular=False)
        for cls in types:
            self.register(cls)

    @property
    def types(self) -> dict[str, type[Any]]:
        """The registered value types by class name (a copy)."""
        return dict(self._types)

    def register(self, cls: type[Any]) -> None:
        name = cls.__qualname__
        if self._types.setdefault(name, cls) is not cls:
            msg = f"Two value types are named {name}"
            raise ValueError(msg)

    def encode(self, obj: Any) -> bytes:
        return self._encoder.encode(self._to_json(obj)).encode("utf-8")

    def decode(self, data: bytes) -> Any:
        return json.loads(data, object_hook=self._from_json)

    def _to_json(self, obj: Any) -> Any:
        if obj is None or (isinstance(obj, bool | int | float) and not isinstance(obj, Enum)):
            return obj
        if isinstance(obj, Enum):
            return {TAG: "E", "c": type(obj).__qualname__, "v": obj.value}
        if isinstance(obj, str):
            return obj
        if isinstance(obj, dict):
            if all(isinstance(k, str) for k in obj) and TAG not in obj:
                return {k: self._to_json(v) for k, v in obj.items()}
            return {TAG: "M", "v": [[self._to_json(k), self._to_json(v)] for k, v in obj.items()]}
        if isinstance(obj, list):
            return [self._to_json(v) for v in obj]
        if isinstance(obj, tuple):
            return {TAG: "T", "v": [self._to_json(v) for v in obj]}
        if isinstance(obj, datetime):
            return {TAG: "dt", "v": obj.isoformat()}
        if isinstance(obj, date):
            return {TAG: "d", "v": obj.isoformat()}
        if isinstance(obj, UUID):
            return {TAG: "u", "v": obj.hex}
        if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
            name = type(obj).__qualname__
            if name not in self._types:
                msg = f"Value type {name} is not registered with the transcoder"
                raise TypeError(msg)
            return {TAG: "D", "c": name, "v": {k: self._to_json(v) for k, v in vars(obj).items()}}
        msg = f"Cannot transcode {type(obj).__qualname__}"
        raise TypeError(msg)

    def _from_json(self, obj: dict[str, Any]) -> Any:
        tag = obj.get(TAG)
        if tag is None:
            return obj
        value = obj["v"]
        if tag == "D":
            instance = object.__new__(self._types[obj["c"]])
            object.__setattr__(instance, "__dict__", value)
            return instance
        if tag == "E":
            return self._types[obj["c"]](value)
        if tag == "T":
            return tuple(value)
        if tag == "dt":
            return datetime.fromisoformat(value)
        if tag == "d":
            return date.fromisoformat(value)
        if tag == "u":
            return UUID(value)
        if tag == "M":
            return dict(value)
        msg = f"Unknown transcoding tag {tag!r}"
        raise TypeError(msg)
