"""Aggregates that make commands idempotent and NHS numbers unique, atomically.

Each is saved in the same transaction as the care record's new events: a duplicate key
or number fails that whole transaction on the store's unique (id, version) constraint,
so nothing is written twice and nothing is half-written.
"""

from __future__ import annotations

from datetime import datetime
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate

_RECEIPTS = uuid5(NAMESPACE_URL, "https://sonar.example/command-receipts")
_NHS_INDEX = uuid5(NAMESPACE_URL, "https://sonar.example/nhs-number-index")


class CommandReceipt(Aggregate):
    """Proof that the command with an idempotency key was applied, and what it returned."""

    class Issued(Aggregate.Created):
        command: str
        fingerprint: str
        patient_id: UUID
        episode: int | None

    def __init__(self, command: str, fingerprint: str, patient_id: UUID,
                 episode: int | None) -> None:
        self.command = command
        self.fingerprint = fingerprint
        self.patient_id = patient_id
        self.episode = episode

    @staticmethod
    def id_for(actor_id: str, key: str) -> UUID:
        """Keys are scoped to the actor, so two clinicians can never collide."""
        return uuid5(_RECEIPTS, f"{actor_id}\n{key}")

    @classmethod
    def issue(cls, actor_id: str, key: str, command: str, fingerprint: str,
              patient_id: UUID, episode: int | None, at: datetime) -> CommandReceipt:
        return cls._create(cls.Issued, id=cls.id_for(actor_id, key), command=command,
                           fingerprint=fingerprint, patient_id=patient_id, episode=episode,
                           timestamp=at)


class NhsNumberIndex(Aggregate):
    """Points an NHS number at the one care record that holds it."""

    class Indexed(Aggregate.Created):
        patient_id: UUID

    def __init__(self, patient_id: UUID) -> None:
        self.patient_id = patient_id

    @staticmethod
    def id_for(nhs_number: str) -> UUID:
        return uuid5(_NHS_INDEX, nhs_number)

    @classmethod
    def index(cls, nhs_number: str, patient_id: UUID, at: datetime) -> NhsNumberIndex:
        return cls._create(cls.Indexed, id=cls.id_for(nhs_number), patient_id=patient_id,
                           timestamp=at)
