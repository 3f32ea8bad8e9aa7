"""What a command is: one frozen type per clinical step, declaring its fields (with their
validation), the right it needs, where it is addressed, and the domain call it makes.

A command is declared once; the API route, the policy table's entry, the OpenAPI schema and
the UI form are derived from it (``sonar.api.routes.commands``, ``sonar.ui``). Its fields are
the request body plus the path parameters named in ``path`` (``{patient_id}`` is implied for
every command on an existing record). Field rules that need no record (lengths, types, the
plausible window for dates) are checked here, all at once; rules about the record's state
are the domain's.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Self
from uuid import UUID

from pydantic import AfterValidator, AwareDatetime, BaseModel, BeforeValidator, ConfigDict, Field
from pydantic_core import PydanticCustomError

from sonar.domain import plausible
from sonar.domain.codes import ValueSet

if TYPE_CHECKING:
    from sonar.commands.context import CommandContext
    from sonar.domain.attribution import Attribution
    from sonar.domain.care_record import CareRecord


_ISO_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_ISO_MOMENT = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}")


def _day_text(value: object) -> object:
    """A date comes as ISO 8601 text (or, from Python, a date). Lenient parsing would also
    take a number as a Unix time (0 is 1 January 1970), which the schema does not allow."""
    if isinstance(value, int | float) or (isinstance(value, str)
                                          and not _ISO_DAY.fullmatch(value)):
        raise PydanticCustomError("date_parsing", "Give the date as YYYY-MM-DD.")
    return value


def _moment_text(value: object) -> object:
    """A time comes as ISO 8601 text (or, from Python, a datetime); never a Unix time."""
    if isinstance(value, int | float) or (isinstance(value, str)
                                          and not _ISO_MOMENT.match(value)):
        raise PydanticCustomError(
            "datetime_parsing",
            "Give the time as ISO 8601 with its offset, e.g. 2026-03-02T09:00:00+00:00.")
    return value


def _plausible_day(value: date) -> date:
    problem = plausible.day_problem(value, "The date")
    if problem is not None:
        raise PydanticCustomError("time_out_of_range", problem.message)
    return value


def _plausible_moment(value: datetime) -> datetime:
    problem = plausible.moment_problem(value, "The time")
    if problem is not None:
        raise PydanticCustomError("time_out_of_range", problem.message)
    # The parser's own time zone class must not reach the record: a snapshot is read back
    # only with standard types (eventstore.snapshot_codec). Same offset, same instant.
    return value.replace(tzinfo=timezone(value.utcoffset() or timedelta(0)))


# Every date and time a command or query accepts: within the plausible window
# (sonar.domain.plausible), so no later conversion or arithmetic can overflow. JSON carries
# them as strings, so they are parsed leniently even in a strict model.
PlausibleDate = Annotated[date, Field(strict=False), BeforeValidator(_day_text),
                          AfterValidator(_plausible_day)]
PlausibleMoment = Annotated[AwareDatetime, Field(strict=False), BeforeValidator(_moment_text),
                            AfterValidator(_plausible_moment)]
EpisodeNumber = Annotated[int, Field(ge=1, le=10_000, description="Episode number on the record")]
EntryVersion = Annotated[int, Field(ge=1, le=1_000_000_000,
                                    description="The record version of the entry")]
AppointmentId = Annotated[str, Field(max_length=40, pattern="^[0-9a-f]+$")]
Notes = Annotated[str | None, Field(max_length=4000)]


def coded(value_set: ValueSet, title: str, description: str | None = None,
          default: Any = ...) -> Any:
    """A coded field; the domain checks membership so the error names the value set. The
    codes are the schema's ``enum`` and their display terms its ``x-terms`` (what a form
    shows); ``title`` and ``description`` are for people."""
    return Field(default, title=title, description=description, max_length=100,
                 json_schema_extra={"enum": list(value_set), "x-terms": dict(value_set.terms)})


def codes_of(value_set: ValueSet, title: str, description: str | None = None,
             max_items: int = 20) -> Any:
    """A list of codes from one value set (each checked by the domain)."""
    return Field(title=title, description=description, max_length=max_items,
                 json_schema_extra={"items": {"type": "string", "enum": list(value_set)},
                                    "x-terms": dict(value_set.terms)})


@dataclass(frozen=True)
class CommandConfig:
    """Settings a command's derived values depend on (from ``Settings``, in bootstrap)."""

    break_glass_hours: int = 4
    relationship_days: int = 90


