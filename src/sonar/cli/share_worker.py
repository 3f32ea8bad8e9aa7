"""A share worker's process: ``python -m sonar.cli.share_worker``, started by
``sonar.readmodels.share_workers.ProcessShareWorkers``; the protocol is described there."""

from __future__ import annotations

import json
import resource
import sys

import structlog

from sonar.bootstrap import build_application, build_read_store
from sonar.cli.runtime import tune_gc
from sonar.config import Settings
from sonar.observability import configure_logging
from sonar.readmodels.registry import all_projections
from sonar.readmodels.runner import ProjectionRunner
from sonar.readmodels.share_workers import job_of, rss_mb

log = structlog.get_logger("sonar.share_workers")


def main() -> None:
    """A share worker: job on stdin, progress on stdout (see the module docstring)."""
    request = json.loads(sys.stdin.read())
    settings = Settings(**request["settings"])
    configure_logging(settings.log_level, settings.log_format)
    job = job_of(request["job"])
    app = build_application(settings, create_tables=False)  # the coordinator made them
    store = build_read_store(settings)
    try:
        runner = ProjectionRunner(app, store, all_projections(), batch_size=job.batch_size,
                                  replica_cache_size=settings.replica_cache_size)
        tune_gc()

        def report(position: int) -> None:
            print(f"at {position} {rss_mb():.1f}", flush=True)

        reached = runner.replay_share(job, report)
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"done {reached} {peak:.1f}", flush=True)
    except Exception as exc:  # the coordinator sees the exit status; the log says what
        log.error("share_failed", share=job.share.index, shares=job.share.count,
                  error_type=type(exc).__name__)
        sys.exit(1)
    finally:
        store.close()
        app.close()


if __name__ == "__main__":
    main()
