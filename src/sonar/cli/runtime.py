"""Process-wide settings for SONAR's long-running processes (`sonar serve`, `sonar worker`)."""

from __future__ import annotations

import gc

# A young collection after this many new container objects, not CPython's 700. Loading or
# copying a long care record builds tens of thousands; at 700 each load paid for dozens
# of collections, and the occasional full one walked every cached record (the p99 of a
# cold 1,000-event load was about five times its p50; see docs/performance.md).
YOUNG_THRESHOLD = 20_000
OLDER_THRESHOLDS = (10, 10)  # CPython's


def tune_gc() -> None:
    """Freeze what startup built (modules, app, caches so far) out of every collection, and
    collect cycles less often. Memory is still freed by reference counting as before; only
    cyclic garbage waits a little longer."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(YOUNG_THRESHOLD, *OLDER_THRESHOLDS)
