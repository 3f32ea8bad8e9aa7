"""Property: replaying stored events (and snapshots) rebuilds exactly the same state."""

from __future__ import annotations

from typing import Any

from eventsourcing.domain import Snapshot
from eventsourcing.persistence import Mapper
from hypothesis import given, settings
from hypothesis import strategies as st

from sonar.domain import VALUE_TYPES, CareRecord, DomainError
from sonar.domain.pathway import BriefIntervention, CarePlan, DualDiagnosis, RiskAssessment
from sonar.domain.top import Top
from sonar.eventstore.snapshot_codec import SnapshotTranscoder
from sonar.eventstore.transcoder import ValueTranscoder
from sonar.readmodels.derive import facts, record_facts
from tests import strategies as s
from tests.unit.domain.builders import at, with_open_episode

MAPPER: Mapper[Any] = Mapper(transcoder=ValueTranscoder(VALUE_TYPES))
SNAPSHOT_MAPPER: Mapper[Any] = Mapper(transcoder=SnapshotTranscoder(ValueTranscoder(VALUE_TYPES)))

STEPS = st.one_of(
    st.tuples(st.just("assess_dual_diagnosis"), s.dual_diagnoses),
    st.tuples(st.just("assess_risk"), s.risk_assessments),
    st.tuples(st.just("record_brief_intervention"), s.brief_interventions),
    st.tuples(st.just("record_top"), s.tops),
    st.tuples(st.just("record_review"), s.reviews),
    st.tuples(st.just("revise_care_plan"), s.care_plans),
    st.tuples(st.just("discharge"), s.discharges),
    st.tuples(st.just("mark_entered_in_error"), st.integers(1, 30)),
    st.tuples(st.just("refer_to_sms"), s.referrals),
    st.tuples(st.just("record_referral_outcome"), s.referral_outcomes),
)


def _apply(record: CareRecord, name: str, value: Any, day: int) -> None:
    attribution = at(day)
    episode = len(record.episodes)
    try:
        if name == "refer_to_sms":
            record.refer_to_sms(value, attribution)
        elif name == "mark_entered_in_error":
            record.mark_entered_in_error(value, "entered against the wrong episode", attribution)
        else:
            getattr(record, name)(episode, value, attribution)
    except DomainError:
        pass  # refused steps are part of realistic histories; they record nothing


