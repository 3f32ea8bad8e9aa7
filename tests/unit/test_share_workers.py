"""The share workers' protocol, followed from real child processes: progress lines give
the position every share has reached; a blank line is not the end of a worker's output; a
worker that ends without ``done`` fails the rebuild."""

from __future__ import annotations

import subprocess
import sys

import pytest

from sonar.eventstore.pg_recorder import Share
from sonar.readmodels.share_workers import ProcessShareWorkers
from sonar.readmodels.shares import ShareFailed, ShareJob


def _worker(*lines: str, code: int = 0) -> subprocess.Popen[bytes]:
    script = "".join(f"print({line!r}, flush=True)\n" for line in lines)
    return subprocess.Popen(  # noqa: S603 - this interpreter, running the script built here
        [sys.executable, "-c", script + f"raise SystemExit({code})"], stdout=subprocess.PIPE)


def _jobs(n: int) -> list[ShareJob]:
    return [ShareJob(Share(i, n), 10, (("timeline", 2),), 100) for i in range(n)]


def test_progress_is_the_position_every_share_has_reached() -> None:
    workers = ProcessShareWorkers({}, 2)
    seen: list[int] = []
    procs = [_worker("at 3 50.0", "", "at 7 51.5", "done 7 60.0"),
             _worker("", "at 5 40.0", "done 9 45.0")]
    peaks = workers._follow(procs, _jobs(2), seen.append)
    for proc in procs:
        proc.wait()
    assert peaks == [60.0, 45.0]
    assert seen
    assert seen == sorted(seen)
    assert max(seen) <= 7  # never past the slower share
    assert workers.rss_mb == [51.5, 40.0]


@pytest.mark.parametrize("code", [0, 1])
def test_a_worker_that_ends_without_done_fails_the_rebuild(code: int) -> None:
    workers = ProcessShareWorkers({}, 2)
    procs = [_worker("at 3 50.0", "done 10 60.0"), _worker("at 2 40.0", "", code=code)]
    with pytest.raises(ShareFailed, match=f"share 1 of 2 failed \\(exit {code}\\)"):
        workers._follow(procs, _jobs(2), None)
    for proc in procs:
        proc.kill()
        proc.wait()
