"""Scenario 4: projection lag under steady load, from acknowledgement to visible.

Writers issue commands on an open-loop schedule (a fixed rate, spread over a few threads,
for a bounded time); the in-process runner (``runner.start()``) keeps every read model up
to date; an observer thread takes each acknowledged position and calls
``runner.wait_for(position)``, recording the time from acknowledgement to the moment every
read model includes it. If SONAR cannot accept the offered rate, the achieved rate says so.

Each rate is measured twice: with the runner in the writers' process (``sonar serve``'s
default) and with the read models kept by ``sonar worker --source log`` in its own process
(SONAR_PROJECTIONS_EXTERNAL; woken by the log's NOTIFY), the writers' process only watching
the read models' positions.
"""

from __future__ import annotations

import os
import queue
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

from bench.common import (
    Result,
    Sizes,
    context,
    open_patient,
    p50,
    percentile,
    scratch_schema,
    settings_for,
    sonar_app,
    sonar_command,
)
from sonar.bootstrap import build_read_store, build_runner

WRITERS = 8
PATIENTS_PER_WRITER = 3


def _worker(url: str, schema: str) -> subprocess.Popen[bytes]:
    env = {**os.environ, "SONAR_DATABASE_URL": url, "SONAR_DATABASE_SCHEMA": schema,
           "SONAR_LOG_FORMAT": "json"}
    return subprocess.Popen([str(Path(sys.executable).with_name("sonar")), "worker",
                             "--source", "log", "--interval", "1"], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _measure(url: str, rate: int, seconds: float, log: Callable[[str], None],
             external: bool) -> Result:
    with scratch_schema(url, "lag") as schema:
        settings = settings_for(url, schema, pool_size=WRITERS + 4).model_copy(
            update={"projections_external": external})
        app = sonar_app(url, schema, pool_size=WRITERS + 4)
        store = build_read_store(settings)
        runner = build_runner(settings, app, store)
        runner.migrate()
        patients = [[open_patient(app, context(w), w * 100 + k)
                     for k in range(PATIENTS_PER_WRITER)] for w in range(WRITERS)]
        worker = _worker(url, schema) if external else None
        if worker is None:
            runner.catch_up()
            runner.start()
        elif not runner.wait_for(app.position(), timeout=60):
            worker.kill()
            raise RuntimeError("sonar worker did not catch up within 60 s")
        acks: queue.Queue[tuple[int, float] | None] = queue.Queue()
        lags: list[float] = []
        errors: list[str] = []
        total = int(rate * seconds)
        begin = time.perf_counter() + 0.2

        def writer(w: int) -> None:
            ctx = context(w)
            for i in range(w, total, WRITERS):  # command i is due at begin + i / rate
                due = begin + i / rate
                delay = due - time.perf_counter()
                if delay > 0:
                    time.sleep(delay)
                elif delay < -5:  # hopelessly behind: stop offering, the rate says so
                    break
                try:
                    position = sonar_command(app, ctx, patients[w][i % PATIENTS_PER_WRITER], i)
                except Exception as exc:
                    errors.append(f"{type(exc).__name__}: {exc}"[:200])
                    continue
                acks.put((position, time.perf_counter()))

        def observer() -> None:
            while True:
                item = acks.get()
                if item is None:
                    return
                position, acked = item
                if runner.wait_for(position, timeout=10.0):
                    lags.append((time.perf_counter() - acked) * 1000)
                else:
                    errors.append(f"position {position} not visible within 10 s")

        watcher = threading.Thread(target=observer, daemon=True)
        watcher.start()
        threads = [threading.Thread(target=writer, args=(w,), daemon=True)
                   for w in range(WRITERS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=seconds + 60)
        elapsed = time.perf_counter() - begin
        acks.put(None)
        watcher.join(timeout=30)
        runner.stop()
        if worker is not None:
            worker.terminate()
            worker.wait(timeout=30)
        store.close()
        app.close()
    achieved = len(lags) / elapsed if elapsed > 0 else 0.0
    log(f"lag @{rate}/s: achieved {achieved:.0f}/s, {len(errors)} errors")
    system = ("SONAR (sonar worker process)" if external
              else "SONAR (runner.start + wait_for)")
    return Result(f"lag @{rate}/s", system, achieved, "cmd/s",
                  p50(lags), percentile(lags, 0.99), len(lags),
                  {"offered_per_s": rate, "errors": len(errors),
                   "first_error": errors[0] if errors else ""},
                  note=f"offered {rate}/s by {WRITERS} writers; rate = achieved")


def run(url: str, sizes: Sizes, log: Callable[[str], None]) -> list[Result]:
    results = []
    for rate in sizes.lag_rates:
        log(f"lag: {rate} commands/s for {sizes.lag_seconds:g} s")
        for external in (False, True):
            results.append(_measure(url, rate, sizes.lag_seconds, log, external))
    return results
