"""Access and consent on the care record: break glass, consent to notify family members, and
dissent from sharing with an organisation. The decisions made from them are
``sonar.domain.access``'s."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sonar.domain.attribution import Attribution
from sonar.domain.care_record._base import RecordArea, RecordEvent, printable_text
from sonar.domain.contacts import FamilyConsent, check_address
from sonar.domain.errors import IllegalStep, InvalidValue
from sonar.domain.places import same_place


class AccessAndConsent(RecordArea):
    """What the person agreed to, and who opened their record in an emergency."""

    class BreakGlassAccessed(RecordEvent):
        """A user without a legitimate relationship opened the record, giving a reason.

        ``expires_at`` is the end of the time-limited access granted; it is a recorded
        fact so replay gives the same answer whatever the settings are later.
        """

        reason: str
        expires_at: datetime

        def apply(self, aggregate: RecordArea) -> None:
            grants = aggregate.break_glass_grants
            actor_id = self.attribution.actor.actor_id
            grants[actor_id] = max(self.expires_at, grants.get(actor_id, self.expires_at))

    class ConsentToFamilyNotificationRecorded(RecordEvent):
        """Version 2 adds ``contact_address``; version-1 consents had none (None)."""

        class_version = 2
        family_member: str
        relationship: str
        contact_channel: str
        contact_address: str | None

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["contact_address"] = None

        def apply(self, aggregate: RecordArea) -> None:
            aggregate.family_notification_consents[self.family_member] = FamilyConsent(
                self.relationship, self.contact_channel, self.contact_address)

    class ConsentToFamilyNotificationRevoked(RecordEvent):
        family_member: str

        def apply(self, aggregate: RecordArea) -> None:
            aggregate.family_notification_consents.pop(self.family_member, None)

    class SharingDissentRecorded(RecordEvent):
        organisation: str

        def apply(self, aggregate: RecordArea) -> None:
            aggregate.sharing_dissents = (*aggregate.sharing_dissents, self.organisation)

    class SharingDissentWithdrawn(RecordEvent):
        organisation: str

        def apply(self, aggregate: RecordArea) -> None:
            aggregate.sharing_dissents = tuple(
                o for o in aggregate.sharing_dissents if o != self.organisation)

    def break_glass(self, reason: str, attribution: Attribution, *, hours: int = 4) -> datetime:
        """Open the record without a relationship for ``hours``; return when access ends."""
        printable_text(reason, "reason", 1000, minimum=10)
        if not 1 <= hours <= 24:
            raise InvalidValue("Break-glass lasts 1 to 24 hours.", rule="break_glass.hours",
                               field="hours")
        expires_at = attribution.recorded_at + timedelta(hours=hours)
        self._record(self.BreakGlassAccessed, attribution, reason=reason.strip(),
                     expires_at=expires_at)
        return expires_at

    def record_family_notification_consent(self, family_member: str, relationship: str,
                                           contact_channel: str, contact_address: str | None,
                                           attribution: Attribution) -> None:
        """Record the person's consent to notify a named family member (revocable); a
        later consent for the same member replaces the channel and address."""
        member = printable_text(family_member, "family_member", 200)
        self._record(self.ConsentToFamilyNotificationRecorded, attribution,
                     family_member=member,
                     relationship=printable_text(relationship, "relationship", 100),
                     contact_channel=contact_channel,
                     contact_address=check_address(contact_channel, contact_address))

    def revoke_family_notification_consent(self, family_member: str,
                                           attribution: Attribution) -> None:
        member = family_member.strip()
        if member not in self.family_notification_consents:
            raise IllegalStep("There is no consent to notify this family member.",
                              rule="consent.not_recorded")
        self._record(self.ConsentToFamilyNotificationRevoked, attribution, family_member=member)

    def recorded_dissent(self, organisation: str) -> str | None:
        """The organisation as named in a recorded dissent from sharing with it, if any
        (names are compared as places are: ``sonar.domain.access.same_place``)."""
        return next((o for o in self.sharing_dissents if same_place(o, organisation)), None)

    def record_sharing_dissent(self, organisation: str, attribution: Attribution) -> None:
        """Record that the person does not want their record shared with an organisation."""
        name = printable_text(organisation, "organisation", 100)
        if self.recorded_dissent(name) is not None:
            raise IllegalStep("Dissent from sharing with this organisation is already "
                              "recorded.", rule="dissent.already_recorded")
        self._record(self.SharingDissentRecorded, attribution, organisation=name)

    def withdraw_sharing_dissent(self, organisation: str, attribution: Attribution) -> None:
        recorded = self.recorded_dissent(organisation)
        if recorded is None:
            raise IllegalStep("There is no dissent from sharing with this organisation.",
                              rule="dissent.not_recorded")
        self._record(self.SharingDissentWithdrawn, attribution, organisation=recorded)
