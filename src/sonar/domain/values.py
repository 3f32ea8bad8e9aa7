"""The base of SONAR's frozen value objects."""

from __future__ import annotations

from typing import Any, Self


class Immutable:
    """A frozen value: copying it gives the same object, since nothing in it can change.

    The application copies a cached care record before each command; with this, the copy
    stops at the values (TOP answers, attributions, plans) and only the mutable parts of the
    record (episodes, entries, diary) are copied.
    """

    __slots__ = ()

    def __copy__(self) -> Self:
        return self

    def __deepcopy__(self, memo: dict[int, Any]) -> Self:
        return self
