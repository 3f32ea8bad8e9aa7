"""Share workers: the processes a large rebuild of the read models is split between.

``ProcessShareWorkers`` starts one ``python -m sonar.cli.share_worker`` per share. Each reads
its settings and job from stdin (so the database password and cipher key never appear in
a process listing), replays its share of the log (``ProjectionRunner.replay_share``) and
writes one line per batch to stdout: ``at POSITION RSS_MB``, then ``done POSITION
PEAK_RSS_MB``.
Its log lines go to stderr as any SONAR process's do. A worker that exits without
``done`` fails the rebuild, and the others are stopped.
"""

from __future__ import annotations

import json
import os
import selectors
import subprocess
import sys
from collections.abc import Callable, Mapping, Sequence
from typing import IO, Any

import structlog

from sonar.eventstore.pg_recorder import Share
from sonar.readmodels.shares import ShareFailed, ShareJob

log = structlog.get_logger("sonar.readmodels.share_workers")
MAX_WORKERS = 8


class ProcessShareWorkers:
    """Runs each share job in a process of its own and follows their progress.

    ``settings`` is what a worker needs to open the stores, secrets included, as the
    worker's entry point reads it back; it is only ever written to the workers' stdin."""

    def __init__(self, settings: Mapping[str, Any], count: int) -> None:
        self.settings, self.count = dict(settings), count
        self.rss_mb: list[float] = []  # each worker's latest RSS, during and after a run
        self.peak_rss_mb: list[float] = []  # each worker's peak, after a run

    def run(self, jobs: Sequence[ShareJob], progress: Callable[[int], None] | None) -> None:
        procs = [subprocess.Popen([sys.executable, "-m", "sonar.cli.share_worker"],
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE)
                 for _ in jobs]
        try:
            for proc, job in zip(procs, jobs, strict=True):
                request = {"settings": self.settings, "job": _job_json(job)}
                stdin = _pipe(proc.stdin)
                stdin.write(json.dumps(request).encode())
                stdin.close()
            self.peak_rss_mb = self._follow(procs, jobs, progress)
        except BaseException:
            for proc in procs:
                proc.kill()
            raise
        finally:
            for proc in procs:
                proc.wait()

    def _follow(self, procs: list[subprocess.Popen[bytes]], jobs: Sequence[ShareJob],
                progress: Callable[[int], None] | None) -> list[float]:
        reached = [0] * len(procs)
        peaks: list[float | None] = [None] * len(procs)
        self.rss_mb = [0.0] * len(procs)
        with selectors.DefaultSelector() as selector:
            for i, proc in enumerate(procs):
                selector.register(_pipe(proc.stdout), selectors.EVENT_READ, i)
            while selector.get_map():
                for key, _ in selector.select(timeout=5.0):
                    i = key.data
                    stream: IO[bytes] = key.fileobj  # type: ignore[assignment]
                    raw = stream.readline()
                    line = raw.decode().split()
                    if not raw:  # the worker closed its output: it has ended
                        selector.unregister(stream)
                        if peaks[i] is None:
                            code = procs[i].wait()
                            raise ShareFailed(f"share {jobs[i].share.index} of "
                                              f"{jobs[i].share.count} failed (exit {code})")
                    elif not line:  # a blank line is not the end of the output
                        continue
                    elif line[0] == "at":
                        reached[i], self.rss_mb[i] = int(line[1]), float(line[2])
                        if progress:
                            progress(min(reached))
                    elif line[0] == "done":
                        reached[i], peaks[i] = int(line[1]), float(line[2])
        return [p or 0.0 for p in peaks]


def rss_mb() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def _pipe(stream: IO[bytes] | None) -> IO[bytes]:
    if stream is None:  # only if Popen were called without PIPE
        msg = "share worker started without a pipe"
        raise ShareFailed(msg)
    return stream


def _job_json(job: ShareJob) -> dict[str, Any]:
    return {"index": job.share.index, "count": job.share.count, "head": job.head,
            "models": [list(m) for m in job.models], "batch_size": job.batch_size}


def job_of(data: dict[str, Any]) -> ShareJob:
    return ShareJob(Share(int(data["index"]), int(data["count"])), int(data["head"]),
                    tuple((str(name), int(gen)) for name, gen in data["models"]),
                    int(data["batch_size"]))
