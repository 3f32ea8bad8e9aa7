"""How people outside the service are reached: consented family members, and the released
person's own reminders. An address is checked against its channel when it is recorded, so
a notification is never queued to something that cannot be delivered.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sonar.domain import codes
from sonar.domain.errors import InvalidValue
from sonar.domain.values import Immutable

CONTACT_CHANNEL = codes.ValueSet("contact_channel", {
    "phone": "Telephone", "text_message": "Text message", "email": "Email",
    "letter": "Letter", "in_person": "In person"})

# The channel SONAR delivers through itself; the others are a task for a person.
DELIVERED_BY = {"email": "email", "text_message": "sms"}

_EMAIL = re.compile(r"[^@\s]{1,64}@[^@\s]+\.[^@\s]{2,}")
_PHONE = re.compile(r"\+?[0-9][0-9 ]{8,18}[0-9]")


def check_address(channel: str, address: str | None, field: str = "contact_address",
                  ) -> str | None:
    """The address, tidied, if it suits the channel; None for "in person" with none given."""
    CONTACT_CHANNEL.check(channel, field="contact_channel")
    text = (address or "").strip()
    if not text:
        if channel == "in_person":
            return None
        raise InvalidValue(f"A {CONTACT_CHANNEL.terms[channel].lower()} contact needs an "
                           "address to reach them.", rule="contact_address.required",
                           field=field)
    valid = {"email": _EMAIL.fullmatch(text) is not None and len(text) <= 254,
             "text_message": _PHONE.fullmatch(text) is not None,
             "phone": _PHONE.fullmatch(text) is not None}.get(
        channel, len(text) <= 300 and text.isprintable())
    if not valid:
        raise InvalidValue(f"{field} is not a valid {CONTACT_CHANNEL.terms[channel].lower()} "
                           "address.", rule=f"contact_address.{channel}", field=field)
    return text


@dataclass(frozen=True)
class FamilyConsent(Immutable):
    """The person's consent to tell a named family member about missed appointments.

    ``address`` is None only for consents recorded before addresses were asked for (and
    for "in person"); those are shown to staff as needing a contact, never guessed.
    """

    relationship: str
    channel: str
    address: str | None

    @property
    def delivered_by(self) -> str | None:
        return DELIVERED_BY.get(self.channel) if self.address else None


@dataclass(frozen=True)
class ReminderContact(Immutable):
    """Where the released person asked to be reminded of their appointments."""

    channel: str
    address: str

    @property
    def delivered_by(self) -> str | None:
        return DELIVERED_BY.get(self.channel)
