"""Corrections on the care record: a clinical entry marked as entered in error, with reason
and author. Nothing is deleted; journey moves and pathway transitions are corrected by a
further step instead (docs/decisions.md, "Entries are identified by their event's version").
"""

from __future__ import annotations

from dataclasses import replace

from sonar.domain.attribution import Attribution
from sonar.domain.care_record._base import RecordArea, RecordEvent
from sonar.domain.errors import IllegalStep, InvalidValue
from sonar.domain.sms_episode import Entry


class Corrections(RecordArea):
    """Entries (reception screens and episode entries) are named by their event's version."""

    class EntryMarkedInError(RecordEvent):
        entry_version: int
        reason: str

        def apply(self, aggregate: RecordArea) -> None:
            for i, entry in enumerate(aggregate.screens):
                if entry.version == self.entry_version:
                    aggregate.screens[i] = replace(entry, in_error=self.reason)
                    return
            for episode in aggregate.episodes:
                for i, entry in enumerate(episode.entries):
                    if entry.version == self.entry_version:
                        episode.mark_in_error(i, self.reason)
                        return

    def find_entry(self, version: int) -> Entry | None:
        for entry in self.screens:
            if entry.version == version:
                return entry
        for episode in self.episodes:
            for entry in episode.entries:
                if entry.version == version:
                    return entry
        return None

    def mark_entered_in_error(self, entry_version: int, reason: str,
                              attribution: Attribution) -> None:
        """Mark a clinical entry as entered in error; nothing is deleted."""
        if not reason.strip() or len(reason) > 1000:
            raise InvalidValue("Give a reason (1 to 1000 characters).",
                               rule="entered_in_error.reason_required", field="reason")
        entry = self.find_entry(entry_version)
        if entry is None:
            raise IllegalStep(
                f"Event {entry_version} is not a clinical entry that can be marked in error; "
                "journey moves and pathway transitions are corrected by a further step.",
                rule="entered_in_error.not_an_entry")
        if entry.in_error is not None:
            raise IllegalStep(f"Entry {entry_version} is already marked in error.",
                              rule="entered_in_error.already_marked")
        self._record(self.EntryMarkedInError, attribution, entry_version=entry_version,
                     reason=reason.strip())
