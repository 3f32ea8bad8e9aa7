"""Use case: import a person's GP record Bundle into their care record.

A partly bad bundle imports nothing unless the caller asks for a partial import: a
clinician must not be left believing an allergy list is complete when one allergy was
refused. Problems about the whole bundle (not JSON, another person, no source) refuse it
even then. The import is attributed to the acting user with source and purpose
"import"; importing the same bundle again finds every item already held, records no
event and answers with the log's current position.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from uuid import UUID

from sonar.adapters.fhir.gp_bundle import Issue, ParsedGpRecord, entry_order, parse_gp_bundle
from sonar.commands.context import CommandContext
from sonar.domain import Attribution, CareRecord
from sonar.eventstore.application import SonarApplication
from sonar.eventstore.errors import ApplicationError


class GpImportRefused(ApplicationError):
    """The bundle cannot be imported; ``problems`` lists every issue with its pointer."""

    rule = "gp_import.invalid"

    def __init__(self, problems: list[Issue]) -> None:
        super().__init__(f"The GP record bundle has {len(problems)} problem(s); "
                         "nothing was imported.")
        self.problems = problems


@dataclass(frozen=True)
class GpImportReport:
    """What an import did: items added, items already held, entries skipped and why."""

    patient_id: UUID
    imported: int
    already_imported: int
    skipped: tuple[Issue, ...]
    position: int
    replayed: bool = False


class _NothingNew(Exception):
    """Every item is already held: there is no event to save."""


def _record_problems(record: CareRecord, parsed: ParsedGpRecord) -> list[Issue]:
    mine = record.identity.nhs_number
    if mine is not None and parsed.nhs_number is not None and parsed.nhs_number != mine:
        return [Issue(parsed.nhs_pointer, "gp_import.nhs_number_mismatch",
                      "This GP record is for a different NHS number than the care record.")]
    return []


def import_gp_record(app: SonarApplication, ctx: CommandContext, patient_id: UUID,
                     bundle_json: bytes | str, partial: bool = False) -> GpImportReport:
    parsed = parse_gp_bundle(bundle_json)
    fatal = parsed.fatal + _record_problems(app.get_record(patient_id), parsed)
    if fatal or (parsed.problems and not partial):
        raise GpImportRefused(fatal + parsed.problems)
    skipped = tuple(sorted(parsed.skipped + parsed.problems, key=entry_order))
    items = tuple(parsed.items)
    ctx = replace(ctx, source="import", purpose_of_use="import")
    added: list[int] = []

    def build(at: Attribution) -> tuple[CareRecord, int | None]:
        record = app.get_record(patient_id)
        fresh = record.import_gp_record(parsed.source_system, parsed.content_hash,
                                        parsed.nhs_number, items, at)
        if not fresh:
            raise _NothingNew
        added[:] = [len(fresh)]
        return record, None

    try:
        result = app.execute(ctx, "import_gp_record",
                              (patient_id, parsed.content_hash, partial), build)
    except _NothingNew:
        return GpImportReport(patient_id, 0, len(items), skipped, app.position())
    imported = added[0] if added else 0
    return GpImportReport(patient_id, imported, len(items) - imported, skipped,
                          result.position, replayed=result.replayed)
