"""Identity on the care record: an NHS number traced after registration."""

from __future__ import annotations

from dataclasses import replace

from sonar.domain.attribution import Attribution
from sonar.domain.care_record._base import RecordArea, RecordEvent
from sonar.domain.errors import IllegalStep
from sonar.domain.identity import NhsNumber


class IdentitySteps(RecordArea):
    """Identifiers added to the record after registration (others arrive with journey steps:
    the PNC id on police detention, the prison number on reception)."""

    class NhsNumberTraced(RecordEvent):
        nhs_number: NhsNumber

        def apply(self, aggregate: RecordArea) -> None:
            aggregate.identity = replace(aggregate.identity, nhs_number=self.nhs_number)

    def trace_nhs_number(self, nhs_number: NhsNumber, attribution: Attribution) -> None:
        """Add an NHS number traced after registration (e.g. via PDS)."""
        if self.identity.nhs_number is not None:
            raise IllegalStep("This record already has an NHS number; correct it through "
                              "the records team.", rule="nhs_number.already_recorded")
        self._record(self.NhsNumberTraced, attribution, nhs_number=nhs_number)
