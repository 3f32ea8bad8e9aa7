"""The record page over HTTP: timeline filters, and break-glass when there is no relationship."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta

import pytest

from sonar.domain.attribution import CLINICAL_TZ
from tests.conftest import FakeClock
from tests.e2e.auth_helpers import SMS_WORKER, add_user, user_for
from tests.e2e.test_ui_forms import (
    Ui,
    accepted_patient,
    real_clock,
    signed_in_ui,
    ui_signed_in,
)

clock = pytest.fixture(real_clock, name="clock")
ui = pytest.fixture(signed_in_ui, name="ui")
pid = pytest.fixture(accepted_patient, name="pid")

HULL = user_for("prison_clinician", site="HMP Hull", organisation="HMP Hull Healthcare")
_ENTRY = re.compile(r'<p class="timeline__what">([^<]+)</p>')


def entries(page: str) -> list[str]:
    return _ENTRY.findall(page)


def test_the_timeline_filters_by_kind_of_entry(ui: Ui, pid: str) -> None:
    everything = entries(ui.page(f"/ui/patients/{pid}"))
    assert "Received into prison" in everything
    assert "Referred to sms (episode 1)" in everything
    custody = entries(ui.page(f"/ui/patients/{pid}", kind="custody"))
    assert custody == ["Received into prison"]
    referral = entries(ui.page(f"/ui/patients/{pid}", kind="referral"))
    assert referral == ["Referral outcome recorded (episode 1)", "Referred to sms (episode 1)"]


def test_the_timeline_filters_by_date(ui: Ui, pid: str) -> None:
    today = datetime.now(CLINICAL_TZ).date()
    assert len(entries(ui.page(f"/ui/patients/{pid}", **{"from": today.isoformat(),
                                                        "to": today.isoformat()}))) == 4
    page = ui.page(f"/ui/patients/{pid}", **{"from": (today + timedelta(days=1)).isoformat()})
    assert entries(page) == []
    assert "No entries match the filter" in page


def test_a_bad_date_range_is_shown_beside_the_field(ui: Ui, pid: str) -> None:
    today = date.today()
    page = ui.page(f"/ui/patients/{pid}", **{"from": today.isoformat(),
                                            "to": (today - timedelta(days=3)).isoformat()})
    assert 'href="#f-to"' in page
    assert re.search(r'id="f-to-error" class="error-message">.*To must be the same as or after',
                     page)


def test_a_clinician_elsewhere_breaks_glass_with_a_reason_and_sees_until_when(
        ui: Ui, pid: str, clock: FakeClock) -> None:
    add_user(ui.client.app, HULL)  # type: ignore[arg-type]
    ui_signed_in(ui.client, HULL.username)
    refused = ui.client.get(f"/ui/patients/{pid}")
    assert refused.status_code == 403
    assert "You do not have a legitimate relationship with this patient" in refused.text
    assert f'action="/ui/patients/{pid}/break-glass"' in refused.text

    too_short = ui.submit(f"/ui/patients/{pid}/break-glass", {"reason": "need it"})
    assert too_short.status_code == 422
    assert re.search(r'id="f-reason-error" class="error-message">', too_short.text)
    assert ui.events(pid, "BreakGlassAccessed") == []

    granted = ui.submit(f"/ui/patients/{pid}/break-glass",
                        {"reason": "Found unresponsive in cell, overdose suspected"})
    assert granted.status_code == 303
    record = ui.client.get(granted.headers["location"])
    assert record.status_code == 200
    until = (clock.now + timedelta(hours=4)).astimezone(CLINICAL_TZ).strftime("%H:%M")
    assert f"Break-glass access until {until}" in record.text
    (entry,) = ui.events(pid, "BreakGlassAccessed")
    assert entry["actor_id"] == HULL.username


def test_the_notice_is_only_for_the_clinician_who_broke_glass(ui: Ui, pid: str) -> None:
    add_user(ui.client.app, HULL)  # type: ignore[arg-type]
    ui_signed_in(ui.client, HULL.username)
    granted = ui.submit(f"/ui/patients/{pid}/break-glass",
                        {"reason": "Found unresponsive in cell, overdose suspected"})
    assert granted.status_code == 303
    ui_signed_in(ui.client, SMS_WORKER.username)
    assert "Break-glass access until" not in ui.page(f"/ui/patients/{pid}")
