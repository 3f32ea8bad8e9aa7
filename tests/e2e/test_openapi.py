"""The published contract (/openapi.json): every operation says what it answers, its
successes with a schema and each refusal it can give as a problem document."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from sonar.api.main import create_app
from sonar.api.schemas.ndtms import NdtmsRow
from sonar.bootstrap import build_application, build_record_store, build_runner
from sonar.reports.ndtms import COLUMNS
from tests.e2e.auth_helpers import settings_for

PROBLEM = {"$ref": "#/components/schemas/Problem"}
ONE = "/api/v1/patients/{patient_id}"


@pytest.fixture(scope="module")
def document(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    config = settings_for(tmp_path_factory.mktemp("openapi"))
    application = build_application(config)
    runner = build_runner(config, application)
    runner.migrate()
    schema: dict[str, Any] = create_app(config, application, runner,
                                        build_record_store(config)).openapi()
    return schema


def operations(document: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for path, methods in document["paths"].items():
        for method, operation in methods.items():
            yield f"{method.upper()} {path}", operation


def statuses(document: dict[str, Any], method: str, path: str) -> set[int]:
    return {int(s) for s in document["paths"][path][method.lower()]["responses"]}


def resolve(document: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    ref = schema.get("$ref")
    if ref is None:
        return schema
    found: dict[str, Any] = document["components"]["schemas"][ref.rsplit("/", 1)[1]]
    return found


def test_every_success_has_a_schema_and_every_json_one_names_its_fields(
        document: dict[str, Any]) -> None:
    missing = []
    for name, operation in operations(document):
        successes = {s: r for s, r in operation["responses"].items() if s.startswith("2")}
        if not successes:
            missing.append(f"{name}: no success")
        for status, answer in successes.items():
            for media_type, content in answer.get("content", {}).items():
                schema = content.get("schema") or {}
                if not schema:
                    missing.append(f"{name} {status} {media_type}: no schema")
                elif "json" in media_type:
                    branches = schema.get("anyOf", [schema])
                    if not all(resolve(document, b).get("properties") for b in branches):
                        missing.append(f"{name} {status} {media_type}: no fields")
    assert missing == []


def test_every_refusal_is_a_problem_document(document: dict[str, Any]) -> None:
    wrong = []
    for name, operation in operations(document):
        for status, answer in operation["responses"].items():
            if int(status) >= 400:
                content = answer.get("content", {})
                if content.get("application/problem+json", {}).get("schema") != PROBLEM:
                    wrong.append(f"{name} {status}")
                if not answer.get("description"):
                    wrong.append(f"{name} {status}: no description")
    assert wrong == []
    problem = document["components"]["schemas"]["Problem"]
    assert {"type", "title", "status", "detail", "instance", "rule", "errors"} <= set(
        problem["properties"])
    assert "HTTPValidationError" not in document["components"]["schemas"]


def test_a_patient_read_declares_sign_in_access_unknown_patient_validation_and_store(
        document: dict[str, Any]) -> None:
    assert statuses(document, "GET", ONE + "/record") == {200, 401, 403, 404, 422, 503}
    assert statuses(document, "GET", "/api/v1/reports/workforce") == {200, 401, 403, 422, 503}


def test_a_command_also_declares_state_conflicts_and_its_body(document: dict[str, Any]) -> None:
    assert statuses(document, "POST", ONE + "/episodes/{episode}/tops") == {
        201, 400, 401, 403, 404, 409, 413, 422, 503}
    assert statuses(document, "POST", "/api/v1/patients") == {
        201, 400, 401, 403, 409, 413, 422, 503}
    own = statuses(document, "POST", "/api/v1/me/diary/{appointment_id}/attendance")
    assert 404 in own


def test_public_routes_declare_only_what_they_can_answer(document: dict[str, Any]) -> None:
    assert statuses(document, "GET", "/health") == {200, 503}
    health = document["paths"]["/health"]["get"]["responses"]
    assert set(health["503"]["content"]) == {"application/json", "application/problem+json"}
    assert statuses(document, "POST", "/api/v1/auth/token") == {200, 400, 401, 413, 422, 503}


def test_sign_in_and_retry_headers_are_declared(document: dict[str, Any]) -> None:
    record = document["paths"][ONE + "/record"]["get"]["responses"]
    assert "WWW-Authenticate" in record["401"]["headers"]
    assert "Retry-After" in record["503"]["headers"]


def test_alternative_formats_are_declared_beside_json(document: dict[str, Any]) -> None:
    def media_types(path: str) -> set[str]:
        return set(document["paths"][path]["get"]["responses"]["200"]["content"])

    assert media_types(ONE + "/release-summary") == {
        "application/json", "text/html", "application/pdf"}
    assert media_types("/api/v1/caseloads") == {"application/json", "text/csv"}
    assert media_types("/api/v1/reports/ndtms") == {"application/json", "text/csv"}
    assert media_types(ONE + "/fhir") == {"application/fhir+json"}


def test_the_ndtms_row_model_has_the_extracts_columns_in_order() -> None:
    assert tuple(NdtmsRow.model_fields) == COLUMNS

