"""Who may do what to a patient's record: each role's rights, the legitimate relationship,
break glass and dissent. One decision, used by the command pipeline for every write and by
the API for every read.

The relationship is read from the write model (the authoritative journey and caseloads),
so a patient received a moment ago is already at the receiving site.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sonar.domain.places import same_place

if TYPE_CHECKING:
    from sonar.domain.attribution import Actor
    from sonar.domain.care_record import CareRecord

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
    # SONAR's own processes (the missed-appointment scheduler): see ``trusted``.
    "system": frozenset({"write_custody"}),
}


def allows(role: str, action: str) -> bool:
    """Whether ``role`` has the right ``action`` ("public" is everyone's)."""
    return action == "public" or action in RIGHTS.get(role, frozenset())


def trusted(actor: Actor) -> bool:
    """SONAR's own processes act on every record they are given (the scheduler records a miss
    for whoever missed): they need no relationship, and their role's rights bound them."""
    return actor.role == "system"


def relationship_lasts(since: datetime, now: datetime, days: int) -> bool:
    """Whether a relationship with a site still holds at ``now``, ``since`` the person left
    it (or was registered there): for ``days`` days exactly, to the minute."""
    return now - since <= timedelta(days=days)


def has_relationship(record: CareRecord, actor: Actor, now: datetime, days: int) -> bool:
    """Is at the actor's site, or left it within ``days`` days; or on their caseload.

    Registering a patient at a site starts a relationship there too, so the registering
    clinician can record the next step.
    """
    moves = record.journey.movements
    for i, move in enumerate(moves):
        left = moves[i + 1].occurred_at if i + 1 < len(moves) else None
        if same_place(move.location, actor.site) and (
                left is None or relationship_lasts(left, now, days)):
            return True
    registered = record.registered_by
    if same_place(registered.actor.site, actor.site) and relationship_lasts(
            registered.recorded_at, now, days):
        return True
    return any(e.caseload_worker == actor.actor_id for e in record.episodes)


def dissents_from(record: CareRecord, organisation: str) -> bool:
    return record.recorded_dissent(organisation) is not None


def break_glass_until(record: CareRecord, actor: Actor, now: datetime) -> datetime | None:
    """When the actor's break-glass access to the record ends, if it is running at ``now``."""
    until = record.break_glass_grants.get(actor.actor_id)
    return until if until is not None and now < until else None


@dataclass(frozen=True)
class AccessDecision:
    """Whether the actor may proceed, the rule that decided, and if break-glass was used."""

    allowed: bool
    rule: str
    break_glass: bool = False


def decide(record: CareRecord, actor: Actor, now: datetime, relationship_days: int, *,
           reading: bool) -> AccessDecision:
    """Break-glass overrides everything; otherwise a relationship, and for reads no dissent."""
    if break_glass_until(record, actor, now) is not None:
        return AccessDecision(allowed=True, rule="access.break_glass", break_glass=True)
    if not has_relationship(record, actor, now, relationship_days):
        return AccessDecision(allowed=False, rule="access.no_relationship")
    if reading and dissents_from(record, actor.organisation):
        return AccessDecision(allowed=False, rule="access.dissent")
    return AccessDecision(allowed=True, rule="access.relationship")
