"""Local users: argon2-hashed passwords in the records' ``auth_user`` table.

Users live in the records' store (not in the event log) because they are configuration, not
clinical history; every clinical action still names its actor in its own event. Not with the
read models either: those are rebuilt and read by analysts, and neither may touch a
password hash.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from sonar.domain.attribution import Actor
from sonar.sqlstore.records import RecordStore
from sonar.sqlstore.store import Row, as_bool, as_iso, ddl

TABLES = ("auth_user",)
USER_DDL = (
    "CREATE TABLE IF NOT EXISTS auth_user (username TEXT PRIMARY KEY, "
    "password_hash TEXT NOT NULL, role TEXT NOT NULL, organisation TEXT NOT NULL, "
    "site TEXT NOT NULL, actor_id TEXT NOT NULL, patient_id TEXT NULL, "
    "active {bool} NOT NULL, created_at {ts} NOT NULL)")
MIN_PASSWORD_LENGTH = 12
_hasher = PasswordHasher()


@cache
def _dummy_hash() -> str:
    """Verified when the username is unknown, so a missing user costs as long as a wrong
    password. Made on the first sign-in (known user or not, so that first one tells nothing
    either), not at import: it costs an argon2 hash (64 MiB), and every SONAR process,
    share workers included, imports this module."""
    return _hasher.hash("sonar-timing-equaliser")


class UserRefused(ValueError):
    """A user cannot be added as asked (duplicate, weak password, bad role)."""


@dataclass(frozen=True)
class User:
    """A person who can sign in, and the actor their actions are attributed to."""

    username: str
    role: str
    organisation: str
    site: str
    actor_id: str
    patient_id: str | None
    active: bool
    created_at: str | None = None

    @property
    def actor(self) -> Actor:
        return Actor(self.actor_id, self.role, self.organisation, self.site)


def _user(row: Row) -> User:
    return User(row["username"], row["role"], row["organisation"], row["site"],
                row["actor_id"], row["patient_id"], bool(as_bool(row["active"])),
                as_iso(row["created_at"]))


class UserDirectory:
    """Adds, lists and authenticates local users."""

    def __init__(self, store: RecordStore) -> None:
        self.store = store

    def migrate(self) -> None:
        with self.store.transaction() as tx:
            tx.execute(ddl(USER_DDL, self.store.dialect))

    def add(self, username: str, password: str, *, role: str, organisation: str, site: str,
            actor_id: str | None = None, patient_id: str | None = None) -> User:
        """Add an active user; the actor checks role, organisation and site like any event."""
        if not username or len(username) > 100 or not username.isprintable():
            raise UserRefused("username must have 1 to 100 printable characters")
        if len(password) < MIN_PASSWORD_LENGTH:
            raise UserRefused(f"password must have at least {MIN_PASSWORD_LENGTH} characters")
        if role == "patient" and not patient_id:
            raise UserRefused("a patient user must name their patient id")
        user = User(username, role, organisation, site, actor_id or username, patient_id,
                    active=True)
        user.actor  # noqa: B018 - validates role and lengths (raises InvalidValue)
        if self.get(username) is not None:
            raise UserRefused(f"user {username} already exists")
        with self.store.transaction() as tx:
            tx.execute("INSERT INTO auth_user (username, password_hash, role, organisation, "
                       "site, actor_id, patient_id, active, created_at) "
                       "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                       [username, _hasher.hash(password), role, organisation, site,
                        user.actor_id, patient_id, True, datetime.now(UTC)])
        return user

    def get(self, username: str) -> User | None:
        rows = self.store.fetchall("SELECT * FROM auth_user WHERE username = ?", [username])
        return _user(rows[0]) if rows else None

    def list(self) -> list[User]:
        return [_user(r) for r in self.store.fetchall(
            "SELECT * FROM auth_user ORDER BY username")]

    def authenticate(self, username: str, password: str) -> User | None:
        """The active user with this password, else None (same cost either way)."""
        dummy = _dummy_hash()
        rows = self.store.fetchall("SELECT * FROM auth_user WHERE username = ?", [username])
        stored = rows[0]["password_hash"] if rows else dummy
        try:
            _hasher.verify(stored, password)
        except (VerificationError, InvalidHashError):
            return None
        if not rows:
            return None
        user = _user(rows[0])
        return user if user.active else None
