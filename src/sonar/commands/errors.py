"""What the pipeline can refuse besides the domain's own rules."""

from __future__ import annotations

from uuid import UUID

from sonar.eventstore.errors import ApplicationError


class AccessDenied(ApplicationError):
    """The role lacks the right, or the user has no legitimate relationship (HTTP 403)."""

    def __init__(self, rule: str, message: str) -> None:
        super().__init__(message)
        self.rule = rule


class DuplicatePatient(ApplicationError):
    rule = "patient.already_registered"

    def __init__(self, existing_id: UUID) -> None:
        super().__init__("A care record with this NHS number already exists.")
        self.existing_id = existing_id


class ConcurrencyConflict(ApplicationError):
    rule = "record.concurrent_update"


class IdempotencyKeyReused(ApplicationError):
    rule = "idempotency_key.reused"
