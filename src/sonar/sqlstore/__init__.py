"""The SQL adapter (SQLite or PostgreSQL) used by read models, the audit log, users and the
notification outbox."""
