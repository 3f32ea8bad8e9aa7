"""A full scenario over HTTP logs ids, routes and statuses, never names, NHS numbers or text."""

from __future__ import annotations

from pathlib import Path

import structlog
from structlog.testing import capture_logs

from tests.conftest import FakeClock
from tests.e2e.auth_helpers import SMS_WORKER, api_client, settings_for, sign_in, user_for
from tests.e2e.test_fhir_api import NHS, full_pathway

SECRETS = ("Sam", "Holt", NHS, "1990-05-01", "Stabilise on OST", "Jo Patel",
           "wrong person", "Collapsed in cell", "Probation Service North", "Aunt May")


def test_no_patient_data_reaches_the_logs(tmp_path: Path, clock: FakeClock) -> None:
    with capture_logs() as logs, api_client(settings_for(tmp_path), clock) as client:
        client.headers.update(sign_in(client, SMS_WORKER))
        pid = full_pathway(client, clock)
        base = f"/api/v1/patients/{pid}"
        client.get(base)
        client.get(f"{base}/fhir")
        client.get("/api/v1/patients/search", params={"nhs_number": NHS})
        client.post(f"{base}/sharing/dissents", json={"organisation": "Probation Service North"})
        client.post(f"{base}/sharing/family-notification-consents", json={
            "family_member": "Aunt May", "relationship": "aunt", "contact_channel": "letter",
            "contact_address": "1 Example Street, Leeds"})
        hull = sign_in(client, user_for("prison_clinician", site="HMP Hull"))
        client.get(base, headers=hull)
        client.post(f"{base}/break-glass", headers=hull,
                    json={"reason": "Collapsed in cell, needs history now"})
        client.post("/api/v1/auth/token", data={"username": "Sam Holt", "password": NHS})
        client.post("/api/v1/patients", json={"given_name": "Sam", "family_name": "Holt",
                                              "date_of_birth": "1990-05-01", "sex": "x"})
    text = repr(logs)
    assert any(e["event"] == "break_glass_recorded" for e in logs)
    assert any(e["event"] == "request" for e in logs)
    for secret in SECRETS:
        assert secret not in text, secret
    structlog.reset_defaults()
