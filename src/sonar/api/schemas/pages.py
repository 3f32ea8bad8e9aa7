"""A page of a list: the items, and where the next page starts."""

from __future__ import annotations

from typing import Generic, TypeVar

from pydantic import Field

from sonar.api.schemas.common import Answer

T = TypeVar("T")


class Page(Answer, Generic[T]):
    """One page of a longer list; ask again with ``offset=next_offset`` for the next."""

    items: list[T]
    limit: int = Field(description="The most items a page holds.")
    offset: int = Field(description="How many items came before this page.")
    next_offset: int | None = Field(description="Where the next page starts; null on the last.")
