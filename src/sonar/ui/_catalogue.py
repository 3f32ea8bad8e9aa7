"""The clinical steps the UI offers, made from the command registry, and their forms.

A step's form is made from its command's fields: the label is the field's title, the hint
its description, the kind of input follows the field's type (yes/no for a required
boolean, a choice for a coded field, a date or a UK date and time, lines for a list), and
the API's field names are the inputs' names, so a problem the API names lands beside its
input. ``_layouts`` groups a form's fields into sections where that reads better; the TOP
is the one form laid out by hand (its grid of items).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from types import NoneType, UnionType
from typing import Annotated, Any, Union, get_args, get_origin

from pydantic import AwareDatetime, BaseModel
from pydantic.fields import FieldInfo

from sonar.commands.base import Command, PatientCommand
from sonar.commands.pathway import RecordTop
from sonar.commands.record import RegisterPatient
from sonar.commands.registry import routed
from sonar.domain import codes
from sonar.domain.top import TOP_ITEMS, ItemKind
from sonar.ui._forms import Field, Form, Kind, Section
from sonar.ui._layouts import LAYOUTS, Layout

SIGN_IN = Form("Sign in to SONAR", (Section("", (
    Field("username", "Username", required=True, width="w-20"),
    Field("password", "Password", Kind.PASSWORD, required=True, width="w-20"),
)),), "Sign in")

SEARCH = Form("Find a patient", (Section("", (
    Field("nhs_number", "NHS number", hint="10 digits, for example 943 476 5919",
          width="w-10"),
    Field("prison_number", "Prison number", hint="For example, A1234BC", width="w-10"),
    Field("family_name", "Family name", hint="With date of birth", width="w-20"),
    Field("date_of_birth", "Date of birth", Kind.DATE),
)),), "Search", intro="Search by NHS number, prison number, or family name with date of birth.")


def _bare(annotation: Any) -> tuple[Any, list[Any]]:
    """The field's type without ``None`` or ``Annotated``, and the metadata found inside."""
    found: list[Any] = []
    while True:
        if get_origin(annotation) is Annotated:
            annotation, *more = get_args(annotation)
            found += more
        elif get_origin(annotation) in (Union, UnionType):
            args = [a for a in get_args(annotation) if a is not NoneType]
            if len(args) != 1:
                return annotation, found
            annotation = args[0]
        else:
            return annotation, found


def _extra(info: FieldInfo) -> dict[str, Any]:
    extra = info.json_schema_extra
    return extra if isinstance(extra, dict) else {}


def form_field(name: str, info: FieldInfo) -> Field:
    """The input for one command field (see the module docstring)."""
    kind, inner = _bare(info.annotation)
    label = info.title or name.replace("_", " ").capitalize()
    hint = info.description or ""
    terms: dict[str, str] = _extra(info).get("x-terms") or {}
    required = info.is_required()
    options = tuple(terms.items())
    if kind is bool:
        return Field(name, label, Kind.YES_NO if required else Kind.CHECKBOX, hint=hint,
                     required=required)
    if get_origin(kind) is list:
        item = get_args(kind)[0]
        if terms:
            return Field(name, label, Kind.CHECKBOXES, options, hint=hint)
        if isinstance(item, type) and issubclass(item, BaseModel):
            return Field(name, label, Kind.LINES, hint=hint, required=required,
                         columns=tuple(item.model_fields))
        return Field(name, label, Kind.LINES, hint=hint, required=required)
    if terms:
        return Field(name, label, Kind.SELECT, options, hint=hint, required=required)
    if kind in (datetime, AwareDatetime):
        return Field(name, label, Kind.DATETIME, hint=hint or "UK time.", required=required)
    if kind is date:
        return Field(name, label, Kind.DATE, hint=hint, required=required)
    if kind in (int, float):
        return Field(name, label, Kind.NUMBER, hint=hint, required=required, width="w-5")
    longest = max((m.max_length for m in [*info.metadata, *inner]
                   if getattr(m, "max_length", None) is not None), default=None)
    if longest is not None and longest >= 1000:
        return Field(name, label, Kind.TEXTAREA, hint=hint, required=required)
    width = "w-10" if longest is not None and longest <= 20 else "w-20"
    return Field(name, label, hint=hint, required=required, width=width)


