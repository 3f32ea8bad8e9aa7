"""Read a GP record Bundle (GP Connect structured-record style) into domain GP items.

Every problem is reported at once with a JSON pointer into the bundle, so the sender can
fix the whole document in one go. Problems that make the bundle untrustworthy as a whole
(not JSON, not a Bundle, no source, a missing or invalid NHS number) are ``fatal``; a
problem in one clinical entry is not, so a caller may ask to import the good entries
and report that one as skipped. Resource types that carry context (Patient,
Organization, Medication...) are read but not imported; other unknown types are skipped.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from fhir.resources.R4B import get_fhir_model_class
from pydantic import ValidationError

from sonar.adapters.fhir.codes import NHS_NUMBER, ODS_CODE
from sonar.adapters.fhir.items import CLINICAL, ItemFields, item_fields
from sonar.commands.gp import ImportGpRecord
from sonar.domain.errors import InvalidValue, InvalidValues
from sonar.domain.gp_record import GpItem
from sonar.domain.identity import NhsNumber

CONTEXT_TYPES = frozenset({"Patient", "Organization", "Practitioner", "PractitionerRole",
                           "Medication", "List", "Location", "Encounter", "Composition"})


@dataclass(frozen=True)
class Issue:
    """One problem or skipped entry: where it is (JSON pointer), the rule, and why."""

    pointer: str
    rule: str
    detail: str


@dataclass
class ParsedGpRecord:
    """What a bundle holds: items to import, entries skipped, and problems found."""

    content_hash: str
    source_system: str = ""
    nhs_number: NhsNumber | None = None
    nhs_pointer: str = "#"
    items: list[GpItem] = field(default_factory=list)
    skipped: list[Issue] = field(default_factory=list)
    fatal: list[Issue] = field(default_factory=list)
    problems: list[Issue] = field(default_factory=list)  # per entry; skippable on partial


def _pointer(base: str, loc: tuple[int | str, ...]) -> str:
    return "/".join([base, *(str(part).replace("~", "~0").replace("/", "~1") for part in loc)])


def parse_gp_bundle(raw: bytes | str) -> ParsedGpRecord:
    data = raw.encode("utf-8") if isinstance(raw, str) else raw
    parsed = ParsedGpRecord(content_hash=hashlib.sha256(data).hexdigest())
    try:
        bundle = json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        where = f"line {e.lineno} column {e.colno}: " if isinstance(e, json.JSONDecodeError) \
            else ""
        parsed.fatal.append(Issue("#", "fhir.malformed_json",
                                  f"The body is not valid JSON ({where}{_reason(e)})."))
        return parsed
    if not isinstance(bundle, dict) or bundle.get("resourceType") != "Bundle":
        found = bundle.get("resourceType") if isinstance(bundle, dict) else type(bundle).__name__
        parsed.fatal.append(Issue("#/resourceType", "fhir.wrong_resource_type",
                                  f"Expected a Bundle; got {str(found)[:50]!r}."))
        return parsed
    entries = bundle.get("entry")
    if not isinstance(entries, list) or not entries:
        parsed.fatal.append(Issue("#/entry", "fhir.bundle_empty",
                                  "The Bundle has no entries to import."))
        return parsed
    resources = _valid_resources(entries, parsed)
    _identify(bundle, resources, parsed)
    _read_items(resources, parsed)
    parsed.problems.sort(key=entry_order)
    parsed.skipped.sort(key=entry_order)
    return parsed


def entry_order(issue: Issue) -> tuple[int, str]:
    """Issues in bundle order: by entry index, then pointer."""
    parts = issue.pointer.split("/")
    index = int(parts[2]) if len(parts) > 2 and parts[2].isdigit() else -1
    return index, issue.pointer


def _reason(error: Exception) -> str:
    return error.msg if isinstance(error, json.JSONDecodeError) else "not UTF-8"


def _valid_resources(entries: list[Any], parsed: ParsedGpRecord) -> dict[int, dict[str, Any]]:
    """Each entry's resource that is well-formed FHIR (R4B models), by entry index."""
    found: dict[int, dict[str, Any]] = {}
    for i, entry in enumerate(entries):
        base = f"#/entry/{i}/resource"
        resource = entry.get("resource") if isinstance(entry, dict) else None
        if not isinstance(resource, dict):
            parsed.problems.append(Issue(base, "fhir.resource_missing",
                                         "The entry has no resource object."))
            continue
        kind = resource.get("resourceType")
        try:
            model = get_fhir_model_class(str(kind))
        except ValueError:
            parsed.problems.append(Issue(f"{base}/resourceType", "fhir.unknown_resource_type",
                                         f"{str(kind)[:50]!r} is not a FHIR resource type."))
            continue
        try:
            model.model_validate(resource)
        except ValidationError as e:
            parsed.problems.extend(
                Issue(_pointer(base, tuple(err["loc"])), "fhir.invalid", err["msg"])
                for err in e.errors())
            continue
        found[i] = resource
    return found


