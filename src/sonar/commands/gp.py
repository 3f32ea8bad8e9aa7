"""Importing a person's GP record: the items a FHIR adapter read from a GP bundle.

The bundle is parsed outside (``sonar.adapters.fhir.gp_bundle``), so this command holds only
facts: the sending system, the bundle's hash, the NHS number it was for and its items. The
domain refuses a bundle for another person; importing the same items again records no
event and answers with the log's current position.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field, SkipValidation

from sonar.commands.base import PatientCommand, Step
from sonar.commands.context import CommandContext
from sonar.domain.attribution import Attribution
from sonar.domain.care_record import CareRecord
from sonar.domain.gp_record import GpItem
from sonar.domain.identity import NhsNumber


class ImportGpRecord(PatientCommand):
    """Import the items of a GP record bundle not already held."""

    step = Step(None, "write_record", "Import the GP record", "GP record imported", tag="fhir",
                purpose="import", source="import",
                answer=(("imported", int), ("already_imported", int)))

    source_system: str = Field(max_length=200)
    content_hash: str = Field(pattern="^[0-9a-f]{64}$")
    nhs_number: str | None = Field(None, max_length=20)
    items: Annotated[tuple[GpItem, ...], SkipValidation]

    def apply(self, record: CareRecord, at: Attribution) -> None:
        record.import_gp_record(self.source_system, self.content_hash,
                                NhsNumber(self.nhs_number) if self.nhs_number else None,
                                self.items, at)

    def details(self, record: CareRecord, ctx: CommandContext,
                written: bool) -> dict[str, Any]:
        """How many of the bundle's items this import added (0: all were held already)."""
        added = sum(1 for item in self.items
                    if written and record.gp_record.imported_keys.get(item.key) == record.version)
        return {"imported": added, "already_imported": len(self.items) - added}


COMMANDS: tuple[type[PatientCommand], ...] = (ImportGpRecord,)
