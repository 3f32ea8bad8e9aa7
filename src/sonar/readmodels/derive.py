"""Facts read models derive from a care record; shared so every model agrees."""

from __future__ import annotations

import operator
import threading
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, TypeVar
from uuid import UUID

from sonar.domain.care_record import CareRecord
from sonar.domain.pathway import CarePlan, DualDiagnosis, ReceptionScreen, Review, RiskAssessment
from sonar.domain.sms_episode import Entry, Episode
from sonar.domain.top import Top

T = TypeVar("T")


def latest_value(episode: Episode, kind: type[T]) -> T | None:
    entry = episode.latest(kind)  # type: ignore[arg-type]
    return entry.value if entry and isinstance(entry.value, kind) else None


@dataclass(frozen=True)
class EpisodeFacts:
    """What the read models need from an episode's entries, found in one pass over them
    (the same answers as ``Episode.latest``, ``reviews_done`` and friends, each of which
    walks every entry: with a few hundred entries that was most of a model's work)."""

    latest: dict[type[Any], Entry]  # latest valid entry of each value type, as Episode.latest
    reviews_done: dict[str, Entry]
    plans: list[tuple[int, Entry]]  # valid care plans with their revision (1 = first recorded)
    no_start_top: bool
    plan_revisions: int = 0  # care plans recorded, in error or not

    def value(self, kind: type[T]) -> T | None:
        entry = self.latest.get(kind)
        return entry.value if entry is not None and isinstance(entry.value, kind) else None


NO_FACTS = EpisodeFacts({}, {}, [], no_start_top=False)
# Episodes whose facts were found lately (LRU). Each holds a list of its entries, so the
# bound is kept small: the runner needs the episodes of a batch or two, not every replica.
_SEEN: OrderedDict[tuple[UUID, int], tuple[list[Entry], EpisodeFacts]] = OrderedDict()
_SEEN_SIZE = 512
_SEEN_LOCK = threading.Lock()


def record_facts(record: CareRecord, episode: Episode) -> EpisodeFacts:
    """``facts`` of a record's episode, extended from the last facts found for it when its
    entries only grew since: the runner asks after every batch, and a long episode then
    costs its new entries, not all of them. Entries are frozen and marking one in error
    replaces it, so "only grew" is checked by identity (a C-speed walk, not a Python one)."""
    key = (record.id, episode.number)
    entries = episode.entries
    with _SEEN_LOCK:
        seen = _SEEN.get(key)
    found: EpisodeFacts | None = None
    if seen is not None:
        old, known = seen
        n = len(old)
        if n <= len(entries) and all(map(operator.is_, old, entries)):
            found = known if n == len(entries) else extend(known, entries[n:])
    if found is None:
        found = facts(episode)
    with _SEEN_LOCK:
        _SEEN[key] = (list(entries), found)
        _SEEN.move_to_end(key)
        while len(_SEEN) > _SEEN_SIZE:
            _SEEN.popitem(last=False)
    return found


def facts(episode: Episode) -> EpisodeFacts:
    return extend(NO_FACTS, episode.entries)


def extend(known: EpisodeFacts, entries: Iterable[Entry]) -> EpisodeFacts:
    """``known`` (the facts of the entries before these) with these entries added."""
    latest, done = dict(known.latest), dict(known.reviews_done)
    plans, revision, no_start_top = list(known.plans), known.plan_revisions, known.no_start_top
    for entry in entries:
        value = entry.value
        if isinstance(value, CarePlan):
            revision += 1
            if entry.in_error is None:
                plans.append((revision, entry))
        if entry.in_error is not None:
            continue
        kind = type(value)
        best = latest.get(kind)
        if best is None or (entry.occurred_at, entry.version) > (best.occurred_at, best.version):
            latest[kind] = entry
        if isinstance(value, Review):
            done[value.kind] = entry
        no_start_top = no_start_top or "no_start_top" in entry.flags
    return EpisodeFacts(latest, done, plans, no_start_top, revision)


def episode_holding(record: CareRecord, entry_version: int) -> Episode | None:
    """The episode holding the entry recorded at ``entry_version`` (entries are identified
    by their event's version, so there is at most one), e.g. to recompute its rows when
    that entry is marked in error."""
    return next((e for e in record.episodes
                 if any(x.version == entry_version for x in e.entries)), None)


def current_episode(record: CareRecord) -> Episode | None:
    """The active episode, else the most recent one."""
    return record.active_episode or (record.episodes[-1] if record.episodes else None)


def alerts(record: CareRecord, known: EpisodeFacts | None = None) -> list[str]:
    """Standing alerts for the record banner (time-dependent ones are added at query time).
    ``known``: the facts of the current episode, if already found."""
    found: list[str] = []
    episode = current_episode(record)
    if episode is not None and episode.is_active:
        known = known or record_facts(record, episode)
        risk = known.value(RiskAssessment)
        if risk is not None:
            if risk.level == "high":
                found.append("high_risk")
            found += [f"risk:{r}" for r in risk.risks if r in ("overdose", "self_harm_suicide")]
            if risk.acct_open:
                found.append("acct_open")
        if known.no_start_top:
            found.append("no_start_top")
        dual = known.value(DualDiagnosis)
        if dual is not None and dual.status == "yes":
            found.append("dual_diagnosis")
    screens = [e for e in record.screens if e.in_error is None]
    if screens and isinstance(screens[-1].value, ReceptionScreen):
        screen = screens[-1].value
        if screen.self_harm_risk and "risk:self_harm_suicide" not in found:
            found.append("reception:self_harm_risk")
        if screen.acct_opened and "acct_open" not in found:
            found.append("acct_open")
    if record.break_glass_grants:  # issue 4: someone broke glass; review who and why
        found.append("break_glass")
    return found


def top_summary(top: Top) -> dict[str, object]:
    return {"stage": top.stage, "before_custody": top.before_custody,
            "answers": dict(top.answers.values),
            "other_substance_name": top.answers.other_substance_name}


def care_plan_summary(plan: CarePlan, revision: int) -> dict[str, object]:
    return {"revision": revision, "goals": list(plan.goals),
            "interventions": list(plan.interventions), "named_worker": plan.named_worker,
            "next_review_date": plan.next_review_date.isoformat()}

