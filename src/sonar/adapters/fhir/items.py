"""Where each GP record resource type keeps its code, date, status and value.

GP systems code the same item in several systems at once (SNOMED CT with Read or local
translations): the first coding in a known system is used, and only when none is known
is the item refused, naming each unknown system's location.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sonar.domain.gp_record import GP_CODE_SYSTEM

# resource type -> (kind, code element, date elements in order of preference)
CLINICAL: Mapping[str, tuple[str, str, tuple[str, ...]]] = {
    "AllergyIntolerance": ("allergy", "code", ("onsetDateTime", "recordedDate")),
    "MedicationStatement": ("medication", "medicationCodeableConcept",
                            ("effectiveDateTime", "effectivePeriod.start", "dateAsserted")),
    "MedicationRequest": ("medication", "medicationCodeableConcept",
                          ("authoredOn", "dispenseRequest.validityPeriod.start")),
    "Condition": ("problem", "code", ("onsetDateTime", "onsetPeriod.start", "recordedDate")),
    "Observation": ("observation", "code",
                    ("effectiveDateTime", "effectivePeriod.start", "issued")),
    "Immunization": ("immunisation", "vaccineCode", ("occurrenceDateTime", "recorded")),
}

Problem = tuple[str, str, str]  # pointer, rule, detail
ItemFields = tuple[str, dict[str, Any]]  # the chosen coding's pointer, GpItem fields but key


def _path(resource: Mapping[str, Any], dotted: str) -> Any:
    value: Any = resource
    for part in dotted.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value


def _status(resource: Mapping[str, Any]) -> str:
    """The source's status; a verification of entered-in-error overrides everything."""
    verification = _first_code(resource.get("verificationStatus"))
    if verification == "entered-in-error":
        return verification
    status = resource.get("status") or _first_code(resource.get("clinicalStatus"))
    return str(status or verification or "unknown")


def _first_code(concept: Any) -> str | None:
    codings = concept.get("coding") if isinstance(concept, dict) else None
    if isinstance(codings, list) and codings and isinstance(codings[0], dict):
        code = codings[0].get("code")
        return str(code) if code else None
    return None


def _value(resource: Mapping[str, Any]) -> str | None:
    quantity = resource.get("valueQuantity")
    if isinstance(quantity, dict) and "value" in quantity:
        return f"{quantity['value']} {quantity.get('unit', '')}".strip()
    if "valueString" in resource:
        return str(resource["valueString"])
    if "valueBoolean" in resource:
        return "yes" if resource["valueBoolean"] else "no"
    concept = resource.get("valueCodeableConcept")
    if isinstance(concept, dict):
        codings = concept.get("coding") or [{}]
        return str(concept.get("text") or codings[0].get("display") or "") or None
    return None


def _concept(resource: Mapping[str, Any], element: str, base: str,
             by_reference: Mapping[str, tuple[int, dict[str, Any]]],
             ) -> tuple[str, Any] | Problem:
    """The coded concept and its pointer; a medication may be a reference to a Medication."""
    if element == "medicationCodeableConcept" and element not in resource:
        ref = _path(resource, "medicationReference.reference")
        target = by_reference.get(str(ref)) if ref else None
        if target is None:
            return (f"{base}/medicationReference", "gp_import.reference_unresolved",
                    "The medication is neither coded nor a Medication in the bundle.")
        index, medication = target
        return f"#/entry/{index}/resource/code", medication.get("code")
    return f"{base}/{element}", resource.get(element)


def item_fields(resource: Mapping[str, Any], base: str,
                by_reference: Mapping[str, tuple[int, dict[str, Any]]],
                ) -> ItemFields | list[Problem]:
    kind, element, date_paths = CLINICAL[resource["resourceType"]]
    found = _concept(resource, element, base, by_reference)
    if len(found) == 3:
        return [found]
    pointer, concept = found
    codings = concept.get("coding") if isinstance(concept, dict) else None
    if not isinstance(codings, list) or not codings:
        return [(pointer, "gp_import.code_missing", "The item has no coding.")]
    unknown: list[Problem] = []
    for k, c in enumerate(codings):
        if c.get("system") in GP_CODE_SYSTEM and c.get("code"):
            date = next((str(d) for d in (_path(resource, p) for p in date_paths) if d), None)
            return f"{pointer}/coding/{k}", {
                "kind": kind, "code_system": c["system"], "code": str(c["code"]),
                "display": str(c.get("display") or concept.get("text") or c["code"]),
                "date": date, "status": _status(resource), "value": _value(resource)}
        unknown.append((f"{pointer}/coding/{k}/system", "gp_import.unknown_code_system",
                        f"{str(c.get('system'))[:100]!r} is not a code system SONAR imports "
                        f"({', '.join(GP_CODE_SYSTEM)})."))
    return unknown
