"""Commands along the person's journey: police custody, prison reception, transfer, release,
recall."""

from __future__ import annotations

from pydantic import Field

from sonar.commands.base import PatientCommand, Step, coded
from sonar.domain import codes
from sonar.domain.attribution import Attribution
from sonar.domain.care_record import CareRecord
from sonar.domain.identity import PncId, PrisonNumber


class DetainInPoliceCustody(PatientCommand):
    """Detained in police custody."""

    step = Step("/custody/police-detentions", "write_custody", "Record detention in police custody",
                "Detention in police custody recorded", tag="custody", starts_at="custody_suite")

    custody_suite: str = Field(max_length=100, title="Custody suite")
    pnc_id: str | None = Field(None, max_length=20, title="PNC id (if known)")

    def apply(self, record: CareRecord, at: Attribution) -> None:
        record.detain_in_police_custody(self.custody_suite,
                                        PncId(self.pnc_id) if self.pnc_id else None, at)


class ReleaseFromPoliceCustody(PatientCommand):
    """Left police custody."""

    step = Step("/custody/police-releases", "write_custody", "Record release from police custody",
                "Release from police custody recorded", tag="custody")

    outcome: str = coded(codes.POLICE_CUSTODY_OUTCOME, "Outcome")

    def apply(self, record: CareRecord, at: Attribution) -> None:
        record.release_from_police_custody(self.outcome, at)


class ReceiveIntoPrison(PatientCommand):
    """Received into prison."""

    step = Step("/custody/prison-receptions", "write_custody", "Receive into prison",
                "Reception into prison recorded", tag="custody", starts_at="establishment")

    establishment: str = Field(max_length=100, title="Establishment", examples=["HMP Leeds"])
    prison_number: str | None = Field(None, max_length=20, title="Prison number",
                                      description="For example, A1234BC")

    def apply(self, record: CareRecord, at: Attribution) -> None:
        number = PrisonNumber(self.prison_number) if self.prison_number else None
        record.receive_into_prison(self.establishment, number, at)


class Transfer(PatientCommand):
    """Transferred between establishments."""

    step = Step("/custody/transfers", "write_custody", "Record a transfer", "Transfer recorded",
                tag="custody")

    to_establishment: str = Field(max_length=100, title="Transferred to")

    def apply(self, record: CareRecord, at: Attribution) -> None:
        record.transfer(self.to_establishment, at)


class ReleaseFromPrison(PatientCommand):
    """Released from prison."""

    step = Step("/custody/releases", "write_custody", "Record release from prison",
                "Release from prison recorded", tag="custody")

    release_type: str = coded(codes.RELEASE_TYPE, "Type of release")
    destination_area: str | None = Field(None, max_length=100, title="Area released to")

    def apply(self, record: CareRecord, at: Attribution) -> None:
        record.release_from_prison(self.release_type, self.destination_area, at)


class RecallToPrison(PatientCommand):
    """Recalled to prison."""

    step = Step("/custody/recalls", "write_custody", "Record a recall to prison",
                "Recall to prison recorded", tag="custody", starts_at="establishment")

    recall_type: str = coded(codes.RECALL_TYPE, "Type of recall")
    establishment: str = Field(max_length=100, title="Establishment")

    def apply(self, record: CareRecord, at: Attribution) -> None:
        record.recall_to_prison(self.recall_type, self.establishment, at)


COMMANDS: tuple[type[PatientCommand], ...] = (
    DetainInPoliceCustody, ReleaseFromPoliceCustody, ReceiveIntoPrison, Transfer,
    ReleaseFromPrison, RecallToPrison)
