"""Commands about the record itself: registration, the NHS number, corrections."""

from __future__ import annotations

from pydantic import Field

from sonar.commands.base import (
    CreateCommand,
    EntryVersion,
    PatientCommand,
    PlausibleDate,
    Step,
    coded,
)
from sonar.domain import codes
from sonar.domain.attribution import Attribution
from sonar.domain.care_record import CareRecord
from sonar.domain.identity import Demographics, Identity, NhsNumber, PncId, PrisonNumber


class RegisterPatient(CreateCommand):
    """Register a patient's care record."""

    step = Step("", "write_record", "Register a patient", "Patient registered", tag="patients",
                needs_relationship=False, indexes_nhs_number=True)

    nhs_number: str | None = Field(None, max_length=20, title="NHS number (if known)",
                                   examples=["9434765919"])
    prison_number: str | None = Field(None, max_length=20, title="Prison number (if known)",
                                      examples=["A1234BC"])
    pnc_id: str | None = Field(None, max_length=20, title="PNC id (if known)",
                               examples=["2019/0123456X"])
    given_name: str = Field(max_length=100, title="Given name")
    family_name: str = Field(max_length=100, title="Family name")
    date_of_birth: PlausibleDate = Field(title="Date of birth")
    sex: str = coded(codes.SEX, "Sex")

    def create(self, at: Attribution) -> CareRecord:
        identity = Identity(
            nhs_number=NhsNumber(self.nhs_number) if self.nhs_number else None,
            prison_number=PrisonNumber(self.prison_number) if self.prison_number else None,
            pnc_id=PncId(self.pnc_id) if self.pnc_id else None)
        demographics = Demographics(self.given_name, self.family_name, self.date_of_birth,
                                    self.sex)
        return CareRecord.register(identity, demographics, at)


class TraceNhsNumber(PatientCommand):
    """Add an NHS number traced after registration."""

    step = Step("/nhs-number", "write_record", "Add a traced NHS number", "NHS number added",
                tag="patients", indexes_nhs_number=True)

    nhs_number: str = Field(max_length=20, title="NHS number")

    def apply(self, record: CareRecord, at: Attribution) -> None:
        record.trace_nhs_number(NhsNumber(self.nhs_number), at)


class MarkEnteredInError(PatientCommand):
    """Mark a clinical entry as entered in error (nothing is deleted)."""

    step = Step("/entries/{entry_version}/entered-in-error", "write_record",
                "Mark as entered in error", "Entry marked as entered in error", tag="patients")

    entry_version: EntryVersion
    reason: str = Field(max_length=1000, title="Why is this entry wrong?")

    def apply(self, record: CareRecord, at: Attribution) -> None:
        record.mark_entered_in_error(self.entry_version, self.reason, at)


COMMANDS: tuple[type[CreateCommand | PatientCommand], ...] = (
    RegisterPatient, TraceNhsNumber, MarkEnteredInError)
