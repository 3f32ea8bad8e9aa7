"""Profile SONAR's hot paths with pyinstrument (install it into the venv; not a dependency).

    .venv/bin/pip install pyinstrument
    python -m bench.profile_hot [--commands 400] [--events 6000] [--out bench-profiles]

Profiles, one thread each, against real PostgreSQL in scratch schemas: command ingest
through the application layer, a rebuild of every read model, and loading a
1,000-event record from its snapshot. Writes a text and an HTML report per path.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path
from uuid import UUID

from bench.common import (
    build_records_in_bulk,
    context,
    database_url,
    open_patient,
    scratch_schema,
    settings_for,
    sonar_app,
    sonar_command,
)
from sonar.bootstrap import build_read_store, build_runner


def _profile(name: str, fn: Callable[[], object], out: Path) -> None:
    from pyinstrument import Profiler  # noqa: PLC0415 - optional, installed by hand

    profiler = Profiler(interval=0.0005)
    profiler.start()
    fn()
    profiler.stop()
    (out / f"{name}.txt").write_text(profiler.output_text(unicode=True, show_all=False))
    (out / f"{name}.html").write_text(profiler.output_html())
    print(f"--- {name} ---")
    print(profiler.output_text(unicode=True, show_all=False)[:6000])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--commands", type=int, default=400)
    parser.add_argument("--events", type=int, default=6000)
    parser.add_argument("--out", type=Path, default=Path("bench-profiles"))
    parser.add_argument("--only", default="ingest,catchup,replay")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    only = set(args.only.split(","))
    url = database_url()
    if "ingest" in only:
        with scratch_schema(url, "prof_ingest") as schema:
            app = sonar_app(url, schema, pool_size=4)
            ctx = context(1)
            pids = [open_patient(app, ctx, k) for k in range(5)]
            _profile("ingest", lambda: [sonar_command(app, ctx, pids[i % 5], i)
                                        for i in range(args.commands)], args.out)
            app.close()
    if "catchup" in only:
        with scratch_schema(url, "prof_catchup") as schema:
            app = sonar_app(url, schema, pool_size=4)
            build_records_in_bulk(app, max(1, args.events // 30), 30, wave=200, per_save=5)
            settings = settings_for(url, schema, pool_size=4)
            store = build_read_store(settings)
            runner = build_runner(settings, app, store)
            runner.migrate()
            _profile("catchup", lambda: runner.rebuild_many(
                [p.name for p in runner.projections]), args.out)
            store.close()
            app.close()
    if "replay" in only:
        with scratch_schema(url, "prof_replay") as schema:
            app = sonar_app(url, schema, pool_size=4)
            build_records_in_bulk(app, 1, 1000, wave=1, per_save=10)
            pid = UUID(str(app.recorder.select_notifications(start=1, limit=1)[0].originator_id))
            _profile("replay", lambda: [app.get_record(pid) for _ in range(50)], args.out)
            app.close()


if __name__ == "__main__":
    main()
