"""Topics of stored events and snapshots whose classes have since moved.

A stored row keeps the topic it was written with (the topic is part of its hash-chain link),
so a module that moves leaves its old name behind here, registered to the new module; new
events are written with the new topic. The care record's events need no entry: whichever
module of ``sonar/domain/care_record/`` holds an area's events, they are composed on
``CareRecord`` and keep the topics ``sonar.domain.care_record:CareRecord.<Event>``.
"""

from __future__ import annotations

import importlib

from eventsourcing.utils import register_topic

MOVED_MODULES = {
    "sonar.app.receipts": "sonar.eventstore.receipts",
}


def register_moved_topics() -> None:
    """Make every old module name resolve to the module it became (safe to call again)."""
    for old, new in MOVED_MODULES.items():
        register_topic(old, importlib.import_module(new))
