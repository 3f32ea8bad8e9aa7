"""Hostile text (SQL, markup, unicode tricks) in every free-text field is stored and returned
exactly, as JSON data, and never breaks a query or the store."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import FakeClock
from tests.e2e.auth_helpers import SMS_WORKER, api_client, settings_for, sign_in

HOSTILE = [
    "Robert'); DROP TABLE rm_patient; --",
    "x' OR '1'='1",
    "<script>alert('x')</script><img src=x onerror=alert(1)>",
    "Zo\u00eb \u00c5ngstr\u00f6m \u5c71\u7530 \U0001f469\u200d\u2695 \u202eevil\u202d",
    "{{7*7}} ${jndi:ldap://x} %s%n \\u0000",
]


@pytest.mark.parametrize("text", HOSTILE)
def test_hostile_text_is_stored_and_returned_harmlessly(tmp_path: Path, clock: FakeClock,
                                                        text: str) -> None:
    short = text[:100]
    with api_client(settings_for(tmp_path), clock) as client:
        client.headers.update(sign_in(client, SMS_WORKER))
        patients = "/api/v1/patients"
        made = client.post(patients, json={"given_name": short, "family_name": short,
                                           "date_of_birth": "1990-05-01", "sex": "male"})
        assert made.status_code in (201, 422), made.text
        if made.status_code == 422:  # refused as data (e.g. unprintable), not a crash
            assert made.headers["content-type"] == "application/problem+json"
            return
        pid = made.json()["patient_id"]
        one = f"{patients}/{pid}"
        statuses = [client.post(f"{one}/custody/prison-receptions",
                                json={"establishment": "HMP Leeds"}).status_code]
        for path, body in [
            ("/referrals", {"source": "self", "substances": ["alcohol"],
                            "injecting_status": "never", "previously_treated": False}),
            ("/episodes/1/referral-outcome", {"outcome": "accepted"}),
            ("/episodes/1/caseload-assignments", {"worker_id": short, "site": short}),
            ("/episodes/1/care-plans", {"goals": [text], "interventions": [],
                                        "named_worker": short,
                                        "next_review_date": "2026-04-01"}),
            ("/sharing/dissents", {"organisation": short}),
            ("/sharing/family-notification-consents", {
                "family_member": short, "relationship": short, "contact_channel": "letter",
                "contact_address": short}),
            ("/break-glass", {"reason": f"because {text}"}),
        ]:
            statuses.append(client.post(one + path, json=body,
                                        headers={"X-Correlation-Id": text[:50]}).status_code)
        assert set(statuses) <= {201, 422}, statuses
        record = client.get(one)
        assert record.status_code == 200
        assert record.headers["content-type"] == "application/json"
        assert record.json()["demographics"]["family_name"] == short
        sharing = client.get(f"{one}/sharing").json()
        assert set(sharing["sharing_dissents"]) <= {short}
        found = client.get(f"{patients}/search", params={
            "family_name": short, "date_of_birth": "1990-05-01", "min_position": 1})
        assert found.status_code in (200, 503)
        assert client.get("/api/v1/caseloads", params={"worker": short}).status_code == 200
        assert client.get("/health").json()["status"] == "ok"
