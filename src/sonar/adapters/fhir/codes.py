"""FHIR systems, profiles and code maps SONAR uses, in one place (documented in docs/fhir.md).

National identifiers and terminologies are used where they exist (NHS number, SNOMED CT,
HL7 code systems); SONAR's own codes (TOP items, named risks, review kinds...) live under
one local base URL so a receiver can tell them apart and never mistakes them for SNOMED.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

NHS_NUMBER = "https://fhir.nhs.uk/Id/nhs-number"
ODS_CODE = "https://fhir.nhs.uk/Id/ods-organization-code"
SNOMED = "http://snomed.info/sct"
UK_CORE = "https://fhir.hl7.org.uk/StructureDefinition/UKCore-"

LOCAL = "https://sonar.example/fhir"
LOCAL_CS = f"{LOCAL}/CodeSystem/"
PRISON_NUMBER = f"{LOCAL}/Id/prison-number"
PNC_ID = f"{LOCAL}/Id/pnc-id"
ACTOR_ID = f"{LOCAL}/Id/actor"
ORGANISATION = f"{LOCAL}/Id/organisation"
EXPORT_BUNDLE = f"{LOCAL}/Id/export-bundle"

HL7_CS = "http://terminology.hl7.org/CodeSystem/"
CONDITION_CLINICAL = HL7_CS + "condition-clinical"
CONDITION_VERIFICATION = HL7_CS + "condition-ver-status"
CONDITION_CATEGORY = HL7_CS + "condition-category"
OBSERVATION_CATEGORY = HL7_CS + "observation-category"
FLAG_CATEGORY = HL7_CS + "flag-category"
ACT_CODE = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
DATA_OPERATION = "http://terminology.hl7.org/CodeSystem/v3-DataOperation"
ACT_REASON = "http://terminology.hl7.org/CodeSystem/v3-ActReason"
PROVENANCE_AGENT = "http://terminology.hl7.org/CodeSystem/provenance-participant-type"

# Resource types with a UK Core profile; the others (CarePlan, Provenance, Procedure is
# profiled but kept plain here) are exported as base R4.
UK_CORE_PROFILED = frozenset({"Patient", "EpisodeOfCare", "ServiceRequest", "Condition",
                              "Observation", "Encounter", "Flag", "Procedure"})

# Dependence recorded from the referral's primary substance (SNOMED CT, from DOMAIN.md).
DEPENDENCE_BY_SUBSTANCE: Mapping[str, tuple[str, str]] = {
    "heroin": ("75544000", "Opioid dependence"),
    "methadone_illicit": ("75544000", "Opioid dependence"),
    "buprenorphine_illicit": ("75544000", "Opioid dependence"),
    "alcohol": ("66590003", "Alcohol dependence"),
    "cocaine": ("31956009", "Cocaine dependence"),
    "crack": ("31956009", "Cocaine dependence"),
    "cannabis": ("85005007", "Cannabis dependence"),
    "benzodiazepines": ("231473004", "Benzodiazepine dependence"),
}
DRUG_DEPENDENCE = ("191816009", "Drug dependence")

# Purpose of use: HL7 v3 ActReason where it says the same thing.
PURPOSE_ACT_REASON: Mapping[str, str] = {"direct_care": "TREAT", "break_glass": "ETREAT"}

FHIR_GENDER: Mapping[str, str] = {"male": "male", "female": "female", "other": "other",
                                  "not_known": "unknown"}


def local(code_system: str) -> str:
    """The URL of one of SONAR's local code systems, e.g. ``local("top-item")``."""
    return LOCAL_CS + code_system


def coding(system: str, code: str, display: str | None = None) -> dict[str, Any]:
    found: dict[str, Any] = {"system": system, "code": code}
    if display:
        found["display"] = display
    return found


def concept(*codings: dict[str, Any], text: str | None = None) -> dict[str, Any]:
    found: dict[str, Any] = {"coding": list(codings)}
    if text:
        found["text"] = text
    return found


def resource_id(patient_id: UUID, name: str) -> str:
    """A stable id for a resource derived from the record, so re-exports agree."""
    return str(uuid5(NAMESPACE_URL, f"{LOCAL}/{patient_id}/{name}"))


def reference(resource: Mapping[str, Any]) -> dict[str, str]:
    return {"reference": f"urn:uuid:{resource['id']}"}


def profiled(resource_type: str, **fields: Any) -> dict[str, Any]:
    """A resource dict with its UK Core profile when one exists."""
    found: dict[str, Any] = {"resourceType": resource_type}
    if resource_type in UK_CORE_PROFILED:
        found["meta"] = {"profile": [UK_CORE + resource_type]}
    found.update(fields)
    return found
