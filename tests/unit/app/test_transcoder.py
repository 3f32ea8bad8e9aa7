"""The value transcoder: its type-dispatched encoder writes exactly the bytes of the plain
isinstance walk it replaced (stored fingerprints and hash chains depend on them), and what
it writes decodes to an equal value."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, date, datetime
from enum import Enum
from typing import Any
from uuid import UUID

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sonar.domain import VALUE_TYPES
from sonar.domain.sms_episode import EpisodeStatus
from sonar.eventstore.transcoder import TAG, ValueTranscoder
from tests import strategies as s

CODEC = ValueTranscoder(VALUE_TYPES)


def reference(obj: Any) -> Any:
    """The walk as it was before the type dispatch (kept here as the specification)."""
    if obj is None or (isinstance(obj, bool | int | float) and not isinstance(obj, Enum)):
        return obj
    if isinstance(obj, Enum):
        return {TAG: "E", "c": type(obj).__qualname__, "v": obj.value}
    if isinstance(obj, str):
        return obj
    if isinstance(obj, dict):
        if all(isinstance(k, str) for k in obj) and TAG not in obj:
            return {k: reference(v) for k, v in obj.items()}
        return {TAG: "M", "v": [[reference(k), reference(v)] for k, v in obj.items()]}
    if isinstance(obj, list):
        return [reference(v) for v in obj]
    if isinstance(obj, tuple):
        return {TAG: "T", "v": [reference(v) for v in obj]}
    if isinstance(obj, datetime):
        return {TAG: "dt", "v": obj.isoformat()}
    if isinstance(obj, date):
        return {TAG: "d", "v": obj.isoformat()}
    if isinstance(obj, UUID):
        return {TAG: "u", "v": obj.hex}
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {TAG: "D", "c": type(obj).__qualname__,
                "v": {k: reference(v) for k, v in vars(obj).items()}}
    raise TypeError(type(obj).__qualname__)


def reference_bytes(obj: Any) -> bytes:
    return json.dumps(reference(obj), separators=(",", ":"), ensure_ascii=False).encode()


LEAVES = st.one_of(
    st.none(), st.booleans(), st.integers(-(2**70), 2**70), st.floats(allow_nan=False),
    st.text(max_size=8), st.dates(), st.datetimes(timezones=st.just(UTC)), st.uuids(),
    st.sampled_from(list(EpisodeStatus)), s.risk_assessments, s.tops, s.care_plans,
    s.reviews, s.referrals, s.actors)
VALUES = st.recursive(LEAVES, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.lists(inner, max_size=4).map(tuple),
    st.dictionaries(st.text(max_size=4), inner, max_size=4),
    st.dictionaries(st.integers(0, 9), inner, max_size=3),
    st.dictionaries(st.sampled_from(list(EpisodeStatus)), inner, max_size=3)), max_leaves=12)


@settings(max_examples=300, deadline=None)
@given(VALUES)
def test_the_encoder_writes_the_bytes_of_the_reference_walk(value: Any) -> None:
    assert CODEC.encode(value) == reference_bytes(value)
    assert CODEC.decode(CODEC.encode(value)) == value


def test_an_unregistered_dataclass_is_refused_every_time() -> None:
    @dataclasses.dataclass
    class Stray:
        x: int

    for _ in range(2):
        with pytest.raises(TypeError, match="not registered"):
            CODEC.encode({"a": Stray(1)})
    with pytest.raises(TypeError, match="Cannot transcode"):
        CODEC.encode(object())


@settings(max_examples=100, deadline=None)
@given(VALUES)
def test_text_decodes_as_its_utf8_bytes_do(value: Any) -> None:
    """Stored states are bytes; a row rewritten by hand may come back as text."""
    encoded = CODEC.encode(value)
    assert CODEC.decode(encoded.decode()) == CODEC.decode(encoded) == value