def form_for(command: type[Command], layout: Layout | None = None) -> Form:
    """The form for a command: its body's fields, in the layout's sections if it has one."""
    layout = layout or Layout()
    by_name = {name: form_field(name, command.model_fields[name])
               for name in command.body_fields() if name != "occurred_at"}
    sections = tuple(Section(legend, tuple(by_name[n] for n in names))
                     for legend, names in layout.sections) or (
        Section("", tuple(by_name.values())),)
    return Form(layout.title or command.step.label, sections,
                layout.submit or "Save", layout.intro)


def _top_field(code: str, label: str, kind: ItemKind, minimum: float, maximum: float,
               unit: str) -> Field:
    if kind is ItemKind.YES_NO:
        return Field(code, label, Kind.YES_NO, api=f"answers.{code}")
    bounds = f"{minimum:g} to {maximum:g}" + (f" {unit}" if unit else "")
    return Field(code, label, Kind.NUMBER, hint=f"{bounds}. Leave blank if not answered.",
                 api=f"answers.{code}", width="w-5")


_TOP_SECTIONS = {"substance": "Substance use in the past 28 days",
                 "injecting": "Injecting risk behaviour", "crime": "Crime",
                 "health": "Health and social functioning"}


def _top_form() -> Form:
    """The TOP: its own fields, then each item of the national form in its section."""
    about = form_for(RecordTop).fields
    return Form("Treatment Outcomes Profile (TOP)", (
        Section("About this TOP", tuple(f for f in about if f.name != "answers")),
        *(Section(legend, tuple(
            _top_field(i.code, i.label, i.kind, i.minimum, i.maximum, i.unit)
            for i in TOP_ITEMS if i.section == section))
          for section, legend in _TOP_SECTIONS.items()),
    ), "Save TOP", intro="Leave an item blank if it was not answered: 0 is an answer.")


@dataclass(frozen=True)
class Step:
    """A clinical step on one patient: its command and its form."""

    command: type[PatientCommand]
    form: Form

    @property
    def slug(self) -> str:
        """``RecordTop`` → ``record-top``: the step's address in the UI."""
        return re.sub(r"(?<!^)(?=[A-Z])", "-", self.command.__name__).lower()

    @property
    def api(self) -> str:
        return self.command.step.path or ""

    @property
    def done(self) -> str:
        return self.command.step.done

    @property
    def link(self) -> str:
        return self.command.step.label

    @property
    def right(self) -> str:
        return self.command.step.right

    @property
    def episodic(self) -> bool:
        return "episode" in self.command.path_params()

    @property
    def addressed_by(self) -> tuple[str, ...]:
        """Path parameters besides the patient and the episode (e.g. an appointment id)."""
        return tuple(p for p in self.command.path_params()
                     if p not in ("patient_id", "episode"))


def _steps() -> dict[str, Step]:
    steps = []
    for command in routed():
        if issubclass(command, PatientCommand):
            form = _top_form() if command is RecordTop else form_for(command,
                                                                       LAYOUTS.get(command))
            steps.append(Step(command, form))
    return {s.slug: s for s in steps}


STEPS = _steps()
REGISTER = form_for(RegisterPatient, LAYOUTS.get(RegisterPatient))


def review_label(kind: str | None) -> str:
    return codes.REVIEW_KIND.terms.get(kind or "", kind or "")


def alert_label(alert: str) -> str:
    """``review_overdue:day_5`` → "Review overdue: 5-day review"."""
    name, _, detail = alert.partition(":")
    text = name.replace("_", " ").capitalize()
    return f"{text}: {review_label(detail)}" if detail else text
