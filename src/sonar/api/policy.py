"""Who may do what, in one place: each role's rights, and the right each route needs.

Every route of the app must appear in ``ROUTES`` (a test walks ``app.routes``); an
unmapped route is refused to everyone, so a new endpoint is closed until someone decides
who may use it. Patient-scoped routes also need a legitimate relationship
(``sonar.commands.access``), checked by the same dependency.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class RouteRule:
    """The right a route needs, and how its patient is protected and its reads logged.

    ``identifiable``: a read of identifiable data, written to the access log.
    ``lists_patients``: the patients read are in the response (search results), not the path.
    ``relationship``: a ``{patient_id}`` route needs a legitimate relationship.
    ``starts_at``: a body field naming a place; the step is allowed without a prior
    relationship when it happens at the user's own site (that is how one starts).
    """

    action: str
    identifiable: bool = False
    lists_patients: bool = False
    relationship: bool = True
    starts_at: str | None = None


ACTIONS = frozenset({
    "read_record", "read_all_history", "write_record", "write_pathway", "write_custody",
    "read_caseload", "read_reports", "read_deidentified", "read_audit", "manage_users",
    "break_glass", "read_own_diary"})

_CLINICAL = frozenset({"read_record", "write_record", "break_glass", "read_caseload"})
RIGHTS: Mapping[str, frozenset[str]] = {
    "custody_nurse": _CLINICAL | {"write_custody"},
    "prison_clinician": _CLINICAL | {"write_custody", "write_pathway", "read_reports"},
    "sms_worker": _CLINICAL | {"write_custody", "write_pathway", "read_reports"},
    "mental_health": _CLINICAL | {"write_pathway"},
    "probation": frozenset({"read_record", "write_custody", "read_caseload"}),
    "community_clinician": _CLINICAL | {"write_custody", "write_pathway", "read_reports"},
    # Read-only over every record's whole history, and the access log.
    "auditor": frozenset({"read_record", "read_all_history", "read_audit", "read_reports"}),
    # Aggregate reports and de-identified extracts; never an identifiable record.
    "analyst": frozenset({"read_reports", "read_deidentified"}),
    # Users and settings; no clinical data.
    "admin": frozenset({"manage_users"}),
    # Their own ReSet diary only: read it, and confirm they attended.
    "patient": frozenset({"read_own_diary"}),
    "system": frozenset(),
}

PUBLIC = RouteRule("public", relationship=False)
_P = "/api/v1/patients"
_ONE = _P + "/{patient_id}"
_EP = _ONE + "/episodes/{episode}"
READ = RouteRule("read_record", identifiable=True)
LIST = RouteRule("read_record", identifiable=True, lists_patients=True, relationship=False)
PATHWAY = RouteRule("write_pathway")
CUSTODY = RouteRule("write_custody")
RECORD = RouteRule("write_record")
REPORT = RouteRule("read_reports", relationship=False)

ROUTES: Mapping[tuple[str, str], RouteRule] = {
    ("GET", "/health"): PUBLIC,
    ("POST", "/api/v1/auth/token"): PUBLIC,
    # patients and records
    ("POST", _P): RouteRule("write_record", relationship=False),
    ("GET", _P): LIST,
    ("GET", _P + "/search"): LIST,
    ("GET", _ONE): READ,
    ("GET", _ONE + "/record"): READ,
    ("GET", _ONE + "/timeline"): READ,
    ("GET", _ONE + "/fhir"): READ,
    ("POST", _ONE + "/nhs-number"): RECORD,
    ("POST", _ONE + "/entries/{entry_version}/entered-in-error"): RECORD,
    ("POST", _ONE + "/gp-record"): RECORD,
    # journey
    ("POST", _ONE + "/custody/police-detentions"): RouteRule("write_custody",
                                                             starts_at="custody_suite"),
    ("POST", _ONE + "/custody/police-releases"): CUSTODY,
    ("POST", _ONE + "/custody/prison-receptions"): RouteRule("write_custody",
                                                             starts_at="establishment"),
    ("POST", _ONE + "/custody/transfers"): CUSTODY,
    ("POST", _ONE + "/custody/releases"): CUSTODY,
    ("POST", _ONE + "/custody/recalls"): RouteRule("write_custody", starts_at="establishment"),
    # SMS pathway
    ("POST", _ONE + "/reception-screens"): PATHWAY,
    ("POST", _ONE + "/referrals"): PATHWAY,
    **{("POST", f"{_EP}/{step}"): PATHWAY for step in (
        "referral-outcome", "dual-diagnoses", "risk-assessments", "caseload-assignments",
        "brief-interventions", "tops", "reviews", "care-plans", "discharge")},
    # caseloads and reports
    ("GET", "/api/v1/caseloads"): RouteRule("read_caseload", identifiable=True,
                                            lists_patients=True, relationship=False),
    ("GET", "/api/v1/reports/workforce"): REPORT,
    ("GET", "/api/v1/reports/outcomes"): REPORT,
    ("GET", "/api/v1/reports/outcomes/by-site"): REPORT,
    ("GET", "/api/v1/reports/continuity"): REPORT,
    # ReSet: release plan and summary (clinical), the diary (any agency working with them)
    ("POST", _ONE + "/release-plans"): PATHWAY,
    ("GET", _ONE + "/release-summary"): READ,
    ("POST", _ONE + "/appointments"): CUSTODY,
    ("GET", _ONE + "/appointments"): READ,
    ("POST", _ONE + "/appointments/{appointment_id}/attendance"): CUSTODY,
    ("POST", _ONE + "/appointments/{appointment_id}/cancellation"): CUSTODY,
    ("POST", _ONE + "/reminder-contact"): CUSTODY,
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
    ("POST", _ONE + "/break-glass"): RouteRule("break_glass", relationship=False),
    ("GET", _ONE + "/sharing"): READ,
    ("POST", _ONE + "/sharing/family-notification-consents"): RECORD,
    ("POST", _ONE + "/sharing/family-notification-consents/revocations"): RECORD,
    ("POST", _ONE + "/sharing/dissents"): RECORD,
    ("POST", _ONE + "/sharing/dissents/withdrawals"): RECORD,
    ("GET", "/api/v1/audit/access"): RouteRule("read_audit", relationship=False),
}

def rule_for(method: str, path: str) -> RouteRule | None:
    return ROUTES.get((method, path))


def allows(role: str, action: str) -> bool:
    return action == "public" or action in RIGHTS.get(role, frozenset())