def _identify(bundle: Mapping[str, Any], resources: dict[int, dict[str, Any]],
              parsed: ParsedGpRecord) -> None:
    """Who the record is for (the Patient's NHS number) and which system sent it."""
    patients = [(i, r) for i, r in resources.items() if r["resourceType"] == "Patient"]
    if not patients:
        parsed.fatal.append(Issue("#/entry", "gp_import.patient_missing",
                                  "The bundle has no valid Patient; it must name the person."))
    for i, patient in patients[:1]:
        numbers = [(j, ident) for j, ident in enumerate(patient.get("identifier", []))
                   if ident.get("system") == NHS_NUMBER]
        if not numbers:
            parsed.fatal.append(Issue(f"#/entry/{i}/resource/identifier",
                                      "gp_import.nhs_number_missing",
                                      "The Patient has no NHS number identifier."))
        for j, ident in numbers[:1]:
            parsed.nhs_pointer = f"#/entry/{i}/resource/identifier/{j}/value"
            try:
                parsed.nhs_number = NhsNumber(str(ident.get("value", "")))
            except InvalidValue as e:
                parsed.fatal.append(Issue(parsed.nhs_pointer, e.rule, e.message))
    for resource in resources.values():
        if resource["resourceType"] == "Organization":
            for ident in resource.get("identifier", []):
                if ident.get("system") == ODS_CODE and ident.get("value"):
                    parsed.source_system = f"{ODS_CODE}|{ident['value']}"
                    return
    ident = bundle.get("identifier")
    if isinstance(ident, dict) and ident.get("system") and ident.get("value"):
        parsed.source_system = f"{ident['system']}|{ident['value']}"
        return
    parsed.fatal.append(Issue("#/entry", "gp_import.source_unknown",
                              "Name the sending GP practice: an Organization with an ODS code "
                              "(or a Bundle.identifier)."))


def _version(resource: Mapping[str, Any]) -> str:
    meta = resource.get("meta") or {}
    version = meta.get("versionId") or meta.get("lastUpdated")
    if version:
        return str(version)
    body = json.dumps(resource, sort_keys=True, separators=(",", ":")).encode("utf-8")
    return "sha256:" + hashlib.sha256(body).hexdigest()[:16]


def _read_items(resources: dict[int, dict[str, Any]], parsed: ParsedGpRecord) -> None:
    by_reference = {f"{r['resourceType']}/{r['id']}": (i, r) for i, r in resources.items()
                    if r.get("id")}
    seen: dict[str, str] = {}
    for i, resource in resources.items():
        kind, base = resource["resourceType"], f"#/entry/{i}/resource"
        if kind in CONTEXT_TYPES:
            continue
        if kind not in CLINICAL:
            parsed.skipped.append(Issue(base, "gp_import.not_imported",
                                        f"{kind} is not imported into the care record."))
            continue
        if not resource.get("id"):
            parsed.problems.append(Issue(f"{base}/id", "gp_import.id_missing",
                                         "A clinical resource needs an id to be imported once."))
            continue
        key = f"{parsed.source_system}|{kind}/{resource['id']}|{_version(resource)}"
        if key in seen:
            parsed.skipped.append(Issue(base, "gp_import.duplicate",
                                        f"Same resource and version as {seen[key]}."))
            continue
        fields = item_fields(resource, base, by_reference)
        if isinstance(fields, list):
            parsed.problems.extend(Issue(*problem) for problem in fields)
            continue
        item = _item(key, fields, base, parsed)
        if item is not None:
            seen[key] = base
            parsed.items.append(item)


def _item(key: str, fields: ItemFields, base: str, parsed: ParsedGpRecord) -> GpItem | None:
    coding_pointer, values = fields
    try:
        return GpItem(key=key, **values)
    except InvalidValue as e:
        problems = e.problems if isinstance(e, InvalidValues) else [e]
        parsed.problems.extend(Issue(coding_pointer if p.field in ("code", "display")
                                     else base, p.rule, p.message) for p in problems)
        return None


def import_command(patient_id: UUID, parsed: ParsedGpRecord) -> ImportGpRecord:
    """The command that imports a parsed bundle's items into the patient's record."""
    return ImportGpRecord(patient_id=patient_id, source_system=parsed.source_system,
                          content_hash=parsed.content_hash, items=tuple(parsed.items),
                          nhs_number=parsed.nhs_number.value if parsed.nhs_number else None)
