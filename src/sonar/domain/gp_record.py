"""What SONAR keeps of a person's GP record: coded items imported, never retyped.

A GP record arrives as a FHIR Bundle (GP Connect structured record); the integration
layer maps it to :class:`GpItem` values so the domain never sees FHIR. Each item keeps
the source's own code, display, date and status, and a ``key`` naming the source
system, resource and version it came from: importing the same bundle again finds every
key already held, so a repeated import adds nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from sonar.domain import codes
from sonar.domain.errors import InvalidValue, raise_all
from sonar.domain.values import Immutable

GP_ITEM_KIND = codes.ValueSet(
    "gp_item_kind",
    {
        "allergy": "Allergy or intolerance",
        "medication": "Medication (statement or prescription)",
        "problem": "Problem or condition",
        "observation": "Observation or test result",
        "immunisation": "Immunisation",
    },
)

# Code systems a GP record item may be coded in. GP Connect codes clinical items in
# SNOMED CT (dm+d medicines are SNOMED concepts too); Read v2 / CTV3 still appear as
# translations from older records, and LOINC in some results.
GP_CODE_SYSTEM = codes.ValueSet(
    "gp_code_system",
    {
        "http://snomed.info/sct": "SNOMED CT",
        "https://dmd.nhs.uk": "NHS Dictionary of medicines and devices (dm+d)",
        "http://read.info/readv2": "Read v2",
        "http://read.info/ctv3": "Read CTV3",
        "http://loinc.org": "LOINC",
    },
)

# FHIR date or dateTime as the GP recorded it: a year, year-month or full date, with time.
_FHIR_DATE = re.compile(r"^[0-9]{4}(-[0-9]{2}(-[0-9]{2}(T[0-9:.+\-Z]+)?)?)?$")


def _text(value: str, name: str, limit: int, problems: list[InvalidValue]) -> None:
    if not value.strip() or len(value) > limit or not value.isprintable():
        problems.append(InvalidValue(f"{name} must have 1 to {limit} printable characters.",
                                     rule=f"gp_item.{name}", field=name))


@dataclass(frozen=True)
class GpItem(Immutable):
    """One coded item of a GP record, as the GP system recorded it.

    ``date`` stays the FHIR text (e.g. "2019" or "2019-05-03") because GP records hold
    partial dates that a ``date`` would falsify. ``status`` is the source's own
    (active, resolved, completed, stopped, entered-in-error...), kept verbatim.
    """

    key: str  # source system | resource type/id | version: what "already imported" means
    kind: str
    code_system: str
    code: str
    display: str
    date: str | None
    status: str
    value: str | None = None  # an observation's value as text, e.g. "82 kg"

    def __post_init__(self) -> None:
        problems: list[InvalidValue] = []
        for check, value, name in ((GP_ITEM_KIND, self.kind, "kind"),
                                   (GP_CODE_SYSTEM, self.code_system, "code_system")):
            try:
                check.check(value, field=name)
            except InvalidValue as e:
                problems.append(e)
        _text(self.key, "key", 500, problems)
        _text(self.code, "code", 100, problems)
        _text(self.display, "display", 500, problems)
        _text(self.status, "status", 50, problems)
        if self.value is not None:
            _text(self.value, "value", 500, problems)
        if self.date is not None and not _FHIR_DATE.match(self.date):
            problems.append(InvalidValue("date must be a FHIR date or dateTime.",
                                         rule="gp_item.date", field="date"))
        raise_all(problems)


@dataclass
class GpRecord:
    """The GP items held on a care record, and which import event brought each key."""

    items: list[GpItem] = field(default_factory=list)
    imported_keys: dict[str, int] = field(default_factory=dict)  # item key -> event version

    def __deepcopy__(self, memo: dict[int, Any]) -> GpRecord:
        return GpRecord(list(self.items), dict(self.imported_keys))  # items are immutable

    def new_items(self, items: tuple[GpItem, ...]) -> tuple[GpItem, ...]:
        """The items not already held (nor repeated earlier in ``items``)."""
        seen = set(self.imported_keys)
        fresh: list[GpItem] = []
        for item in items:
            if item.key not in seen:
                seen.add(item.key)
                fresh.append(item)
        return tuple(fresh)

    def add(self, items: tuple[GpItem, ...], version: int) -> None:
        for item in items:
            self.items.append(item)
            self.imported_keys[item.key] = version
