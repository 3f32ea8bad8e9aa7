"""SONAR's benchmark harness: every scenario, SONAR beside its peers, all in one run.

    python -m bench [--quick] [--scale 1.0] [--json PATH] [--only ingest,http,...]

Runs against real PostgreSQL (SONAR_TEST_DATABASE_URL, else scripts/pg-up), each system in
its own scratch schema, dropped at the end. Loopback only; every loop is bounded.
``--quick`` uses small sizes (well under 2 minutes) for CI: it checks that every
scenario runs, and judges no speed. Targets from issue 9 are printed as ratios.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench import catchup, http_ingest, ingest, lag, queries, relay, replay
from bench.common import Result, Sizes, database_url, fmt, peak_rss_mb
from bench.targets import Target, evaluate
from sonar.cli.runtime import tune_gc

SCENARIOS: dict[str, Callable[[str, Sizes, Callable[[str], None]], list[Result]]] = {
    "ingest": ingest.run,
    "http": http_ingest.run,
    "catchup": catchup.run,
    "lag": lag.run,
    "replay": replay.run,
    "queries": queries.run,
    "relay": relay.run,
}


def machine() -> dict[str, Any]:
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        mem_kb = next(int(line.split()[1]) for line in
                      Path("/proc/meminfo").read_text().splitlines()
                      if line.startswith("MemTotal"))
    except (OSError, StopIteration):
        mem_kb = 0
    import os  # noqa: PLC0415 - only here

    return {"cpus": os.cpu_count(), "cpu_model": cpu, "memory_gb": round(mem_kb / 2**20, 1),
            "python": platform.python_version(), "platform": platform.platform()}


def print_table(results: list[Result], targets: list[Target]) -> None:
    header = (f"{'scenario':16} {'system':34} {'rate':>12} {'unit':8} {'p50 ms':>9} "
              f"{'p99 ms':>9} {'n':>8}  note")
    print(header)
    print("-" * len(header))
    for r in results:
        rate = fmt(r.rate, 0) if r.rate is None or r.rate >= 100 else fmt(r.rate, 1)
        extra = ", ".join(f"{k}={v}" for k, v in r.extra.items()
                          if k not in {"writers", "first_error"} and v not in (None, "", 0))
        note = "; ".join(x for x in (r.note, extra) if x)
        print(f"{r.scenario:16} {r.system:34} {rate:>12} {r.unit:8} {fmt(r.p50_ms, 2):>9} "
              f"{fmt(r.p99_ms, 2):>9} {r.count:>8}  {note}")
    if targets:
        print()
        print(f"{'target (issue 9)':58} {'measured':>12} {'needed':>10}  verdict")
        for t in targets:
            verdict = "n/a" if t.passed is None else ("PASS" if t.passed else "FAIL")
            print(f"{t.name:58} {fmt(t.measured, 2):>12} {t.needed:>10}  {verdict}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true",
                        help="small sizes, < 2 minutes, a smoke test (speed not judged)")
    parser.add_argument("--scale", type=float, default=1.0,
                        help="multiply every size and duration by this")
    parser.add_argument("--json", type=Path, help="also write every figure here as JSON")
    parser.add_argument("--default-gc", action="store_true",
                        help="keep CPython's collector settings (no sonar.cli.runtime.tune_gc)")
    parser.add_argument("--only", default="",
                        help=f"comma-separated subset of: {', '.join(SCENARIOS)}")
    args = parser.parse_args(argv)
    chosen = [s.strip() for s in args.only.split(",") if s.strip()] or list(SCENARIOS)
    unknown = [s for s in chosen if s not in SCENARIOS]
    if unknown:
        parser.error(f"unknown scenario(s): {', '.join(unknown)}")
    if not 0.01 <= args.scale <= 20:
        parser.error("--scale must be between 0.01 and 20")

    sizes = Sizes.make(quick=args.quick, scale=args.scale)
    url = database_url()
    if not args.default_gc:
        tune_gc()  # as `sonar serve` and `sonar worker` do; the peers share this process
    started = time.perf_counter()

    def log(message: str) -> None:
        print(f"[{time.perf_counter() - started:6.1f}s] {message}", file=sys.stderr, flush=True)

    results: list[Result] = []
    failures: dict[str, str] = {}
    for name in chosen:
        try:
            results += SCENARIOS[name](url, sizes, log)
        except Exception as exc:  # one broken scenario must not hide the others' figures
            failures[name] = f"{type(exc).__name__}: {exc}"[:500]
            log(f"{name} FAILED: {failures[name]}")
            results.append(Result(name, "-", None, note=f"FAILED: {failures[name]}"))
    targets = evaluate(results)
    elapsed = time.perf_counter() - started
    print()
    print_table(results, [] if args.quick else targets)
    print(f"\n{'quick' if args.quick else 'full'} run, scale {args.scale:g}, "
          f"{elapsed:.0f} s, harness peak RSS {peak_rss_mb():.0f} MB")
    if args.quick:
        print("(--quick: a smoke test; sizes are too small for the targets to mean anything)")
    if args.json:
        args.json.write_text(json.dumps({
            "date": datetime.now(UTC).isoformat(timespec="seconds"),
            "mode": "quick" if args.quick else "full", "scale": args.scale,
            "sizes": sizes.__dict__, "machine": machine(), "seconds": round(elapsed, 1),
            "results": [r.as_dict() for r in results],
            "targets": [t.__dict__ for t in targets], "failures": failures,
        }, indent=2, default=str))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
