"""The one pipeline every command runs through.

For each command: derive its server-set fields; replay the earlier answer if its
Idempotency-Key was seen (fingerprint: the command itself, with its purpose); check the
role's right and the access decision on the loaded record; call the domain with an
attribution built from the caller and the injected clock; save the new events together with
any idempotency receipt or NHS-number index in one transaction; retry on a fresh record if
another writer got there first. A refused command raises before anything is saved, so it
writes nothing; a command that changes nothing writes nothing and answers with the head.
"""

from __future__ import annotations

import hashlib
import random
import time
from dataclasses import replace
from datetime import datetime

import structlog
from eventsourcing.application import AggregateNotFoundError
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import IntegrityError

from sonar.commands.base import Command, CommandConfig, CreateCommand, PatientCommand
from sonar.commands.context import CommandContext, CommandResult
from sonar.commands.errors import (
    AccessDenied,
    ConcurrencyConflict,
    DuplicatePatient,
    IdempotencyKeyReused,
)
from sonar.domain.access import allows, decide, trusted
from sonar.domain.attribution import Attribution
from sonar.domain.care_record import CareRecord
from sonar.domain.identity import NhsNumber
from sonar.domain.places import same_place
from sonar.eventstore.application import SonarApplication
from sonar.eventstore.receipts import CommandReceipt, NhsNumberIndex

log = structlog.get_logger("sonar.commands")


