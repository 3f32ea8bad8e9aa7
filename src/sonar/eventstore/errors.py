"""Errors of the record store: a record that does not exist, and what a failed store said."""

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


READ_ONLY_SQLSTATE = "25006"  # read_only_sql_transaction: a standby, or made read-only
DISK_FULL_SQLSTATE = "53100"  # disk_full: the volume (or tablespace) holding the log


def sqlstate_of(exc: BaseException) -> str | None:
    """The PostgreSQL SQLSTATE behind a store error, following eventsourcing's ``from e``."""
    seen: BaseException | None = exc
    for _ in range(5):  # bounded: a chain is one or two links
        if seen is None:
            return None
        state = getattr(seen, "sqlstate", None)
        if isinstance(state, str):
            return state
        seen = seen.__cause__ or seen.__context__
    return None
