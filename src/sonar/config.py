"""One validated Settings object, read from SONAR_* environment variables."""

from __future__ import annotations

import base64
import binascii
from pathlib import Path
from typing import Literal
from urllib.parse import unquote, urlsplit

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

MIN_SECRET_LENGTH = 32
DEFAULT_SECRETS = frozenset({"changeme", "change-me", "secret", "sonar", "development",
                             "changeme" * 4, "secret" * 6})


class Settings(BaseSettings):
    """SONAR's configuration; every field is documented in the README's table."""

    model_config = SettingsConfigDict(env_prefix="SONAR_", extra="ignore")

    data_dir: Path = Field(Path(".sonar"), description="Where the embedded SQLite stores live.")
    database_url: str | None = Field(
        None, description="postgresql://user:password@host:port/db selects PostgreSQL.")
    database_schema: str | None = Field(
        None, max_length=55, description="PostgreSQL schema for SONAR tables (the records' "
        "schema, `<schema>_records`, must fit PostgreSQL's 63 characters too).")
    pool_size: int = Field(10, ge=1, le=200, description="PostgreSQL connection pool size.")
    projections_external: bool = Field(
        False, description="Leave the read models to `sonar worker --source log` (its own "
        "process, woken by the log's NOTIFY); `sonar serve` then only reads them.")
    record_cache_size: int = Field(
        1000, ge=0, le=100_000,
        description="Care records kept in memory between commands (reads first apply any "
        "newer events from the log; a command on a stale copy clashes when saved and is "
        "run again). 0 turns it off.")
    replica_cache_size: int = Field(
        5000, ge=1, le=1_000_000,
        description="Care records the projection runner keeps folded in memory (LRU) while "
        "it applies the log; its memory is bounded by this, not by the log's length. A "
        "miss loads the record from its latest snapshot.")
    rebuild_workers: int = Field(
        0, ge=0, le=8,
        description="Processes a rebuild of the read models on PostgreSQL is split between, "
        "each replaying its share of the patients; 0: one per CPU core (at most 8), 1: the "
        "rebuilding process alone.")
    cipher_key: SecretStr | None = Field(
        None, description="Base64 AES key (16, 24 or 32 bytes) turns on encryption at rest.")
    compress: bool = Field(False, description="zlib-compress stored event payloads.")
    host: str = "127.0.0.1"
    port: int = Field(8000, ge=1, le=65535)
    environment: Literal["development", "production"] = "development"
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    log_format: Literal["json", "console"] = "json"
    max_body_bytes: int = Field(1_000_000, ge=1024, description="Largest accepted request body.")
    kafka_bootstrap: str | None = Field(
        None, description="host:port of Kafka turns on the relay and Kafka workers; unset, "
                          "SONAR runs embedded without Kafka.")
    # --- access control (issue 4) ---
    auth_secret: SecretStr | None = Field(
        None, description="HS256 key signing SONAR's own bearer tokens (32+ characters).")
    auth_token_minutes: int = Field(15, ge=1, le=720, description="Bearer token lifetime.")
    oidc_jwks_url: str | None = Field(None, description="JWKS URL of an external OIDC issuer.")
    oidc_issuer: str | None = Field(None, description="Expected `iss` of OIDC tokens.")
    oidc_audience: str | None = Field(None, description="Expected `aud` of OIDC tokens.")
    smtp_host: str | None = Field(None, description="SMTP server for alert emails.")
    smtp_port: int = Field(25, ge=1, le=65535)
    webhook_secret: SecretStr | None = Field(
        None, description="HMAC key signing alert webhooks (X-Sonar-Signature).")
    notify_base_url: str | None = Field(
        None, description="GOV.UK Notify-style SMS API base URL.")
    notify_api_key: SecretStr | None = None
    notify_sms_template: str | None = None
    checkpoint_minutes: int = Field(
        60, ge=0, le=10_080, description="How often `sonar serve` records a Merkle checkpoint "
        "of the log's head (0: never).")
    relationship_days: int = Field(
        90, ge=0, le=3650, description="How long after leaving a site its staff may still read.")
    break_glass_hours: int = Field(4, ge=1, le=24, description="How long break-glass lasts.")

    @field_validator("database_url")
    @classmethod
    def _postgres_only(cls, value: str | None) -> str | None:
        if value is not None and urlsplit(value).scheme not in ("postgresql", "postgres"):
            msg = "SONAR_DATABASE_URL must be a postgresql:// URL"
            raise ValueError(msg)
        return value

    @field_validator("cipher_key")
    @classmethod
    def _aes_key(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None:
            try:
                size = len(base64.b64decode(value.get_secret_value(), validate=True))
            except binascii.Error:
                size = -1
            if size not in (16, 24, 32):
                msg = "SONAR_CIPHER_KEY must be base64 of a 16, 24 or 32 byte AES key"
                raise ValueError(msg)
        return value

    @model_validator(mode="after")
    def _safe_auth(self) -> Settings:
        """Production never runs on a missing, default or guessable signing secret."""
        secret = self.auth_secret.get_secret_value() if self.auth_secret else ""
        if self.environment == "production" and (
                len(secret) < MIN_SECRET_LENGTH or secret.lower() in DEFAULT_SECRETS):
            msg = (f"SONAR_AUTH_SECRET must be set to a random value of at least "
                   f"{MIN_SECRET_LENGTH} characters in production")
            raise ValueError(msg)
        oidc = (self.oidc_jwks_url, self.oidc_issuer, self.oidc_audience)
        if any(oidc) and not all(oidc):
            msg = "SONAR_OIDC_JWKS_URL, SONAR_OIDC_ISSUER and SONAR_OIDC_AUDIENCE go together"
            raise ValueError(msg)
        return self

    @property
    def sqlite_path(self) -> Path:
        return self.data_dir / "sonar.db"

    @property
    def read_models_path(self) -> Path:
        return self.data_dir / "read_models.db"

    @property
    def records_path(self) -> Path:
        """SQLite file of users, the access log, the outbox and checkpoints."""
        return self.data_dir / "records.db"

    @property
    def records_schema(self) -> str:
        """PostgreSQL schema of users, the access log, the outbox and checkpoints (named the
        same way in scripts/backup and scripts/restore)."""
        return f"{self.database_schema or 'sonar'}_records"

    def event_store_env(self) -> dict[str, str]:
        """The eventsourcing library's environment for the chosen store."""
        env: dict[str, str] = {}
        if self.database_url:
            url = urlsplit(self.database_url)
            env |= {
                "PERSISTENCE_MODULE": "sonar.eventstore.pg_recorder:SonarPostgresFactory",
                "POSTGRES_DBNAME": url.path.lstrip("/") or "sonar",
                "POSTGRES_HOST": url.hostname or "127.0.0.1",
                "POSTGRES_PORT": str(url.port or 5432),
                "POSTGRES_USER": unquote(url.username or "sonar"),
                "POSTGRES_PASSWORD": unquote(url.password or ""),
                "POSTGRES_POOL_SIZE": str(self.pool_size),
                "POSTGRES_PRE_PING": "n",  # the recorder retries a dead connection itself
                "POSTGRES_CONNECT_TIMEOUT": "5",  # x10 retries: a 503 within a minute
                "POSTGRES_LOCK_TIMEOUT": "5",
            }
            if self.database_schema:
                env["POSTGRES_SCHEMA"] = self.database_schema
        else:
            env |= {
                "PERSISTENCE_MODULE": "eventsourcing.sqlite",
                "SQLITE_DBNAME": str(self.sqlite_path),
                "SQLITE_LOCK_TIMEOUT": "10",
            }
        env["SONAR_RECORD_CACHE_SIZE"] = str(self.record_cache_size)
        if self.cipher_key is not None:
            env |= {"CIPHER_TOPIC": "eventsourcing.cipher:AESCipher",
                    "CIPHER_KEY": self.cipher_key.get_secret_value()}
        if self.compress:
            env["COMPRESSOR_TOPIC"] = "eventsourcing.compressor:ZlibCompressor"
        return env
