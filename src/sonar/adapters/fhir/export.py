"""Export a care record as a FHIR R4 collection Bundle (UK Core profiles where they exist).

The record gives the current state (statuses, entries marked in error); the record's
events give one Provenance each, naming who did it, for what purpose, when it happened
clinically and when SONAR recorded it, and which resources it created or changed. Ids
are derived from the record, so exporting twice gives the same resources.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from sonar.adapters.fhir import entries
from sonar.adapters.fhir.codes import (
    CONDITION_CATEGORY,
    CONDITION_CLINICAL,
    CONDITION_VERIFICATION,
    DEPENDENCE_BY_SUBSTANCE,
    DRUG_DEPENDENCE,
    EXPORT_BUNDLE,
    FHIR_GENDER,
    NHS_NUMBER,
    PNC_ID,
    PRISON_NUMBER,
    SNOMED,
    coding,
    concept,
    local,
    profiled,
    reference,
    resource_id,
)
from sonar.adapters.fhir.entries import Resource
from sonar.adapters.fhir.provenance import provenance
from sonar.domain.care_record import CareRecord
from sonar.domain.pathway import (
    BriefIntervention,
    CarePlan,
    DualDiagnosis,
    ReceptionScreen,
    Review,
    RiskAssessment,
)
from sonar.domain.sms_episode import Entry, Episode, EpisodeStatus
from sonar.domain.top import Top

_EPISODE_STATUS = {EpisodeStatus.REFERRED: "waitlist", EpisodeStatus.OPEN: "active",
                   EpisodeStatus.CLOSED: "cancelled", EpisodeStatus.DISCHARGED: "finished"}
_REFERRAL_STATUS = {EpisodeStatus.REFERRED: "active", EpisodeStatus.OPEN: "completed",
                    EpisodeStatus.CLOSED: "revoked", EpisodeStatus.DISCHARGED: "completed"}


class _Bundle:
    """Resources in export order, and which resources each event version produced."""

    def __init__(self, record: CareRecord) -> None:
        self.record = record
        self.resources: list[Resource] = []
        self.by_version: dict[int, list[dict[str, str]]] = {}
        self.by_episode: dict[int, list[dict[str, str]]] = {}

    def add(self, resource: Resource, version: int | None = None) -> Resource:
        cleaned = {k: v for k, v in resource.items() if v not in (None, [], "", {})}
        self.resources.append(cleaned)
        if version is not None:
            self.by_version.setdefault(version, []).append(reference(cleaned))
        return cleaned


def _patient(bundle: _Bundle) -> Resource:
    record = bundle.record
    identity, person = record.identity, record.demographics
    identifiers = []
    if identity.nhs_number:
        identifiers.append({"system": NHS_NUMBER, "value": identity.nhs_number.value})
    if identity.prison_number:
        identifiers.append({"system": PRISON_NUMBER, "value": identity.prison_number.value})
    if identity.pnc_id:
        identifiers.append({"system": PNC_ID, "value": identity.pnc_id.value})
    return bundle.add(profiled(
        "Patient", id=str(record.id), identifier=identifiers,
        name=[{"use": "official", "family": person.family_name,
               "given": [person.given_name]}],
        gender=FHIR_GENDER[person.sex], birthDate=person.date_of_birth.isoformat()))


def _dependence(bundle: _Bundle, episode: Episode, patient: dict[str, str]) -> Resource:
    """Dependence from the referral's primary substance; resolved only on a completed exit."""
    code, display = DEPENDENCE_BY_SUBSTANCE.get(episode.referral.substances[0],
                                                DRUG_DEPENDENCE)
    free = (episode.discharge is not None
            and episode.discharge.exit_reason == "completed_free_of_dependency")
    return bundle.add(profiled(
        "Condition", id=resource_id(bundle.record.id, f"dependence/{episode.number}"),
        clinicalStatus=concept(coding(CONDITION_CLINICAL, "resolved" if free else "active")),
        verificationStatus=concept(coding(CONDITION_VERIFICATION, "provisional")),
        category=[concept(coding(CONDITION_CATEGORY, "problem-list-item"))],
        code=concept(coding(SNOMED, code, display)), subject=patient,
        recordedDate=episode.referred_at.isoformat(),
        abatementDateTime=episode.ended_at.isoformat() if free and episode.ended_at else None))


