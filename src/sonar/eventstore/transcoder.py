"""JSON transcoding of events and snapshots that round-trips SONAR's value objects exactly.

eventsourcing's JSONTranscoder needs one Transcoding per type and turns tuples into lists;
replay must rebuild *identical* state, so this transcoder tags the few non-JSON types
(dataclass, enum, tuple, date, datetime, UUID) and restores them by registered name.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Iterable
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
        self._handlers: dict[type[Any], Callable[[Any], Any]] = {}
        self._encoder = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False,
                                         check_circular=False)
        # One decoder, kept: json.loads with an object_hook builds a new one per call.
        self._decoder = json.JSONDecoder(object_hook=self._from_json)
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
        """The value encoded as ``data`` (UTF-8 JSON, as ``encode`` writes it)."""
        return self._decoder.decode(data if isinstance(data, str) else data.decode())

    def _to_json(self, obj: Any) -> Any:
        """The JSON-able form of ``obj``: a handler chosen by its exact type, found once per
        type (isinstance chains per value were a tenth of a command's time)."""
        kind = type(obj)
        if kind is str or kind is int or kind is float or kind is bool or obj is None:
            return obj
        handler = self._handlers.get(kind)
        if handler is None:
            handler = self._handlers[kind] = self._handler_for(kind)
        return handler(obj)

    def _handler_for(self, kind: type[Any]) -> Callable[[Any], Any]:
        if issubclass(kind, Enum):
            name = kind.__qualname__
            return lambda o: {TAG: "E", "c": name, "v": o.value}
        if issubclass(kind, str | int | float):  # bool is an int
            return lambda o: o
        if issubclass(kind, dict):
            return self._dict
        if issubclass(kind, list):
            return lambda o: [self._to_json(v) for v in o]
        if issubclass(kind, tuple):
            return lambda o: {TAG: "T", "v": [self._to_json(v) for v in o]}
        if issubclass(kind, datetime):
            return lambda o: {TAG: "dt", "v": o.isoformat()}
        if issubclass(kind, date):
            return lambda o: {TAG: "d", "v": o.isoformat()}
        if issubclass(kind, UUID):
            return lambda o: {TAG: "u", "v": o.hex}
        if dataclasses.is_dataclass(kind):
            name = kind.__qualname__
            if name not in self._types:
                msg = f"Value type {name} is not registered with the transcoder"
                raise TypeError(msg)
            to_json = self._to_json
            return lambda o: {TAG: "D", "c": name,
                              "v": {k: to_json(v) for k, v in vars(o).items()}}
        msg = f"Cannot transcode {kind.__qualname__}"
        raise TypeError(msg)

    def _dict(self, obj: dict[Any, Any]) -> Any:
        if TAG not in obj and all(isinstance(k, str) for k in obj):
            return {k: self._to_json(v) for k, v in obj.items()}
        return {TAG: "M", "v": [[self._to_json(k), self._to_json(v)] for k, v in obj.items()]}

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
