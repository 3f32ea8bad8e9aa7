"""Application errors: what a use case can refuse besides the domain's own rules."""

from __future__ import annotations

from uuid import UUID


class ApplicationError(Exception):
    rule: str = "application"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class PatientNotFound(ApplicationError):
    rule = "patient.not_found"

    def __init__(self, patient_id: UUID) -> None:
        super().__init__(f"No care record has id {patient_id}.")
        self.patient_id = patient_id


class DuplicatePatient(ApplicationError):
    rule = "patient.already_registered"

    def __init__(self, existing_id: UUID) -> None:
        super().__init__("A care record with this NHS number already exists.")
        self.existing_id = existing_id


class ConcurrencyConflict(ApplicationError):
    rule = "record.concurrent_update"


class IdempotencyKeyReused(ApplicationError):
    rule = "idempotency_key.reused"