def _episode(bundle: _Bundle, episode: Episode, patient: dict[str, str]) -> dict[str, str]:
    pid, number = bundle.record.id, episode.number
    referral = episode.referral
    code = ("304301000000105", "Self referral to substance misuse service") \
        if referral.source == "self" else \
        ("201521000000104", "Referral to substance misuse service")
    service_request = bundle.add(profiled(
        "ServiceRequest", id=resource_id(pid, f"referral/{number}"),
        status=_REFERRAL_STATUS[episode.status], intent="order",
        code=concept(coding(SNOMED, *code)), subject=patient,
        authoredOn=episode.referred_at.isoformat(),
        reasonCode=[concept(coding(local("substance"), s)) for s in referral.substances],
        note=[{"text": referral.notes}] if referral.notes else None))
    dependence = _dependence(bundle, episode, patient)
    service_request["reasonReference"] = [reference(dependence)]
    manager = ({"display": f"{episode.caseload_worker} ({episode.caseload_site})"}
               if episode.caseload_worker else None)
    end = episode.ended_at.isoformat() if episode.ended_at else None
    care = bundle.add(profiled(
        "EpisodeOfCare", id=resource_id(pid, f"episode/{number}"),
        status=_EPISODE_STATUS[episode.status],
        type=[concept(coding(local("episode-type"), "sms", "Substance misuse service"))],
        diagnosis=[{"condition": reference(dependence), "rank": 1}], patient=patient,
        period={"start": episode.referred_at.isoformat(), "end": end},
        referralRequest=[reference(service_request)], careManager=manager))
    bundle.by_episode[number] = [reference(service_request), reference(care),
                                 reference(dependence)]
    return reference(care)


Handler = Callable[[entries.Scope, Any], list[Resource]]
_HANDLERS: tuple[tuple[type[Any], Handler], ...] = (
    (ReceptionScreen, entries.reception_screen), (DualDiagnosis, entries.dual_diagnosis),
    (RiskAssessment, entries.risk_flags), (BriefIntervention, entries.brief_intervention),
    (Top, entries.top_observations), (Review, entries.review_encounter),
)


def _entry(bundle: _Bundle, scope: entries.Scope) -> None:
    for kind, handler in _HANDLERS:
        if isinstance(scope.entry.value, kind):
            for resource in handler(scope, scope.entry.value):
                bundle.add(resource, scope.entry.version)


def _care_plans(bundle: _Bundle, episode: Episode, scope_of: Callable[[Entry, bool],
                entries.Scope]) -> None:
    latest = episode.latest(CarePlan)
    previous: dict[str, str] | None = None
    plans = [e for e in episode.entries if isinstance(e.value, CarePlan)]
    for revision, entry in enumerate(plans, start=1):
        assert isinstance(entry.value, CarePlan)  # noqa: S101 - filtered just above
        if entry.in_error is not None:
            status = entries.IN_ERROR
        elif entry is latest:
            status = "active" if episode.status is EpisodeStatus.OPEN else "completed"
        else:
            status = "revoked"
        for resource in entries.care_plan(scope_of(entry, entry is latest), entry.value,
                                          revision, status, previous):
            added = bundle.add(resource, entry.version)
            if entry.in_error is None:
                previous = reference(added)


def _entries(bundle: _Bundle, patient: dict[str, str]) -> None:
    record = bundle.record
    screens = [e for e in record.screens if e.in_error is None]
    last_screen = max(screens, key=lambda e: (e.occurred_at, e.version), default=None)
    for entry in record.screens:
        current = entry is last_screen and record.journey.setting == "prison"
        _entry(bundle, entries.Scope(record.id, patient, None, entry, current))
    for episode in record.episodes:
        care = _episode(bundle, episode, patient)
        latest = {kind: episode.latest(kind) for kind in (DualDiagnosis, RiskAssessment)}

        def scope_of(entry: Entry, current: bool, care: dict[str, str] = care,
                     active: bool = episode.is_active) -> entries.Scope:
            return entries.Scope(record.id, patient, care, entry, current and active)

        for entry in episode.entries:
            if not isinstance(entry.value, CarePlan):
                current = any(entry is found for found in latest.values())
                _entry(bundle, scope_of(entry, current))
        _care_plans(bundle, episode, scope_of)


def export_bundle(record: CareRecord, events: Iterable[Any]) -> dict[str, Any]:
    """The record as a FHIR R4 ``collection`` Bundle, with one Provenance per event."""
    bundle = _Bundle(record)
    patient = reference(_patient(bundle))
    _entries(bundle, patient)
    provenances = [provenance(record.id, event, _targets(bundle, event, patient))
                   for event in events]
    resources = bundle.resources + provenances
    return {
        "resourceType": "Bundle",
        "id": resource_id(record.id, f"bundle/{record.version}"),
        "meta": {"lastUpdated": record.modified_on.isoformat()},
        "identifier": {"system": EXPORT_BUNDLE, "value": f"{record.id}/{record.version}"},
        "type": "collection",
        "timestamp": record.modified_on.isoformat(),
        "entry": [{"fullUrl": f"urn:uuid:{r['id']}", "resource": r} for r in resources],
    }


def _targets(bundle: _Bundle, event: Any, patient: dict[str, str]) -> list[dict[str, str]]:
    """The resources an event created or changed; the Patient when it maps to none."""
    version = getattr(event, "entry_version", None) or event.originator_version
    found = bundle.by_version.get(version)
    if found:
        return found
    episode = getattr(event, "episode", None)
    if isinstance(episode, int) and episode in bundle.by_episode:
        return bundle.by_episode[episode]
    return [patient]
