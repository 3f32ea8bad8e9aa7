"""The GP record on the care record: coded items imported from the person's GP system
(``sonar.domain.gp_record`` holds the items and what "already imported" means)."""

from __future__ import annotations

import re

from sonar.domain.attribution import Attribution
from sonar.domain.care_record._base import RecordArea, RecordEvent
from sonar.domain.errors import InvalidValue
from sonar.domain.gp_record import GpItem
from sonar.domain.identity import NhsNumber


class GpImport(RecordArea):
    """Imports add only the items not already held; a repeated import records nothing."""

    class GpRecordImported(RecordEvent):
        """Items of the person's GP record imported from a source system (e.g. an ODS code).

        ``content_hash`` is the SHA-256 of the bundle as received, so an auditor can match
        the event to the exact document; ``nhs_number`` is the one the bundle was for.
        """

        source_system: str
        content_hash: str
        nhs_number: NhsNumber | None
        items: tuple[GpItem, ...]

        def apply(self, aggregate: RecordArea) -> None:
            aggregate.gp_record.add(self.items, self.originator_version)

    def import_gp_record(self, source_system: str, content_hash: str,
                         nhs_number: NhsNumber | None, items: tuple[GpItem, ...],
                         attribution: Attribution) -> tuple[GpItem, ...]:
        """Import GP record items not already held; return the new ones (none: no event).

        The bundle's NHS number must be this person's when the record has one: importing
        someone else's medicines or allergies is a patient-safety incident.
        """
        if not source_system.strip() or len(source_system) > 200 \
                or not source_system.isprintable():
            raise InvalidValue("source_system must have 1 to 200 printable characters.",
                               rule="gp_import.source_system", field="source_system")
        if not re.fullmatch(r"[0-9a-f]{64}", content_hash):
            raise InvalidValue("content_hash must be a SHA-256 hex digest.",
                               rule="gp_import.content_hash", field="content_hash")
        mine = self.identity.nhs_number
        if mine is not None and nhs_number is not None and nhs_number != mine:
            raise InvalidValue("The GP record is for a different NHS number than this care "
                               "record.", rule="gp_import.nhs_number_mismatch",
                               field="nhs_number")
        fresh = self.gp_record.new_items(items)
        if fresh:
            self._record(self.GpRecordImported, attribution, source_system=source_system,
                         content_hash=content_hash, nhs_number=nhs_number, items=fresh)
        return fresh
