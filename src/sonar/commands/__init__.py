"""Commands: one declared type per clinical step, and the one pipeline that runs them
(attribution, access decision, idempotency, concurrency retry, save)."""
