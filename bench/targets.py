"""Issue 9's targets, as ratios or bounds over figures from the same run."""

from __future__ import annotations

from dataclasses import dataclass

from bench.common import Result


@dataclass(frozen=True)
class Target:
    name: str
    measured: float | None
    needed: str
    passed: bool | None  # None: not measured in this run


def _find(results: list[Result], scenario: str, system_prefix: str) -> Result | None:
    return next((r for r in results if r.scenario == scenario
                 and r.system.startswith(system_prefix)), None)


def _ratio(a: Result | None, b: Result | None) -> float | None:
    if a is None or b is None or not a.rate or not b.rate:
        return None
    return a.rate / b.rate


def _at_least(name: str, value: float | None, bound: float) -> Target:
    return Target(name, value, f">= {bound:g}", None if value is None else value >= bound)


def _below(name: str, value: float | None, bound: float) -> Target:
    return Target(name, value, f"< {bound:g}", None if value is None else value < bound)


def evaluate(results: list[Result]) -> list[Target]:
    top = max((int(r.scenario.split("x")[1]) for r in results
               if r.scenario.startswith("ingest x")), default=16)
    scen = f"ingest x{top}"
    sonar = _find(results, scen, "SONAR")
    lag = _find(results, "lag @500/s", "SONAR")
    replay = _find(results, "replay 1000", "SONAR")
    caseload = _find(results, "query caseload", "SONAR")
    catch = _find(results, "catch-up", "SONAR")
    raw = _find(results, "catch-up", "raw INSERT batched")
    growth = catch.extra.get("rss_growth_2nd_half_pct") if catch else None
    return [
        _at_least(f"ingest x{top}: SONAR / naive eventsourcing",
                  _ratio(sonar, _find(results, scen, "naive")), 5),
        _at_least(f"ingest x{top}: SONAR / CRUD + audit",
                  _ratio(sonar, _find(results, scen, "CRUD")), 1),
        _at_least("catch-up: SONAR / raw batched INSERT", _ratio(catch, raw), 0.5),
        _below("lag p99 ms at 500 cmd/s offered", lag.p99_ms if lag else None, 100),
        _below("1,000-event replay p99 ms", replay.p99_ms if replay else None, 20),
        _below("caseload query p99 ms", caseload.p99_ms if caseload else None, 20),
        _below("catch-up RSS growth over 2nd half of log, %",
               float(growth) if growth is not None else None, 10),
    ]
