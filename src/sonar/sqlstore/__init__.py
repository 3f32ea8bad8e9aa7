"""The SQL adapter (SQLite or PostgreSQL): the read models' store (``store``), and the
records' store of users, the access log, the notification outbox and audit checkpoints,
kept apart from it (``records``)."""
