"""Scenario 1: command ingest at 1, 4 and 16 concurrent writers, SONAR beside its peers.

Each writer is a thread with its own patients (no contention on one record), issuing a
fixed mix of clinical commands back to back for a bounded time. Every system gets a fresh
PostgreSQL schema, dropped afterwards.
"""

from __future__ import annotations

from collections.abc import Callable
from uuid import UUID

from bench.common import (
    LoadOutcome,
    Op,
    Result,
    Sizes,
    context,
    mean_stored_state_bytes,
    open_patient,
    p50,
    percentile,
    run_closed_loop,
    scratch_schema,
    sonar_app,
    sonar_command,
)
from bench.peers import (
    CrudWriter,
    RawWriter,
    crud_setup,
    naive_app,
    naive_command,
    naive_open_patient,
    raw_body,
    raw_setup,
)
from sonar.commands.context import CommandContext

SCENARIO = "ingest"


def _result(system: str, writers: int, out: LoadOutcome, unit: str = "cmd/s",
            note: str = "") -> Result:
    return Result(f"{SCENARIO} x{writers}", system, out.rate, unit, p50(out.latencies_ms),
                  percentile(out.latencies_ms, 0.99), out.count,
                  {"writers": writers, "errors": out.errors, "seconds": round(out.seconds, 2),
                   "first_error": out.first_error}, note)


def _sonar(url: str, sizes: Sizes, writers: int) -> tuple[Result, int]:
    with scratch_schema(url, "ingest_sonar") as schema:
        app = sonar_app(url, schema, pool_size=max(4, writers + 2))
        ops: list[Op] = []
        for w in range(writers):
            ctx = context(w)
            pids = [open_patient(app, ctx, w * 1000 + k)
                    for k in range(sizes.ingest_patients_per_writer)]

            def op(i: int, ctx_: CommandContext = ctx, pids_: list[UUID] = pids) -> None:
                sonar_command(app, ctx_, pids_[i % len(pids_)], i)
            ops.append(op)
        out = run_closed_loop(ops, sizes.ingest_seconds)
        body = mean_stored_state_bytes(url, schema)
        app.close()
    return _result("SONAR (application layer)", writers, out), body


def _naive(url: str, sizes: Sizes, writers: int) -> Result:
    with scratch_schema(url, "ingest_naive") as schema:
        app = naive_app(url, schema, pool_size=max(4, writers + 2))
        ops: list[Op] = []
        for w in range(writers):
            pids = [naive_open_patient(app, w * 1000 + k)
                    for k in range(sizes.ingest_patients_per_writer)]

            def op(i: int, pids_: list[UUID] = pids) -> None:
                naive_command(app, pids_[i % len(pids_)], i)
            ops.append(op)
        out = run_closed_loop(ops, sizes.ingest_seconds)
        app.close()
    return _result("naive eventsourcing app", writers, out)


def _crud(url: str, sizes: Sizes, writers: int) -> Result:
    with scratch_schema(url, "ingest_crud") as schema:
        crud_setup(url, schema)
        conns = [CrudWriter(url, schema) for _ in range(writers)]
        ops: list[Op] = []
        for w, conn in enumerate(conns):
            pids = [conn.open_patient(w * 1000 + k)
                    for k in range(sizes.ingest_patients_per_writer)]

            def op(i: int, c: CrudWriter = conn, pids_: list[UUID] = pids) -> None:
                c.command(pids_[i % len(pids_)], i)
            ops.append(op)
        out = run_closed_loop(ops, sizes.ingest_seconds)
        for conn in conns:
            conn.close()
    return _result("CRUD + audit trigger", writers, out)


def _raw(url: str, sizes: Sizes, writers: int, body_size: int, *, batched: bool) -> Result:
    with scratch_schema(url, "ingest_raw") as schema:
        raw_setup(url, schema)
        conns = [RawWriter(url, schema, raw_body(body_size)) for _ in range(writers)]
        ops: list[Op] = [_batch_op(c) if batched else c.insert_one for c in conns]
        out = run_closed_loop(ops, sizes.ingest_seconds)
        for conn in conns:
            conn.close()
    if batched:  # each op wrote 1000 rows; latency is per 1000-row transaction
        rows = LoadOutcome(out.count * 1000, out.errors, out.seconds, out.latencies_ms,
                           out.first_error)
        return _result("raw INSERT batched (1000/tx)", writers, rows, "rows/s",
                       "latency is per 1000-row commit")
    return _result("raw INSERT, 1 tx per event", writers, out, "rows/s")


def _batch_op(writer: RawWriter) -> Op:
    def op(_: int) -> None:
        writer.insert_batch(1000)
    return op


def run(url: str, sizes: Sizes, log: Callable[[str], None]) -> list[Result]:
    results: list[Result] = []
    for writers in sizes.writers:
        log(f"ingest x{writers}: SONAR")
        sonar, body = _sonar(url, sizes, writers)
        results.append(sonar)
        log(f"ingest x{writers}: naive eventsourcing")
        results.append(_naive(url, sizes, writers))
        log(f"ingest x{writers}: CRUD + audit")
        results.append(_crud(url, sizes, writers))
        log(f"ingest x{writers}: raw INSERT (row size {body} B)")
        results.append(_raw(url, sizes, writers, body, batched=False))
        results.append(_raw(url, sizes, writers, body, batched=True))
    return results
