"""The missed-appointment scheduler: idempotent, and safe to run twice at once.

Each miss is recorded under the idempotency key ``missed:<patient>:<appointment>`` and
the domain refuses to mark an appointment twice, so a second scheduler (or a rerun)
writes nothing more. It runs in-process in ``sonar serve`` or alone as ``sonar scheduler``.
"""

from __future__ import annotations

import threading
from uuid import UUID

import structlog

from sonar.commands.context import CommandContext
from sonar.commands.pipeline import CommandBus
from sonar.commands.reset import RecordMissedAppointment
from sonar.domain.attribution import Actor
from sonar.domain.errors import DomainError
from sonar.domain.reset import MISSED_GRACE
from sonar.eventstore.application import SonarApplication
from sonar.eventstore.errors import ApplicationError
from sonar.notifications.outbox import Dispatcher
from sonar.readmodels.diary import overdue_unattended
from sonar.readmodels.runner import ProjectionRunner

SCHEDULER = Actor("sonar-scheduler", "system", "SONAR", "SONAR")
log = structlog.get_logger("sonar.scheduler")


def run_once(app: SonarApplication, runner: ProjectionRunner) -> int:
    """Record every appointment now past its end and grace period; return how many."""
    runner.wait_for(app.position(), timeout=10.0)
    bus = CommandBus(app)
    recorded = 0
    for patient_id, appointment_id in overdue_unattended(runner.store,
                                                         app.clock() - MISSED_GRACE):
        ctx = CommandContext(actor=SCHEDULER, correlation_id=f"missed-{appointment_id}",
                             purpose_of_use="scheduled", source="scheduler",
                             idempotency_key=f"missed:{patient_id}:{appointment_id}")
        try:
            result = bus.handle(ctx, RecordMissedAppointment(patient_id=UUID(patient_id),
                                                             appointment_id=appointment_id))
        except (DomainError, ApplicationError) as exc:  # attended or marked meanwhile
            log.info("missed_appointment_skipped", rule=getattr(exc, "rule", "unknown"))
            continue
        recorded += 0 if result.replayed else 1
    if recorded:
        log.info("missed_appointments_recorded", count=recorded)
    return recorded


def run_forever(app: SonarApplication, runner: ProjectionRunner, stop: threading.Event,
                every: float = 60.0, dispatcher: Dispatcher | None = None) -> None:
    """Record misses, then queue and deliver their notifications, every ``every`` seconds."""
    while not stop.wait(every):
        try:
            run_once(app, runner)
            if dispatcher is not None:
                dispatcher.enqueue()
                dispatcher.enqueue_reminders()
                dispatcher.deliver()
        except Exception as exc:  # retried next period; serving goes on
            log.error("scheduler_failed", error_type=type(exc).__name__)
