"""Commands about who may see the record: break glass, consent to tell family members,
dissent from sharing."""

from __future__ import annotations

from typing import Any, Self

from pydantic import Field

from sonar.commands.base import CommandConfig, PatientCommand, Step
from sonar.commands.context import CommandContext
from sonar.domain.attribution import Attribution
from sonar.domain.care_record import CareRecord


class BreakGlass(PatientCommand):
    """Open a record without a relationship, for a stated reason (reviewed)."""

    step = Step("/break-glass", "break_glass", "Break glass to open this record",
                "Break-glass access granted", tag="access", purpose="break_glass",
                needs_relationship=False, alert="break_glass", derived=frozenset({"hours"}),
                answer=(("expires_at", str),))

    reason: str = Field(min_length=10, max_length=1000,
                        title="Why you must see this record now",
                        description="At least 10 characters. Your access and this reason are "
                                    "reviewed.")
    hours: int = Field(4, ge=1, le=24, description="How long access lasts (a setting).")

    def prepare(self, ctx: CommandContext, config: CommandConfig) -> Self:
        return self.model_copy(update={"hours": config.break_glass_hours})

    def apply(self, record: CareRecord, at: Attribution) -> None:
        record.break_glass(self.reason, at, hours=self.hours)

    def details(self, record: CareRecord, ctx: CommandContext,
                written: bool) -> dict[str, Any]:
        return {"expires_at": record.break_glass_grants[ctx.actor.actor_id].isoformat()}


class RecordFamilyNotificationConsent(PatientCommand):
    """Record consent to notify a named family member."""

    step = Step("/sharing/family-notification-consents", "write_record",
                "Record consent to tell a family member", "Consent recorded", tag="access")

    family_member: str = Field(min_length=1, max_length=200, title="Family member's name")
    relationship: str = Field(min_length=1, max_length=100,
                              title="Relationship to the person")
    contact_channel: str = Field(title="How to contact them",
                                 description="phone, text_message, email, letter, in_person")
    contact_address: str | None = Field(
        None, max_length=300, title="Contact details",
        description="Email address, phone number or postal address for the channel "
                    "(required except in person).")

    def apply(self, record: CareRecord, at: Attribution) -> None:
        record.record_family_notification_consent(self.family_member, self.relationship,
                                                  self.contact_channel, self.contact_address,
                                                  at)


class RevokeFamilyNotificationConsent(PatientCommand):
    """Revoke consent to notify a named family member."""

    step = Step("/sharing/family-notification-consents/revocations", "write_record",
                "Withdraw consent to tell a family member", "Consent withdrawn", tag="access")

    family_member: str = Field(min_length=1, max_length=200, title="Family member's name")

    def apply(self, record: CareRecord, at: Attribution) -> None:
        record.revoke_family_notification_consent(self.family_member, at)


class RecordSharingDissent(PatientCommand):
    """Record the patient's dissent to share with an organisation."""

    step = Step("/sharing/dissents", "write_record", "Record dissent from sharing",
                "Dissent recorded", tag="access")

    organisation: str = Field(min_length=1, max_length=100, title="Organisation",
                              description="The agency the patient does not want to share with.")

    def apply(self, record: CareRecord, at: Attribution) -> None:
        record.record_sharing_dissent(self.organisation, at)


class WithdrawSharingDissent(PatientCommand):
    """Withdraw a dissent to share with an organisation."""

    step = Step("/sharing/dissents/withdrawals", "write_record", "Withdraw dissent from sharing",
                "Dissent withdrawn", tag="access")

    organisation: str = Field(min_length=1, max_length=100, title="Organisation")

    def apply(self, record: CareRecord, at: Attribution) -> None:
        record.withdraw_sharing_dissent(self.organisation, at)


COMMANDS: tuple[type[PatientCommand], ...] = (
    BreakGlass, RecordFamilyNotificationConsent, RevokeFamilyNotificationConsent,
    RecordSharingDissent, WithdrawSharingDissent)
