"""One FHIR Provenance per stored event: the attribution every SONAR event carries.

``recorded`` is when SONAR stored the event, ``occurredDateTime`` when it happened
clinically (earlier for a late entry); the agent is the actor acting for their
organisation, and the reason is the purpose of use. This is what lets a receiver trust
an exported record without trusting SONAR's own screens.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from sonar.adapters.fhir.codes import (
    ACT_REASON,
    ACTOR_ID,
    DATA_OPERATION,
    ORGANISATION,
    PROVENANCE_AGENT,
    PURPOSE_ACT_REASON,
    coding,
    concept,
    local,
    resource_id,
)
from sonar.domain import codes

_CREATED = ("Registered", "ReferredToSms", "ReceptionScreenRecorded", "DualDiagnosisAssessed",
            "RiskAssessed", "BriefInterventionRecorded", "TopRecorded", "ReviewRecorded",
            "CarePlanRevised", "GpRecordImported")


def _operation(name: str) -> tuple[str, str]:
    if name == "EntryMarkedInError":
        return "NULLIFY", "nullify"
    if name in _CREATED:
        return "CREATE", "create"
    return "UPDATE", "revise"


def provenance(patient_id: UUID, event: Any, targets: list[dict[str, str]]) -> dict[str, Any]:
    at = event.attribution
    name = type(event).__name__
    purpose = [coding(local("purpose-of-use"), at.purpose_of_use,
                      codes.PURPOSE_OF_USE.display(at.purpose_of_use))]
    if at.purpose_of_use in PURPOSE_ACT_REASON:
        purpose.insert(0, coding(ACT_REASON, PURPOSE_ACT_REASON[at.purpose_of_use]))
    actor = at.actor
    return {
        "resourceType": "Provenance",
        "id": resource_id(patient_id, f"provenance/{event.originator_version}"),
        "target": targets,
        "occurredDateTime": at.occurred_at.isoformat(),
        "recorded": at.recorded_at.isoformat(),
        "reason": [concept(*purpose)],
        "activity": concept(coding(DATA_OPERATION, *_operation(name)),
                            coding(local("event-type"), name), text=name),
        "agent": [{
            "type": concept(coding(PROVENANCE_AGENT, "author", "Author")),
            "role": [concept(coding(local("role"), actor.role,
                                    codes.ROLE.display(actor.role)))],
            "who": {"identifier": {"system": ACTOR_ID, "value": actor.actor_id},
                    "display": actor.actor_id},
            "onBehalfOf": {"identifier": {"system": ORGANISATION, "value": actor.organisation},
                           "display": f"{actor.organisation} ({actor.site})"},
        }],
        "entity": [{"role": "source", "what": {
            "identifier": {"system": local("source"), "value": at.source},
            "display": f"{codes.SOURCE.display(at.source)}; correlation {at.correlation_id}"}}],
    }