@dataclass(frozen=True)
class Step:
    """What a command is as a clinical step, declared beside its fields.

    ``path``: where the API takes it, under ``/api/v1/patients/{patient_id}`` (``None``: no
    route of its own, e.g. the scheduler's steps); ``right``: the role's right it needs;
    ``label``: the step in clinic language ("Record a TOP"); ``done``: what the record shows
    afterwards ("TOP recorded"); ``tag``: its group in the API documentation; ``starts_at``: a
    field naming the place where the step happens, which starts a relationship when it is the
    user's own site; ``purpose`` and ``source``: a fixed purpose of use and source, if the step
    has them; ``needs_relationship``: whether the user needs a legitimate relationship with
    the patient; ``by_patient``: whether the released person may take this step on their own
    record; ``indexes_nhs_number``: the record's NHS number must be unique; ``alert``: a new
    write is logged as an alert of this kind for review (ids only); ``derived``: fields the
    caller does not send (``Command.prepare`` sets them); ``answer``: what the answer holds
    besides the position (``PatientCommand.details``), by name and type.
    """

    path: str | None
    right: str
    label: str
    done: str
    tag: str
    starts_at: str | None = None
    purpose: str | None = None
    source: str | None = None
    needs_relationship: bool = True
    by_patient: bool = False
    indexes_nhs_number: bool = False
    alert: str | None = None
    derived: frozenset[str] = frozenset()
    answer: tuple[tuple[str, type], ...] = ()


class Command(BaseModel):
    """A clinical step: its fields, and its ``step`` (see ``Step``)."""

    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)

    step: ClassVar[Step]

    occurred_at: PlausibleMoment | None = Field(
        None, description="Clinical time (ISO 8601 with offset). Defaults to now; may be in the "
                          "past for a late entry, never in the future.")

    @classmethod
    def name(cls) -> str:
        """The step's name in receipts and logs: ``RecordTop`` → ``record_top``."""
        return re.sub(r"(?<!^)(?=[A-Z])", "_", cls.__name__).lower()

    @classmethod
    def summary(cls) -> str:
        return (cls.__doc__ or cls.step.label).strip().splitlines()[0]

    @classmethod
    def path_params(cls) -> tuple[str, ...]:
        """The fields addressed by the URL, in order (``patient_id`` first)."""
        named = tuple(re.findall(r"{(\w+)}", cls.step.path or ""))
        return (("patient_id",) if "patient_id" in cls.model_fields else ()) + named

    @classmethod
    def body_fields(cls) -> tuple[str, ...]:
        params = set(cls.path_params()) | cls.step.derived
        return tuple(n for n in cls.model_fields if n not in params)

    def prepare(self, ctx: CommandContext, config: CommandConfig) -> Self:
        """The command with its ``derived`` fields set (none by default)."""
        del ctx, config
        return self


class PatientCommand(Command):
    """A step on an existing care record."""

    patient_id: UUID

    def apply(self, record: CareRecord, at: Attribution) -> int | None:
        """Call the domain (raising its errors); nothing is saved if this raises. Return the
        episode the step opened, if it opened one."""
        raise NotImplementedError

    def details(self, record: CareRecord, ctx: CommandContext,
                written: bool) -> dict[str, Any]:
        """What the answer says besides the position (e.g. a new appointment's id);
        ``written``: whether this command wrote an event (not a replay or a no-op)."""
        del record, ctx, written
        return {}

    @property
    def episode_number(self) -> int | None:
        """The episode the step acts on, if any."""
        return None


class EpisodeCommand(PatientCommand):
    """A step on one SMS episode of the record."""

    episode: EpisodeNumber

    @property
    def episode_number(self) -> int | None:
        return self.episode


class CreateCommand(Command):
    """A step that starts a new care record."""

    def create(self, at: Attribution) -> CareRecord:
        raise NotImplementedError
