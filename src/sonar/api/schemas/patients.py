"""Models for registering a patient and moving them through custody settings."""

from __future__ import annotations

from pydantic import Field

from sonar.api.schemas.common import CommandBody, PlausibleDate, coded
from sonar.domain import codes
from sonar.domain.identity import Demographics, Identity, NhsNumber, PncId, PrisonNumber


class PatientCreate(CommandBody):
    nhs_number: str | None = Field(None, max_length=20, examples=["9434765919"])
    prison_number: str | None = Field(None, max_length=20, examples=["A1234BC"])
    pnc_id: str | None = Field(None, max_length=20, examples=["2019/0123456X"])
    given_name: str = Field(max_length=100)
    family_name: str = Field(max_length=100)
    date_of_birth: PlausibleDate = Field(strict=False)
    sex: str = coded(codes.SEX)

    def identity(self) -> Identity:
        return Identity(
            nhs_number=NhsNumber(self.nhs_number) if self.nhs_number else None,
            prison_number=PrisonNumber(self.prison_number) if self.prison_number else None,
            pnc_id=PncId(self.pnc_id) if self.pnc_id else None)

    def demographics(self) -> Demographics:
        return Demographics(self.given_name, self.family_name, self.date_of_birth, self.sex)


class NhsNumberTrace(CommandBody):
    nhs_number: str = Field(max_length=20)


class PoliceDetentionCreate(CommandBody):
    custody_suite: str = Field(max_length=100)
    pnc_id: str | None = Field(None, max_length=20)


class PoliceReleaseCreate(CommandBody):
    outcome: str = coded(codes.POLICE_CUSTODY_OUTCOME)


class PrisonReceptionCreate(CommandBody):
    establishment: str = Field(max_length=100, examples=["HMP Leeds"])
    prison_number: str | None = Field(None, max_length=20)


class TransferCreate(CommandBody):
    to_establishment: str = Field(max_length=100)


class PrisonReleaseCreate(CommandBody):
    release_type: str = coded(codes.RELEASE_TYPE)
    destination_area: str | None = Field(None, max_length=100)


class RecallCreate(CommandBody):
    recall_type: str = coded(codes.RECALL_TYPE)
    establishment: str = Field(max_length=100)


class EnteredInErrorCreate(CommandBody):
    reason: str = Field(max_length=1000)
