"""Form definitions: labelled fields, their conversion to API bodies, and error placement.

A field's ``api`` name is the API's name for it (``answers.opiates_days``), so a problem
detail's ``errors[].field`` finds the input it concerns and the message goes beside it.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from sonar.ui._api import FieldProblem

Values = Mapping[str, str | list[str]]


class Kind(StrEnum):
    TEXT = "text"
    PASSWORD = "password"  # noqa: S105 - an input type, not a password
    DATE = "date"
    NUMBER = "number"  # text with a numeric keypad: range errors come from the API
    SELECT = "select"
    YES_NO = "yes_no"  # blank is "not answered", distinct from No
    CHECKBOX = "checkbox"
    CHECKBOXES = "checkboxes"
    TEXTAREA = "textarea"


@dataclass(frozen=True)
class Field:
    name: str
    label: str
    kind: Kind = Kind.TEXT
    options: tuple[tuple[str, str], ...] = ()
    hint: str = ""
    required: bool = False
    api: str = ""  # the API's field path, when not the same as ``name``
    width: str = ""  # a CSS width class for short answers

    @property
    def id(self) -> str:
        return f"f-{self.name}"

    @property
    def api_path(self) -> str:
        return self.api or self.name


@dataclass(frozen=True)
class Section:
    legend: str
    fields: tuple[Field, ...]


@dataclass(frozen=True)
class Form:
    title: str
    sections: tuple[Section, ...]
    submit: str
    intro: str = ""

    @property
    def fields(self) -> tuple[Field, ...]:
        return tuple(f for s in self.sections for f in s.fields)


@dataclass
class Errors:
    """Problems to show: by field name (beside the input) and in summary order."""

    by_field: dict[str, str] = field(default_factory=dict)
    summary: list[tuple[str | None, str]] = field(default_factory=list)  # (field id, message)

    def add(self, f: Field | None, message: str) -> None:
        if f is not None and f.name in self.by_field:
            return  # one message per field; the first is the one to fix first
        if f is not None:
            self.by_field[f.name] = message
        self.summary.append((f.id if f else None, message))

    def __bool__(self) -> bool:
        return bool(self.summary)


def options(terms: Mapping[str, str]) -> tuple[tuple[str, str], ...]:
    return tuple(terms.items())


def to_body(form: Form, values: Values) -> tuple[dict[str, Any], Errors]:
    """The API body from submitted values; blanks are left out, so "not answered" stays so."""
    body: dict[str, Any] = {}
    errors = Errors()
    for f in form.fields:
        raw = values.get(f.name, "")
        try:
            value = _convert(f, raw)
        except ValueError:
            errors.add(f, f"{f.label} must be a number, like 12 or 0.5")
            continue
        if value is None:
            if f.required:
                errors.add(f, f"Enter {f.label.lower()}")
            continue
        _put(body, f.api_path.split("."), value)
    return body, errors


def _convert(f: Field, raw: str | list[str]) -> Any:
    if f.kind is Kind.CHECKBOXES:
        return [v for v in (raw if isinstance(raw, list) else [raw]) if v]
    text = (raw[0] if raw else "") if isinstance(raw, list) else raw
    text = text.strip()
    if f.kind is Kind.CHECKBOX:
        return bool(text)
    if not text:
        return None
    if f.kind is Kind.YES_NO:
        return {"yes": True, "no": False}.get(text)
    if f.kind is Kind.NUMBER:
        try:
            return int(text)
        except ValueError:
            number = float(text)  # ValueError reaches the caller: "must be a number"
            if not math.isfinite(number):
                raise ValueError(text) from None
            return number
    return text


def _put(body: dict[str, Any], path: list[str], value: Any) -> None:
    for part in path[:-1]:
        body = body.setdefault(part, {})
    body[path[-1]] = value


def place(form: Form, problems: Iterable[FieldProblem]) -> Errors:
    """Put each API problem beside its field (or in the summary only, if it has none here)."""
    by_api = {f.api_path: f for f in form.fields}
    errors = Errors()
    for p in problems:
        errors.add(_match(by_api, p.field), p.message)
    return errors


def _match(by_api: Mapping[str, Field], name: str | None) -> Field | None:
    if name is None:
        return None
    name = name.removeprefix("body.")
    while name:  # "substances.0" is about the "substances" field
        if name in by_api:
            return by_api[name]
        name = name.rpartition(".")[0]
    return None
