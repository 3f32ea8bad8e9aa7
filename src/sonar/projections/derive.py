"""Facts read models derive from a care record; shared so every model agrees."""

from __future__ import annotations

from typing import TypeVar

from sonar.domain.care_record import CareRecord
from sonar.domain.pathway import CarePlan, DualDiagnosis, ReceptionScreen, RiskAssessment
from sonar.domain.sms_episode import Episode
from sonar.domain.top import Top

T = TypeVar("T")


def latest_value(episode: Episode, kind: type[T]) -> T | None:
    entry = episode.latest(kind)  # type: ignore[arg-type]
    return entry.value if entry and isinstance(entry.value, kind) else None


def current_episode(record: CareRecord) -> Episode | None:
    """The active episode, else the most recent one."""
    return record.active_episode or (record.episodes[-1] if record.episodes else None)


def alerts(record: CareRecord) -> list[str]:
    """Standing alerts for the record banner (time-dependent ones are added at query time)."""
    found: list[str] = []
    episode = current_episode(record)
    if episode is not None and episode.is_active:
        risk = latest_value(episode, RiskAssessment)
        if risk is not None:
            if risk.level == "high":
                found.append("high_risk")
            found += [f"risk:{r}" for r in risk.risks if r in ("overdose", "self_harm_suicide")]
            if risk.acct_open:
                found.append("acct_open")
        if any("no_start_top" in e.flags for e in episode.valid_entries()):
            found.append("no_start_top")
        dual = latest_value(episode, DualDiagnosis)
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

