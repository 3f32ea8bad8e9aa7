"""Access to a patient's record: the legitimate-relationship rule, break-glass, consent, dissent.

The rule reads the write model (the authoritative journey and caseloads), not a read
model, so a patient received a moment ago is already at the receiving site. Consent and
dissent are events on the care record, so they are attributed and replayable like any
clinical fact.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

import structlog

from sonar.commands.context import CommandContext, CommandResult
from sonar.domain.attribution import Actor, Attribution
from sonar.domain.care_record import CareRecord
from sonar.eventstore.application import SonarApplication

log = structlog.get_logger("sonar.access")


def _same_place(a: str | None, b: str) -> bool:
    return a is not None and " ".join(a.split()).casefold() == " ".join(b.split()).casefold()


def has_relationship(record: CareRecord, actor: Actor, now: datetime,
                     window: timedelta) -> bool:
    """Is, or was within ``window``, at the actor's site; or on their caseload.

    Registering a patient at a site starts a relationship there too, so the registering
    clinician can record the next step.
    """
    since = now - window
    moves = record.journey.movements
    for i, move in enumerate(moves):
        left = moves[i + 1].occurred_at if i + 1 < len(moves) else None
        if _same_place(move.location, actor.site) and (left is None or left >= since):
            return True
    registered = record.registered_by
    if _same_place(registered.actor.site, actor.site) and registered.recorded_at >= since:
        return True
    return any(e.caseload_worker == actor.actor_id for e in record.episodes)


def dissents_from(record: CareRecord, organisation: str) -> bool:
    return any(_same_place(o, organisation) for o in record.sharing_dissents)


def break_glass_active(record: CareRecord, actor: Actor, now: datetime) -> bool:
    until = record.break_glass_grants.get(actor.actor_id)
    return until is not None and now < until


@dataclass(frozen=True)
class AccessDecision:
    """Whether the actor may proceed, the rule that decided, and if break-glass was used."""

    allowed: bool
    rule: str
    break_glass: bool = False


def decide(record: CareRecord, actor: Actor, now: datetime, window: timedelta, *,
           reading: bool) -> AccessDecision:
    """Break-glass overrides everything; otherwise a relationship, and for reads no dissent."""
    if break_glass_active(record, actor, now):
        return AccessDecision(allowed=True, rule="access.break_glass", break_glass=True)
    if not has_relationship(record, actor, now, window):
        return AccessDecision(allowed=False, rule="access.no_relationship")
    if reading and dissents_from(record, actor.organisation):
        return AccessDecision(allowed=False, rule="access.dissent")
    return AccessDecision(allowed=True, rule="access.relationship")


# --- use cases --------------------------------------------------------------------------


def break_glass(app: SonarApplication, ctx: CommandContext, patient_id: UUID, reason: str,
                hours: int) -> CommandResult:
    """Record a break-glass access; it grants ``hours`` of access and is alerted for review."""
    def build(at: Attribution) -> tuple[CareRecord, int | None]:
        record = app.get_record(patient_id)
        record.break_glass(reason, at, hours=hours)
        return record, None
    result = app.execute(ctx, "break_glass", (patient_id, reason, hours), build)
    # The alert for review: ids only (the reason is free text and stays in the record).
    log.warning("break_glass_recorded", alert="break_glass", patient_id=str(patient_id),
                actor_id=ctx.actor.actor_id, position=result.position)
    return result


def record_family_notification_consent(app: SonarApplication, ctx: CommandContext,
                                       patient_id: UUID, family_member: str,
                                       relationship: str, contact_channel: str,
                                       contact_address: str | None) -> CommandResult:
    def build(at: Attribution) -> tuple[CareRecord, int | None]:
        record = app.get_record(patient_id)
        record.record_family_notification_consent(family_member, relationship,
                                                  contact_channel, contact_address, at)
        return record, None
    return app.execute(ctx, "record_family_notification_consent",
                       (patient_id, family_member, relationship, contact_channel,
                        contact_address), build)


def revoke_family_notification_consent(app: SonarApplication, ctx: CommandContext,
                                       patient_id: UUID, family_member: str) -> CommandResult:
    def build(at: Attribution) -> tuple[CareRecord, int | None]:
        record = app.get_record(patient_id)
        record.revoke_family_notification_consent(family_member, at)
        return record, None
    return app.execute(ctx, "revoke_family_notification_consent", (patient_id, family_member),
                       build)


def record_sharing_dissent(app: SonarApplication, ctx: CommandContext, patient_id: UUID,
                           organisation: str) -> CommandResult:
    def build(at: Attribution) -> tuple[CareRecord, int | None]:
        record = app.get_record(patient_id)
        record.record_sharing_dissent(organisation, at)
        return record, None
    return app.execute(ctx, "record_sharing_dissent", (patient_id, organisation), build)


def withdraw_sharing_dissent(app: SonarApplication, ctx: CommandContext, patient_id: UUID,
                             organisation: str) -> CommandResult:
    def build(at: Attribution) -> tuple[CareRecord, int | None]:
        record = app.get_record(patient_id)
        record.withdraw_sharing_dissent(organisation, at)
        return record, None
    return app.execute(ctx, "withdraw_sharing_dissent", (patient_id, organisation), build)
