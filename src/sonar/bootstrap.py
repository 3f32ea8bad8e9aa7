"""The one place that builds SONAR's concrete objects from Settings."""

from __future__ import annotations

import os
from typing import Any

import structlog
from eventsourcing.persistence import PersistenceError

from sonar.audit import access_log, checkpoints
from sonar.auth import users
from sonar.config import Settings
from sonar.eventstore.application import Clock, SonarApplication, utc_now
from sonar.eventstore.errors import READ_ONLY_SQLSTATE, sqlstate_of
from sonar.notifications import outbox
from sonar.notifications.outbox import (
    Channel,
    Dispatcher,
    SmsChannel,
    SmtpChannel,
    WebhookChannel,
)
from sonar.readmodels.log_listener import LogListener
from sonar.readmodels.registry import all_projections
from sonar.readmodels.runner import ProjectionRunner
from sonar.readmodels.share_workers import MAX_WORKERS, ProcessShareWorkers
from sonar.sqlstore.records import PostgresRecordStore, RecordStore, SqliteRecordStore
from sonar.sqlstore.store import PostgresReadStore, ReadStore, SqliteReadStore

log = structlog.get_logger("sonar.bootstrap")

# The tables no rebuild can bring back, each made by its owner; see build_record_store.
RECORD_TABLES = (*users.TABLES, *access_log.TABLES, *checkpoints.TABLES, *outbox.TABLES)


def build_application(settings: Settings, clock: Clock = utc_now, *,
                      create_tables: bool = True) -> SonarApplication:
    """The application on the store the settings name (SQLite file unless a URL is given).

    On a read-only database (a standby, or a store made read-only in an emergency) the
    tables cannot be created, so it starts without creating them: reads, ``sonar audit
    verify`` and status work, and writes are refused with a clear 503 until it is writable.
    ``create_tables=False``: the store is known to be set up (a share worker, started
    beside others by a process that opened it first).
    """
    if not settings.database_url:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    env = settings.event_store_env()
    if not create_tables:
        return SonarApplication(env={**env, "CREATE_TABLE": "n"}, clock=clock)
    try:
        return SonarApplication(env=env, clock=clock)
    except PersistenceError as exc:
        if sqlstate_of(exc) != READ_ONLY_SQLSTATE:
            raise
        log.warning("store_read_only_at_start")
        return SonarApplication(env={**env, "CREATE_TABLE": "n"}, clock=clock)


def build_read_store(settings: Settings) -> ReadStore:
    """Read models beside the log: the same PostgreSQL schema, or their own SQLite file."""
    if settings.database_url:
        return PostgresReadStore(settings.database_url, settings.database_schema,
                                 pool_size=max(2, settings.pool_size // 2))
    return SqliteReadStore(settings.read_models_path)


def build_record_store(settings: Settings) -> RecordStore:
    """Users, the access log, the notification outbox and audit checkpoints, in a store of
    their own (SQLite ``records.db``, or the PostgreSQL schema ``<schema>_records``), with
    their tables made, or taken over from the read models' store where older versions kept
    them. On a read-only database nothing can be made; it opens as it is."""
    if settings.database_url:
        records: RecordStore = PostgresRecordStore(
            settings.database_url, settings.records_schema,
            legacy_schema=settings.database_schema, pool_size=max(2, settings.pool_size // 2))
    else:
        records = SqliteRecordStore(settings.records_path, legacy=settings.read_models_path)
    try:
        with records.migrating():
            adopted = records.adopt(RECORD_TABLES, access_log.FUNCTIONS)
            users.UserDirectory(records).migrate()
            access_log.AccessLog(records).migrate()
            checkpoints.ensure_table(records)
            outbox.migrate(records)
    except Exception as exc:
        if sqlstate_of(exc) != READ_ONLY_SQLSTATE:
            records.close()
            raise
        log.warning("records_read_only_at_start")
        return records
    if adopted.moved:
        log.info("records_taken_from_read_models", tables=list(adopted.moved))
    if adopted.left:  # both stores have them: the read models' copy is not read any more
        log.warning("records_also_in_read_models", tables=list(adopted.left))
    return records


def build_runner(settings: Settings, application: SonarApplication,
                 store: ReadStore | None = None, *, worker: bool = False) -> ProjectionRunner:
    """The projection runner; in ``sonar serve`` with SONAR_PROJECTIONS_EXTERNAL it only
    watches the read models that ``sonar worker`` (``worker=True``) keeps."""
    shares = worker_count(settings) if settings.database_url else 1
    return ProjectionRunner(application, store or build_read_store(settings), all_projections(),
                            external=settings.projections_external and not worker,
                            replica_cache_size=settings.replica_cache_size,
                            share_workers=ProcessShareWorkers(share_worker_settings(settings),
                                                              shares)
                            if shares > 1 else None)


def worker_count(settings: Settings) -> int:
    """Shares a rebuild is split into: the setting, or one per CPU core (at most 8)."""
    wanted = settings.rebuild_workers or (os.cpu_count() or 1)
    return max(1, min(wanted, MAX_WORKERS))


def share_worker_settings(settings: Settings) -> dict[str, Any]:
    """What a share worker needs to open the stores, secrets included: its entry point
    (``sonar.cli.share_worker``) reads these back as ``Settings`` from its stdin."""
    return {
        "database_url": settings.database_url,
        "database_schema": settings.database_schema,
        "pool_size": 2,
        "replica_cache_size": settings.replica_cache_size,
        "cipher_key": settings.cipher_key.get_secret_value() if settings.cipher_key else None,
        "compress": settings.compress,
        "data_dir": str(settings.data_dir),
    }


def build_log_listener(settings: Settings, application: SonarApplication,
                       ) -> LogListener | None:
    """A NOTIFY listener on the event log (PostgreSQL only; SQLite is polled)."""
    channel = getattr(application.recorder, "channel_name", None)
    if not settings.database_url or not isinstance(channel, str):
        return None
    return LogListener(settings.database_url, channel)


def build_dispatcher(settings: Settings, application: SonarApplication, records: RecordStore,
                     read_models: ReadStore) -> Dispatcher:
    """The missed-appointment notification outbox and its configured channels."""
    return Dispatcher(application, records, read_models, notification_channels(settings))


def notification_channels(settings: Settings) -> dict[str, Channel]:
    """The delivery channels configured in settings (a recipient on another one waits)."""
    channels: dict[str, Channel] = {}
    if settings.smtp_host:
        channels["email"] = SmtpChannel(settings.smtp_host, settings.smtp_port)
    if settings.webhook_secret is not None:
        channels["webhook"] = WebhookChannel(settings.webhook_secret.get_secret_value().encode())
    if settings.notify_base_url and settings.notify_api_key and settings.notify_sms_template:
        channels["sms"] = SmsChannel(settings.notify_base_url,
                                     settings.notify_api_key.get_secret_value(),
                                     settings.notify_sms_template)
    return channels
