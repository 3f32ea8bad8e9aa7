"""Access control over HTTP: the route-by-role matrix from the app's own routes, and tokens.

The matrix is generated: every API route the app serves, tried by a signed-in user of
every role, must answer exactly as the policy table says: 403 (rule ``access.role``) when
the role lacks the route's right, and never 401/403 when it has it (the user is at the
patient's site, so the relationship rule holds).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import fastapi.routing
import jwt
import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from sonar.api.policy import ROUTES, rule_for
from sonar.auth.tokens import TokenService
from sonar.auth.users import User
from sonar.domain import codes
from sonar.domain.access import ACTIONS, RIGHTS, allows
from tests.conftest import FakeClock
from tests.e2e.auth_helpers import (
    ROLES,
    SECRET,
    SMS_WORKER,
    api_client,
    settings_for,
    sign_in,
    user_for,
)
from tests.e2e.test_api import PATIENT, received_and_referred


@pytest.fixture
def client(tmp_path: Path, clock: FakeClock) -> Iterator[TestClient]:
    with api_client(settings_for(tmp_path), clock) as c:
        c.headers.update(sign_in(c, SMS_WORKER))
        yield c


def api_routes(client: TestClient) -> list[tuple[str, str]]:
    """(method, path template) of every API route the app serves, from ``app.routes``."""
    top = client.app.routes  # type: ignore[attr-defined]
    # FastAPI >= 0.16x nests included routers; iter_route_contexts flattens them.
    flatten = getattr(fastapi.routing, "iter_route_contexts", None)
    served = [c.route for c in flatten(top)] if flatten else list(top)
    routes = [(method, route.path) for route in served
              if isinstance(route, APIRoute) for method in sorted(route.methods or ())]
    assert len(routes) > 30
    return routes


def test_every_role_has_rights_and_every_right_is_known() -> None:
    assert set(RIGHTS) == set(codes.ROLE)
    for rights in RIGHTS.values():
        assert rights <= ACTIONS


def test_every_route_of_the_app_has_a_policy(client: TestClient) -> None:
    unmapped = [r for r in api_routes(client) if rule_for(*r) is None]
    assert unmapped == []
    stale = set(ROUTES) - set(api_routes(client))
    assert stale == set()


def _concrete(path: str, patient_id: str) -> str:
    return (path.replace("{patient_id}", patient_id).replace("{episode}", "1")
            .replace("{entry_version}", "2"))


def test_route_by_role_matrix_follows_the_policy_table(client: TestClient) -> None:
    pid = received_and_referred(client)
    anonymous = {"Authorization": ""}
    signed_in = {role: sign_in(client, user_for(role)) for role in ROLES}
    for method, path in api_routes(client):
        rule = rule_for(method, path)
        assert rule is not None
        url = _concrete(path, pid)
        if rule.action != "public":
            refused = client.request(method, url, headers=anonymous, json={})
            assert refused.status_code == 401, (method, path)
            assert refused.headers["content-type"] == "application/problem+json"
        for role in ROLES:
            response = client.request(method, url, headers=signed_in[role], json={})
            if allows(role, rule.action):
                assert response.status_code not in (401, 403), (role, method, path,
                                                                response.text)
            else:
                assert response.status_code == 403, (role, method, path, response.text)
                assert response.json()["rule"] == "access.role"


def test_401_and_403_are_distinct_problems(client: TestClient) -> None:
    no_token = client.get("/api/v1/audit/access", params={"user": "x"},
                          headers={"Authorization": ""})
    wrong_role = client.get("/api/v1/audit/access", params={"user": "x"})
    assert (no_token.status_code, no_token.json()["rule"]) == (401, "auth.token_required")
    assert (wrong_role.status_code, wrong_role.json()["rule"]) == (403, "access.role")
    assert wrong_role.json()["title"] != no_token.json()["title"]


def _token(claims: dict[str, object], key: str = SECRET, alg: str = "HS256") -> dict[str, str]:
    return {"Authorization": f"Bearer {jwt.encode(claims, key, algorithm=alg)}"}


def _claims(**changes: object) -> dict[str, object]:
    now = datetime.now(UTC)
    return {"iss": "sonar", "aud": "sonar-api", "sub": "sms-1", "role": "sms_worker",
            "org": "HMP Leeds Healthcare", "site": "HMP Leeds", "iat": now,
            "exp": now + timedelta(days=1), **changes}  # valid through a long suite


def test_expired_token_is_refused(client: TestClient, tmp_path: Path) -> None:
    past = datetime.now(UTC) - timedelta(hours=1)
    tokens = TokenService(settings_for(tmp_path), clock=lambda: past)
    token, _ = tokens.issue(User("sms-1", "sms_worker", "HMP Leeds Healthcare", "HMP Leeds",
                                 "sms-1", None, active=True))
    response = client.get("/api/v1/reports/workforce",
                          headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401
    assert response.json()["rule"] == "auth.token_expired"


@pytest.mark.parametrize(("headers", "rule"), [
    (_token(_claims(), key="another-secret-of-the-same-length-0123456789abcd"),
     "auth.token_invalid"),
    (_token(_claims(aud="someone-else")), "auth.token_invalid"),
    (_token(_claims(iss="evil")), "auth.token_invalid"),
    (_token(_claims(role="emperor")), "auth.token_claims"),
    ({"Authorization": "Bearer not-a-jwt"}, "auth.token_malformed"),
    ({"Authorization": "Basic c21zLTE6cGFzc3dvcmQ="}, "auth.token_required"),
])
def test_forged_or_malformed_tokens_are_refused(client: TestClient, headers: dict[str, str],
                                                rule: str) -> None:
    response = client.get("/api/v1/reports/workforce", headers=headers)
    assert response.status_code == 401
    assert response.json()["rule"] == rule


def test_a_tampered_payload_or_unsigned_token_is_refused(client: TestClient) -> None:
    token = client.headers["Authorization"].removeprefix("Bearer ")
    header, payload, signature = token.split(".")
    forged_payload = jwt.utils.base64url_encode(
        jwt.utils.base64url_decode(payload).replace(b"sms_worker", b"auditor__")).decode()
    forged = f"{header}.{forged_payload}.{signature}"
    unsigned = jwt.encode(_claims(role="auditor"), key="", algorithm="none")
    for bad in (forged, unsigned):
        response = client.get("/api/v1/audit/access", params={"user": "sms-1"},
                              headers={"Authorization": f"Bearer {bad}"})
        assert response.status_code == 401


def test_wrong_password_is_401_and_says_nothing_about_the_user(client: TestClient) -> None:
    wrong = client.post("/api/v1/auth/token", data={"username": "sms-1", "password": "nope"})
    unknown = client.post("/api/v1/auth/token", data={"username": "ghost", "password": "nope"})
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json()["detail"] == unknown.json()["detail"]


def test_patient_role_is_refused_clinical_data(client: TestClient) -> None:
    pid = client.post("/api/v1/patients", json=PATIENT).json()["patient_id"]
    patient = sign_in(client, user_for("patient"))
    assert client.get(f"/api/v1/patients/{pid}", headers=patient).status_code == 403
    assert client.get("/health").status_code == 200
