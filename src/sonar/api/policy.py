"""Who may do what, in one place: each role's rights, and the right each route needs.

Every route of the app must appear in ``ROUTES`` (a test walks ``app.routes``); an
unmapped route is refused to everyone, so a new endpoint is closed until someone decides
who may use it. Patient-scoped routes also need a legitimate relationship
(``sonar.commands.access``), checked by the same dependency.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from sonar.commands.base import Command, CreateCommand
from sonar.commands.registry import routed


@dataclass(frozen=True)
class RouteRule:
    """The right a route needs, and how its patient is protected and its reads logged.

    ``identifiable``: a read of identifiable data, written to the access log.
    ``lists_patients``: the patients read are in the response (search results), not the path.
    ``relationship``: a ``{patient_id}`` read needs a legitimate relationship (a command's
    is decided by the pipeline).
    """

    action: str
    identifiable: bool = False
    lists_patients: bool = False
    relationship: bool = True


def command_path(command: type[Command]) -> str:
    """A command's full URL path template (a new record's under ``/patients`` itself)."""
    own = "" if issubclass(command, CreateCommand) else "/{patient_id}"
    return f"/api/v1/patients{own}{command.step.path or ''}"


PUBLIC = RouteRule("public", relationship=False)
_P = "/api/v1/patients"
_ONE = _P + "/{patient_id}"
READ = RouteRule("read_record", identifiable=True)
LIST = RouteRule("read_record", identifiable=True, lists_patients=True, relationship=False)
REPORT = RouteRule("read_reports", relationship=False)

ROUTES: Mapping[tuple[str, str], RouteRule] = {
    ("GET", "/health"): PUBLIC,
    ("POST", "/api/v1/auth/token"): PUBLIC,
    # patients and records
    ("GET", _P): LIST,
    ("GET", _P + "/search"): LIST,
    ("GET", _ONE): READ,
    ("GET", _ONE + "/record"): READ,
    ("GET", _ONE + "/timeline"): READ,
    ("GET", _ONE + "/fhir"): READ,
    # the pipeline decides who may import into this record, as for every command
    ("POST", _ONE + "/gp-record"): RouteRule("write_record", relationship=False),
    # every command at its own route, with the right it declares
    **{("POST", command_path(c)): RouteRule(c.step.right, relationship=False)
       for c in routed()},
    # caseloads and reports
    ("GET", "/api/v1/caseloads"): RouteRule("read_caseload", identifiable=True,
                                            lists_patients=True, relationship=False),
    ("GET", "/api/v1/reports/workforce"): REPORT,
    ("GET", "/api/v1/reports/outcomes"): REPORT,
    ("GET", "/api/v1/reports/outcomes/by-site"): REPORT,
    ("GET", "/api/v1/reports/continuity"): REPORT,
    # ReSet: release plan and summary (clinical), the diary (any agency working with them)
    ("GET", _ONE + "/release-summary"): READ,
    ("GET", _ONE + "/appointments"): READ,
    # the released person's own diary (the patient comes from the token, not the URL)
    ("GET", "/api/v1/me/diary"): RouteRule("read_own_diary", relationship=False),
    ("GET", "/api/v1/me/diary/page"): RouteRule("read_own_diary", relationship=False),
    ("POST", "/api/v1/me/diary/{appointment_id}/attendance"): RouteRule(
        "read_own_diary", relationship=False),
    ("POST", "/api/v1/me/reminder-contact"): RouteRule("read_own_diary", relationship=False),
    # The NDTMS validation report names patient ids: clinical teams only, and logged.
    ("GET", "/api/v1/reports/ndtms"): RouteRule("read_caseload", identifiable=True,
                                                relationship=False),
    # access: break-glass, consent and dissent, the access log
    ("GET", _ONE + "/sharing"): READ,
    ("GET", "/api/v1/audit/access"): RouteRule("read_audit", relationship=False),
}


def rule_for(method: str, path: str) -> RouteRule | None:
    return ROUTES.get((method, path))