def _deep(value: Any) -> Any:
    """Structure with exact types at every level (so a tuple is not a list, 1 is not 1.0)."""
    if isinstance(value, dict):
        return {k: _deep(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return (type(value).__name__, [_deep(v) for v in value])
    if hasattr(value, "__dict__") and not isinstance(value, type):
        return (type(value).__qualname__, _deep(dict(vars(value))))
    return (type(value).__name__, value)


def _state(record: CareRecord) -> Any:
    return _deep({k: v for k, v in vars(record).items() if k != "_pending_events"})


@settings(max_examples=60, deadline=None)
@given(st.lists(STEPS, max_size=25))
def test_replaying_stored_events_rebuilds_identical_state(steps: list[tuple[str, Any]]) -> None:
    record = with_open_episode()
    for day, (name, value) in enumerate(steps, start=1):
        _apply(record, name, value, day)
    stored = [MAPPER.to_stored_event(e) for e in record.collect_events()]
    replayed: CareRecord | None = None
    for event in (MAPPER.to_domain_event(x) for x in stored):
        replayed = event.mutate(replayed)  # type: ignore[attr-defined]
    assert replayed is not None
    assert _state(replayed) == _state(record)
    assert replayed.version == record.version


@settings(max_examples=30, deadline=None)
@given(st.lists(STEPS, max_size=15))
def test_a_snapshot_restores_identical_state(steps: list[tuple[str, Any]]) -> None:
    record = with_open_episode()
    for day, (name, value) in enumerate(steps, start=1):
        _apply(record, name, value, day)
    for mapper in (MAPPER, SNAPSHOT_MAPPER):  # JSON (older snapshots) and pickle
        snapshot = mapper.to_domain_event(mapper.to_stored_event(Snapshot.take(record)))
        restored = snapshot.mutate(None)
        assert _state(restored) == _state(record)
        assert restored.version == record.version


@settings(max_examples=40, deadline=None)
@given(st.lists(STEPS, max_size=15), st.lists(STEPS, min_size=1, max_size=8))
def test_a_copy_from_the_cache_is_independent_of_the_cached_record(
        before: list[tuple[str, Any]], after: list[tuple[str, Any]]) -> None:
    """The record cache hands each command a copy (values shared, mutable parts copied):
    the copy starts equal, and whatever a command does to it leaves the cached one as it was."""
    import copy  # noqa: PLC0415

    record = with_open_episode()
    for day, (name, value) in enumerate(before, start=1):
        _apply(record, name, value, day)
    record.collect_events()
    cached = _state(record)
    clone = copy.deepcopy(record)
    assert _state(clone) == cached
    for day, (name, value) in enumerate(after, start=len(before) + 1):
        _apply(clone, name, value, day)
        _apply(clone, "mark_entered_in_error", day % 7 + 1, day)
    assert _state(record) == cached


@settings(max_examples=60, deadline=None)
@given(st.lists(STEPS, max_size=30))
def test_episode_facts_in_one_pass_agree_with_the_domain_views(
        steps: list[tuple[str, Any]]) -> None:
    """The read models' one-pass facts give what Episode.latest, reviews_done and the
    care-plan revisions give, whatever the order, clinical times and entries in error."""
    record = with_open_episode()
    for day, (name, value) in enumerate(steps, start=1):
        _apply(record, name, value, day % 5)  # clinical days repeat: ties broken by version
        for episode in record.episodes:  # extended step by step, as the runner asks
            assert record_facts(record, episode) == facts(episode)
    for episode in record.episodes:
        known = facts(episode)
        for kind in (RiskAssessment, DualDiagnosis, Top, CarePlan, BriefIntervention):
            assert known.latest.get(kind) == episode.latest(kind)
        assert known.reviews_done == episode.reviews_done()
        plans = [e for e in episode.entries if isinstance(e.value, CarePlan)]
        assert known.plans == [(i + 1, e) for i, e in enumerate(plans) if e.in_error is None]
        assert known.no_start_top == any("no_start_top" in e.flags
                                         for e in episode.valid_entries())
        assert episode.next_review_due(known.reviews_done) == episode.next_review_due()


@settings(max_examples=80, deadline=None)
@given(st.lists(st.tuples(STEPS, st.booleans()), max_size=30))
def test_an_episodes_running_counts_agree_with_its_entries(
        steps: list[tuple[tuple[str, Any], bool]]) -> None:
    """The counts the guards read (care plans recorded, valid start TOPs) are what a walk of
    the entries gives, after any history of entries and error marks (the latest entry is
    often marked, so start TOPs and care plans in error are common)."""
    record = with_open_episode()
    for day, ((name, value), mark_latest) in enumerate(steps, start=1):
        _apply(record, name, value, day)
        if mark_latest and record.episodes[-1].entries:
            _apply(record, "mark_entered_in_error", record.episodes[-1].entries[-1].version, day)
        for episode in record.episodes:
            assert episode.care_plans == sum(isinstance(e.value, CarePlan)
                                             for e in episode.entries)
            assert episode.start_tops == sum(
                isinstance(e.value, Top) and e.value.stage == "start" and e.in_error is None
                for e in episode.entries)


@settings(max_examples=30, deadline=None)
@given(st.lists(STEPS, max_size=15))
def test_a_version_2_snapshot_without_running_counts_restores_them(
        steps: list[tuple[str, Any]]) -> None:
    """Snapshots taken before the counts existed (class version 2) are brought up to date."""
    record = with_open_episode()
    for day, (name, value) in enumerate(steps, start=1):
        _apply(record, name, value, day)
    snapshot = SNAPSHOT_MAPPER.to_domain_event(SNAPSHOT_MAPPER.to_stored_event(
        Snapshot.take(record)))
    state = snapshot.state  # type: ignore[attr-defined]
    assert state["class_version"] == 3
    state["class_version"] = 2
    for episode in state["episodes"]:
        del episode.care_plans, episode.start_tops
    restored = snapshot.mutate(None)
    assert _state(restored) == _state(record)
