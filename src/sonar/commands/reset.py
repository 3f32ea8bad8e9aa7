"""ReSet use cases: plan release, keep the diary, record attendance and misses.

They run through the application's one command pipeline (attribution, idempotency,
concurrency retries). Appointment ids are made here so the domain stays deterministic.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from uuid import UUID, uuid4

from sonar.commands.context import CommandContext, CommandResult
from sonar.domain import Attribution, CareRecord
from sonar.domain.reset import Appointment, ReleasePlan
from sonar.eventstore.application import SonarApplication


def plan_release(app: SonarApplication, ctx: CommandContext, patient_id: UUID,
                 plan: ReleasePlan) -> CommandResult:
    def step(record: CareRecord, at: Attribution) -> None:
        record.plan_release(plan, at)

    return app.execute(ctx, "plan_release", (patient_id, plan), app.on(patient_id, step))


def book_appointment(app: SonarApplication, ctx: CommandContext, patient_id: UUID, *,
                     kind: str, agency: str, agency_contact: str | None,
                     starts_at: datetime, ends_at: datetime,
                     place: str) -> tuple[CommandResult, str]:
    """Book an appointment in the diary; return the result and the appointment id.

    With an Idempotency-Key the id is derived from it, so a retried request answers with
    the same id as the booking it repeats.
    """
    appointment_id = (
        hashlib.sha256(f"{ctx.actor.actor_id}\n{ctx.idempotency_key}".encode()).hexdigest()[:12]
        if ctx.idempotency_key else uuid4().hex[:12])

    def step(record: CareRecord, at: Attribution) -> None:
        record.book_appointment(Appointment(appointment_id, kind, agency, agency_contact,
                                            starts_at, ends_at, place), at)

    args = (patient_id, kind, agency, agency_contact, starts_at, ends_at, place)
    return app.execute(ctx, "book_appointment", args, app.on(patient_id, step)), appointment_id


def record_attendance(app: SonarApplication, ctx: CommandContext, patient_id: UUID,
                      appointment_id: str, confirmed_by: str) -> CommandResult:
    def step(record: CareRecord, at: Attribution) -> None:
        record.record_attendance(appointment_id, confirmed_by, at)

    return app.execute(ctx, "record_attendance", (patient_id, appointment_id, confirmed_by),
                       app.on(patient_id, step))


def cancel_appointment(app: SonarApplication, ctx: CommandContext, patient_id: UUID,
                       appointment_id: str, reason: str) -> CommandResult:
    def step(record: CareRecord, at: Attribution) -> None:
        record.cancel_appointment(appointment_id, reason, at)

    return app.execute(ctx, "cancel_appointment", (patient_id, appointment_id, reason),
                       app.on(patient_id, step))


def record_reminder_contact(app: SonarApplication, ctx: CommandContext, patient_id: UUID,
                            channel: str | None, address: str | None) -> CommandResult:
    def step(record: CareRecord, at: Attribution) -> None:
        record.record_reminder_contact(channel, address, at)

    return app.execute(ctx, "record_reminder_contact", (patient_id, channel, address),
                       app.on(patient_id, step))


def record_missed_appointment(app: SonarApplication, ctx: CommandContext, patient_id: UUID,
                              appointment_id: str) -> CommandResult:
    def step(record: CareRecord, at: Attribution) -> None:
        record.record_missed_appointment(appointment_id, at)

    return app.execute(ctx, "record_missed_appointment", (patient_id, appointment_id),
                       app.on(patient_id, step))
