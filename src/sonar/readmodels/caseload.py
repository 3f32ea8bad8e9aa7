"""Caseloads and workforce planning: open episodes, named workers, reviews due and overdue.

Due and overdue are computed from stored due dates against ``today`` at query time, so
they are right as time passes without any event arriving.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from typing import Any, ClassVar

from sonar.domain.attribution import clinical_day
from sonar.domain.care_record import CareRecord
from sonar.domain.pathway import RiskAssessment
from sonar.domain.review_schedule import REVIEW_ORDER, is_overdue, review_status
from sonar.domain.sms_episode import Episode
from sonar.readmodels.base import Change, Projection, Tables
from sonar.readmodels.derive import episode_holding, record_facts
from sonar.sqlstore.store import ReadStore, Row, Tx, as_iso, upsert_rows


class CaseloadProjection(Projection):
    name = "caseload"
    version = 1
    tables: ClassVar[tuple[str, ...]] = ("episode",)

    def handle(self, tx: Tx, t: Tables, changes: Sequence[Change]) -> None:
        # One row per episode, computed once, from the record of its last change (the
        # record usually is one shared object, but a replica evicted mid-batch is reloaded
        # as another). The site is where the person was at its first change (the referral).
        touched: dict[tuple[str, int], tuple[CareRecord, str | None]] = {}
        for change in changes:
            number = getattr(change.event, "episode", None)
            if isinstance(change.event, CareRecord.EntryMarkedInError):  # e.g. its latest risk
                holding = episode_holding(change.record, change.event.entry_version)
                number = holding.number if holding else None
            if isinstance(number, int):
                key = (change.patient_id, number)
                first = touched.get(key)
                touched[key] = (change.record, first[1] if first else change.location)
        rows = [_row(record, record.episode(number), site)
                for (_, number), (record, site) in touched.items()]
        upsert_rows(tx, t["episode"], ["patient_id", "episode"], rows, keep=["site"])


def _row(record: CareRecord, episode: Episode, location: str | None) -> dict[str, Any]:
    """An episode's row; ``site`` is kept from the referral (where the person was then)."""
    dues = episode.review_due_dates()
    known = record_facts(record, episode)
    done = known.reviews_done
    risk = known.value(RiskAssessment)
    nxt = episode.next_review_due(done)
    row: dict[str, Any] = {
        "patient_id": str(record.id),
        "episode": episode.number,
        "site": location,
        "status": episode.status.value,
        "referred_at": episode.referred_at,
        "referral_source": episode.referral.source,
        "primary_substance": episode.referral.substances[0],
        "outcome": episode.outcome.outcome if episode.outcome else None,
        "treatment_start": episode.treatment_start,
        "caseload_worker": episode.caseload_worker,
        "caseload_site": episode.caseload_site,
        "risk_level": risk.level if risk else None,
        "ended_at": episode.ended_at,
        "exit_reason": episode.discharge.exit_reason if episode.discharge else None,
        "next_review_kind": nxt[0] if nxt else None,
        "next_review_due": nxt[1] if nxt else None,
    }
    for kind in REVIEW_ORDER:
        entry = done.get(kind)
        row[f"{kind}_due"] = dues.get(kind)
        row[f"{kind}_done"] = clinical_day(entry.occurred_at) if entry else None
    return row


def _reviews(row: Row, today: date) -> list[dict[str, Any]]:
    reviews = []
    for kind in REVIEW_ORDER:
        due = as_iso(row[f"{kind}_due"])
        if due is None:
            continue
        done = as_iso(row[f"{kind}_done"])
        reviews.append({"kind": kind, "due": due, "done": done,
                        "status": review_status(date.fromisoformat(due), today,
                                                done=done is not None)})
    return reviews


def caseload(store: ReadStore, today: date, *, worker: str | None = None,
             site: str | None = None, limit: int = 100, offset: int = 0) -> list[dict[str, Any]]:
    """Open and awaiting-outcome episodes for a worker and/or site, soonest review first."""
    where, params = ["e.status IN ('referred', 'open')"], []
    if worker is not None:
        where.append("e.caseload_worker = ?")
        params.append(worker)
    if site is not None:
        where.append("(e.caseload_site = ? OR (e.caseload_site IS NULL AND e.site = ?))")
        params += [site, site]
    rows = store.fetchall(
        "SELECT e.*, p.given_name, p.family_name, p.nhs_number, p.prison_number "
        "FROM rm_episode e LEFT JOIN rm_patient p ON p.patient_id = e.patient_id "
        f"WHERE {' AND '.join(where)} "
        "ORDER BY e.next_review_due IS NULL, e.next_review_due, e.referred_at, e.patient_id "
        "LIMIT ? OFFSET ?", [*params, limit, offset])
    result = []
    for row in rows:
        timed = ("_at", "_due", "_done", "_start")
        item: dict[str, Any] = {k: as_iso(v) if k.endswith(timed) else v
                                for k, v in row.items() if not k.startswith(REVIEW_ORDER)}
        item["reviews"] = _reviews(row, today)
        item["overdue"] = any(r["status"] == "overdue" for r in item["reviews"])
        result.append(item)
    return result


def workforce(store: ReadStore, today: date, *, within_days: int = 7,
              site: str | None = None) -> list[dict[str, Any]]:
    """Per site and worker: active caseload, unassigned referrals, reviews due and overdue."""
    params: list[Any] = []
    where = "status IN ('referred', 'open')"
    if site is not None:
        where += " AND COALESCE(caseload_site, site) = ?"
        params.append(site)
    rows = store.fetchall(
        "SELECT COALESCE(caseload_site, site) AS site, caseload_worker, status, "
        "next_review_due FROM rm_episode "
        f"WHERE {where}", params)
    horizon = today + timedelta(days=within_days)
    groups: dict[tuple[str, str | None], dict[str, Any]] = {}
    for row in rows:
        key = (row["site"] or "unknown", row["caseload_worker"])
        group = groups.setdefault(key, {
            "site": key[0], "worker": key[1], "active_caseload": 0, "unassigned": 0,
            f"reviews_due_{within_days}_days": 0, "reviews_overdue": 0})
        if row["caseload_worker"] is None:
            group["unassigned"] += 1
        else:
            group["active_caseload"] += 1
        due = as_iso(row["next_review_due"])
        if due is not None:
            when = date.fromisoformat(due)
            if is_overdue(when, today):
                group["reviews_overdue"] += 1
            elif when <= horizon:
                group[f"reviews_due_{within_days}_days"] += 1
    return sorted(groups.values(), key=lambda g: (g["site"], g["worker"] or ""))
