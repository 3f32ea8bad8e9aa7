"""The JSON-ready view of values (timeline payloads, the record read): its type-dispatched
``plain`` gives what the isinstance walk it replaced gave, for any value."""

from __future__ import annotations

import dataclasses
from datetime import date, datetime
from enum import Enum
from typing import Any

from hypothesis import given, settings

from sonar.readmodels.record_view import plain
from tests.unit.app.test_transcoder import VALUES


def reference(value: Any) -> Any:
    """``plain`` as it was before the type dispatch (kept here as the specification)."""
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime | date):
        return value.isoformat()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {k: reference(v) for k, v in vars(value).items()}
    if isinstance(value, dict):
        return {str(k): reference(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [reference(v) for v in value]
    return value


def _typed(value: Any) -> Any:
    """Structure with exact types (so True is not 1 and 'a' from a StrEnum is str)."""
    if isinstance(value, dict):
        return {(type(k).__name__, k): _typed(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_typed(v) for v in value]
    return (type(value).__name__, value)


@settings(max_examples=300, deadline=None)
@given(VALUES)
def test_plain_gives_what_the_reference_walk_gives(value: Any) -> None:
    assert _typed(plain(value)) == _typed(reference(value))


def test_a_class_is_left_as_it_is() -> None:
    @dataclasses.dataclass
    class Thing:
        x: int

    assert plain(Thing) is Thing
    assert plain(Thing(3)) == {"x": 3}