class CommandBus:
    """Runs commands against the care-record store."""

    max_attempts = 6

    def __init__(self, store: SonarApplication, config: CommandConfig | None = None) -> None:
        self.store = store
        self.config = config or CommandConfig()

    def handle(self, ctx: CommandContext, command: Command) -> CommandResult:
        """Run ``command`` for the caller in ``ctx`` (see the module docstring)."""
        command = command.prepare(ctx, self.config)
        ctx = replace(ctx, purpose_of_use=command.step.purpose or ctx.purpose_of_use,
                      source=command.step.source or ctx.source)
        if not (allows(ctx.actor.role, command.step.right) or self._own(ctx, command)):
            raise AccessDenied("access.role", f"The {ctx.actor.role} role does not have the "
                               f"right {command.step.right}.")
        fingerprint = self._fingerprint(ctx, command) if ctx.idempotency_key else ""
        for attempt in range(self.max_attempts):
            replayed = self._replay(ctx, command, fingerprint)
            if replayed is not None:
                return replayed
            now = self.store.clock()
            record, episode = self._build(ctx, command, now)
            if not record.pending_events:  # nothing to change: nothing to write
                self.store.record_cache.put(record)
                return CommandResult(record.id, self.store.position(), episode=episode,
                                     details=self._details(command, record, ctx, written=False))
            others: list[Aggregate] = (self._index(record, now)
                                       if command.step.indexes_nhs_number else [])
            if ctx.idempotency_key is not None:
                others.append(CommandReceipt.issue(ctx.actor.actor_id, ctx.idempotency_key,
                                                   command.name(), fingerprint, record.id,
                                                   episode, now))
            try:
                recordings = self.store.group_commit.save(record, *others)
            except IntegrityError:
                self.store.record_cache.evict(record.id)  # stale, or another writer won
                self._raise_if_duplicate(record)
                time.sleep(random.uniform(0.002, 0.02) * (attempt + 1))  # noqa: S311 - jitter
                continue
            self.store.record_cache.put(record)
            position = recordings[-1].notification.id
            if command.step.alert is not None:  # for review: ids only, never the free text
                log.warning(f"{command.step.alert}_recorded", alert=command.step.alert,
                            patient_id=str(record.id), actor_id=ctx.actor.actor_id,
                            position=position)
            return CommandResult(record.id, position, episode=episode,
                                 details=self._details(command, record, ctx, written=True))
        raise ConcurrencyConflict(
            "The record kept changing while this was saved; reload it and try again.")

    # --- the steps ------------------------------------------------------------------------

    def _build(self, ctx: CommandContext, command: Command,
               now: datetime) -> tuple[CareRecord, int | None]:
        """The record with the command's new events pending, and the episode it concerns."""
        at = Attribution(actor=ctx.actor, purpose_of_use=ctx.purpose_of_use,
                         source=ctx.source, correlation_id=ctx.correlation_id,
                         occurred_at=command.occurred_at or now, recorded_at=now)
        if isinstance(command, CreateCommand):
            record = command.create(at)
            self._raise_if_duplicate(record)
            return record, None
        if not isinstance(command, PatientCommand):
            msg = f"{type(command).__name__} is neither a creating nor a patient command"
            raise TypeError(msg)
        record = self.store.checkout(command.patient_id)
        try:
            self._check_access(ctx, command, record, now)
            opened = command.apply(record, at)
            if command.step.indexes_nhs_number:
                self._raise_if_duplicate(record)
        except BaseException:
            self.store.record_cache.put(record)  # kept only if refused before any change
            raise
        return record, opened if opened is not None else command.episode_number

    def _check_access(self, ctx: CommandContext, command: PatientCommand, record: CareRecord,
                      now: datetime) -> None:
        """The access decision for a write: a relationship (or break glass), a step at the
        user's own site that starts one, or a released person on their own record."""
        if (not command.step.needs_relationship or self._own(ctx, command)
                or trusted(ctx.actor)):
            return
        if command.step.starts_at is not None:
            place = getattr(command, command.step.starts_at)
            if isinstance(place, str) and same_place(place, ctx.actor.site):
                return
        decision = decide(record, ctx.actor, now, self.config.relationship_days, reading=False)
        if not decision.allowed:
            raise AccessDenied(decision.rule, "This patient is not, and has not recently "
                               "been, at your site or on your caseload. If you must act now, "
                               "break glass with a reason.")

    @staticmethod
    def _own(ctx: CommandContext, command: Command) -> bool:
        return (command.step.by_patient and isinstance(command, PatientCommand)
                and ctx.own_record is not None and ctx.own_record == command.patient_id)

    def _details(self, command: Command, record: CareRecord, ctx: CommandContext, *,
                 written: bool) -> dict[str, object]:
        if isinstance(command, PatientCommand):
            return command.details(record, ctx, written)
        return {}

    # --- idempotency ----------------------------------------------------------------------

    @staticmethod
    def _fingerprint(ctx: CommandContext, command: Command) -> str:
        """What makes two requests "the same" for an Idempotency-Key: the command itself
        (its name and every field, clinical time included) and the purpose of use."""
        body = command.model_dump_json(round_trip=True)
        digest = hashlib.sha256(f"{command.name()}\n{ctx.purpose_of_use}\n".encode())
        digest.update(body.encode())
        return digest.hexdigest()

    def _replay(self, ctx: CommandContext, command: Command,
                fingerprint: str) -> CommandResult | None:
        """The earlier result of this idempotency key, if the command was already applied."""
        if ctx.idempotency_key is None:
            return None
        try:
            receipt: Aggregate = self.store.repository.get(
                CommandReceipt.id_for(ctx.actor.actor_id, ctx.idempotency_key))
        except AggregateNotFoundError:
            return None
        if not isinstance(receipt, CommandReceipt) or receipt.fingerprint != fingerprint:
            raise IdempotencyKeyReused(
                "This Idempotency-Key was already used for a different request; "
                "use a new key for a new request.")
        details = (command.details(self.store.get_record(receipt.patient_id), ctx, False)
                   if isinstance(command, PatientCommand)
                   and type(command).details is not PatientCommand.details else {})
        return CommandResult(receipt.patient_id, self.store.position(), replayed=True,
                             episode=receipt.episode, details=details)

    # --- NHS number uniqueness ------------------------------------------------------------

    def _raise_if_duplicate(self, record: CareRecord) -> None:
        nhs = record.identity.nhs_number
        if nhs is not None:
            owner = self.store.find_by_nhs_number(nhs)
            if owner is not None and owner != record.id:
                raise DuplicatePatient(owner)

    @staticmethod
    def _index(record: CareRecord, now: datetime) -> list[Aggregate]:
        nhs: NhsNumber | None = record.identity.nhs_number
        return [NhsNumberIndex.index(nhs.value, record.id, now)] if nhs else []

