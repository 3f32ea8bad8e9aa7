"""Form definitions: labelled fields, their conversion to API bodies, and error placement.

A field's ``api`` name is the API's name for it (``answers.opiates_days``), so a problem
detail's ``errors[].field`` finds the input it concerns and the message goes beside it.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from sonar.domain.attribution import CLINICAL_TZ
from sonar.ui._api import FieldProblem

Values = Mapping[str, str | list[str]]


class Kind(StrEnum):
    TEXT = "text"
    PASSWORD = "password"  # noqa: S105 - an input type, not a password
    DATE = "date"
    DATETIME = "datetime"  # a local (England) date and time, sent with its offset
    NUMBER = "number"  # text with a numeric keypad: range errors come from the API
    SELECT = "select"
    YES_NO = "yes_no"  # blank is "not answered", distinct from No
    CHECKBOX = "checkbox"
    CHECKBOXES = "checkboxes"
    TEXTAREA = "textarea"
    LINES = "lines"  # a list, one item a line; with ``columns``, comma-separated objects


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
    columns: tuple[str, ...] = ()  # LINES of objects: the API's key for each comma part

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
        except ValueError as e:
            errors.add(f, str(e))
            continue
        if value is None:
            if f.required:
                errors.add(f, _missing(f))
            continue
        _put(body, f.api_path.split("."), value)
    return body, errors


def _missing(f: Field) -> str:
    """GOV.UK wording: "Enter ..." or "Select ..."; acronyms (TOP, ACCT) keep their case."""
    label = f.label if f.label[1:2].isupper() else f.label[:1].lower() + f.label[1:]
    if f.kind is Kind.YES_NO:
        return f"Answer yes or no: {label}"
    return f"{'Select' if f.kind is Kind.SELECT else 'Enter'} {label}"


def _convert(f: Field, raw: str | list[str]) -> Any:
    if f.kind is Kind.CHECKBOXES:
        return [v for v in (raw if isinstance(raw, list) else [raw]) if v]
    text = (raw[0] if raw else "") if isinstance(raw, list) else raw
    if f.kind is Kind.LINES:  # always a list: "none" is an answer the API may refuse
        lines = [line.strip() for line in text.splitlines() if line.strip()]
        return [_columns(f, i, line) for i, line in enumerate(lines)] if f.columns else lines
    text = text.strip()
    if f.kind is Kind.CHECKBOX:
        return bool(text)
    if not text:
        return None
    if f.kind is Kind.YES_NO:
        return {"yes": True, "no": False}.get(text)
    if f.kind is Kind.NUMBER:
        return _number(f, text)
    if f.kind is Kind.DATETIME:
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            raise ValueError(f"{f.label} must be a date and time, like 2026-03-01 09:30"
                             ) from None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=CLINICAL_TZ)
        return moment.isoformat()
    return text


def _number(f: Field, text: str) -> int | float:
    try:
        return int(text)
    except ValueError:
        pass
    try:
        number = float(text)
    except ValueError:
        number = math.nan
    if not math.isfinite(number):
        raise ValueError(f"{f.label} must be a number, like 12 or 0.5")
    return number


def _columns(f: Field, index: int, line: str) -> dict[str, Any]:
    """``"Methadone 1mg/ml, 7"`` → ``{"name": "Methadone 1mg/ml", "days": 7}``."""
    parts = [p.strip() for p in line.rsplit(",", len(f.columns) - 1)]
    if len(parts) != len(f.columns) or not all(parts):
        raise ValueError(f"Line {index + 1}: write {', '.join(f.columns)}, "
                         "separated by commas")
    return {k: int(v) if re.fullmatch(r"-?\d+", v) else v for k, v in zip(f.columns, parts,
                                                                          strict=True)}


def _put(body: dict[str, Any], path: list[str], value: Any) -> None:
    for part in path[:-1]:
        body = body.setdefault(part, {})
    body[path[-1]] = value


def place(form: Form, problems: Iterable[FieldProblem]) -> Errors:
    """Put each API problem beside its field (or in the summary only, if it has none here)."""
    by_api = {f.api_path: f for f in form.fields}
    errors = Errors()
    for p in problems:
        found, line = _match(by_api, p.field)
        lined = line is not None and found is not None and found.kind is Kind.LINES
        errors.add(found, f"Line {(line or 0) + 1}: {p.message}" if lined else p.message)
    return errors


def _match(by_api: Mapping[str, Field], name: str | None) -> tuple[Field | None, int | None]:
    """The field a problem concerns and, for a list, which item (0-based) it is about.

    ``substances.0``, ``substances[0]`` and ``medicines.0.days`` are about the field
    holding the list; the index after the field's path says which line of a LINES field.
    """
    if name is None:
        return None, None
    parts = [p for p in re.split(r"[.\[\]]+", name) if p]
    if parts and parts[0] in ("body", "query"):
        parts = parts[1:]
    for end in range(len(parts), 0, -1):
        path = ".".join(parts[:end])
        if path in by_api:
            rest = parts[end:]
            return by_api[path], int(rest[0]) if rest and rest[0].isdigit() else None
    return None, None
