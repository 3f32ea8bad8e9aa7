"""An external OIDC issuer: RS256 tokens verified with keys from its JWKS URL."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi.testclient import TestClient

from tests.conftest import FakeClock
from tests.e2e.auth_helpers import api_client, settings_for

ISSUER, AUDIENCE = "https://login.example.nhs.uk", "sonar"
KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
OTHER_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _jwks() -> bytes:
    public = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(KEY.public_key()))
    return json.dumps({"keys": [public | {"kid": "k1", "use": "sig", "alg": "RS256"}]}).encode()


class _Jwks(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = _jwks()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def jwks_url() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Jwks)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/jwks.json"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def client(tmp_path: Path, clock: FakeClock, jwks_url: str) -> Iterator[TestClient]:
    settings = settings_for(tmp_path, oidc_jwks_url=jwks_url, oidc_issuer=ISSUER,
                            oidc_audience=AUDIENCE)
    with api_client(settings, clock) as c:
        yield c


def _bearer(key: rsa.RSAPrivateKey = KEY, kid: str = "k1", **changes: Any) -> dict[str, str]:
    now = datetime.now(UTC)
    claims = {"iss": ISSUER, "aud": AUDIENCE, "sub": "nhs-user-42", "role": "sms_worker",
              "org": "HMP Leeds Healthcare", "site": "HMP Leeds", "iat": now,
              "exp": now + timedelta(minutes=5), **changes}
    token = jwt.encode(claims, key, algorithm="RS256", headers={"kid": kid})
    return {"Authorization": f"Bearer {token}"}


def test_an_oidc_token_maps_role_organisation_and_site(client: TestClient) -> None:
    assert client.get("/api/v1/reports/workforce", headers=_bearer()).status_code == 200
    made = client.post("/api/v1/patients", headers=_bearer(), json={
        "given_name": "Sam", "family_name": "Holt", "date_of_birth": "1990-05-01",
        "sex": "male"})
    assert made.status_code == 201
    timeline = client.get(f"/api/v1/patients/{made.json()['patient_id']}/timeline",
                          params={"min_position": made.json()["position"]},
                          headers=_bearer()).json()["items"]
    assert (timeline[0]["actor_id"], timeline[0]["site"]) == ("nhs-user-42", "HMP Leeds")
    analyst = _bearer(role="analyst")
    assert client.get("/api/v1/caseloads", headers=analyst).status_code == 403


@pytest.mark.parametrize(("headers", "rule"), [
    (_bearer(aud="someone-else"), "auth.token_invalid"),
    (_bearer(iss="https://evil.example"), "auth.token_invalid"),
    (_bearer(key=OTHER_KEY), "auth.token_invalid"),
    (_bearer(kid="unknown"), "auth.token_key_unknown"),
    (_bearer(exp=datetime.now(UTC) - timedelta(minutes=1)), "auth.token_expired"),
    (_bearer(role="superuser"), "auth.token_claims"),
])
def test_bad_oidc_tokens_are_refused(client: TestClient, headers: dict[str, str],
                                     rule: str) -> None:
    response = client.get("/api/v1/reports/workforce", headers=headers)
    assert (response.status_code, response.json()["rule"]) == (401, rule)
