"""What the FHIR routes answer: the export Bundle, and a GP record import's outcome."""

from __future__ import annotations

from typing import Any, Literal
from uuid import UUID

from pydantic import Field

from sonar.api.schemas.common import Answer, Moment


class BundleMeta(Answer):
    lastUpdated: Moment  # noqa: N815 - FHIR's own name


class BundleIdentifier(Answer):
    system: str
    value: str = Field(description="The record's id and version.")


class BundleEntry(Answer):
    fullUrl: str  # noqa: N815 - FHIR's own name
    resource: dict[str, Any] = Field(
        description="A FHIR R4 resource (UK Core profile): Patient, EpisodeOfCare, Condition, "
                    "Observation, CarePlan, Encounter, Provenance... (docs/fhir.md).")


class FhirBundle(Answer):
    """The care record as a FHIR R4 collection Bundle, with a Provenance for each event."""

    resourceType: Literal["Bundle"]  # noqa: N815 - FHIR's own name
    id: str
    meta: BundleMeta
    identifier: BundleIdentifier
    type: Literal["collection"]
    timestamp: Moment
    entry: list[BundleEntry]


class SkippedEntry(Answer):
    """A bundle entry not imported, and why."""

    pointer: str = Field(description="JSON pointer to the entry in the bundle.")
    rule: str
    reason: str


class GpRecordImported(Answer):
    """What a GP record import added (201), or that it added nothing new (200)."""

    patient_id: UUID
    imported: int = Field(description="Items added to the record.")
    already_imported: int = Field(description="Items the record already held.")
    skipped: list[SkippedEntry] = Field(
        description="Entries left out: not imported kinds, or, on a partial import, bad ones.")
    position: int = Field(description="Log position of the write; pass it to read models as "
                                      "min_position to read your own write.")
    replayed: bool = Field(description="True when this repeats an earlier request with the "
                                       "same Idempotency-Key; nothing new was written.")
