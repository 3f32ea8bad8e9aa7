"""Contact addresses are checked against their channel when recorded."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sonar.domain.contacts import FamilyConsent, ReminderContact, check_address
from sonar.domain.errors import InvalidValue
from tests.unit.domain.builders import at, in_prison


@pytest.mark.parametrize(("channel", "address", "kept"), [
    ("email", " pat@family.example ", "pat@family.example"),
    ("text_message", "07700 900123", "07700 900123"),
    ("phone", "+44 113 496 0000", "+44 113 496 0000"),
    ("letter", "1 Example Street, Leeds LS1 1AA", "1 Example Street, Leeds LS1 1AA"),
    ("in_person", None, None),
])
def test_addresses_that_suit_their_channel_are_kept(channel: str, address: str | None,
                                                    kept: str | None) -> None:
    assert check_address(channel, address) == kept


@pytest.mark.parametrize(("channel", "address", "rule"), [
    ("email", "pat at family", "contact_address.email"),
    ("email", None, "contact_address.required"),
    ("text_message", "pat@family.example", "contact_address.text_message"),
    ("phone", "12", "contact_address.phone"),
    ("letter", "line\u0000two", "contact_address.letter"),
    ("pigeon", "loft", "contact_channel.unknown_code"),
])
def test_addresses_that_do_not_suit_their_channel_are_refused(channel: str,
                                                              address: str | None,
                                                              rule: str) -> None:
    with pytest.raises(InvalidValue) as refused:
        check_address(channel, address)
    assert refused.value.rule == rule


@given(st.text(max_size=40))
def test_an_accepted_number_is_only_digits_spaces_and_a_leading_plus(text: str) -> None:
    try:
        kept = check_address("text_message", text)
    except InvalidValue:
        return
    assert kept is not None
    assert kept.lstrip("+").replace(" ", "").isdigit()
    assert 10 <= len(kept.replace(" ", "").lstrip("+")) <= 20


def test_only_text_and_email_consents_are_delivered_by_sonar() -> None:
    assert FamilyConsent("sister", "email", "a@b.example").delivered_by == "email"
    assert FamilyConsent("sister", "text_message", "07700 900123").delivered_by == "sms"
    assert FamilyConsent("sister", "phone", "07700 900123").delivered_by is None
    assert FamilyConsent("sister", "email", None).delivered_by is None  # legacy: no address


def test_reminders_go_by_text_or_email_and_can_be_stopped() -> None:
    record = in_prison()
    with pytest.raises(InvalidValue) as refused:
        record.record_reminder_contact("letter", "1 Street", at(1))
    assert refused.value.field == "channel"
    record.record_reminder_contact("text_message", "07700 900123", at(1))
    assert record.reminder_contact == ReminderContact("text_message", "07700 900123")
    record.record_reminder_contact(None, None, at(2))
    assert record.reminder_contact is None
