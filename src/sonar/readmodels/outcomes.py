"""Patient outcomes: referral outcomes, coded activity (SNOMED), TOP change, discharges.

Sites are where the person was, by clinical time, when the episode was referred (or the
activity happened), so figures do not move when a person is later transferred.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import datetime
from typing import Any, ClassVar

from sonar.domain import codes
from sonar.domain.care_record import CareRecord
from sonar.domain.pathway import CarePlan
from sonar.domain.sms_episode import Episode
from sonar.domain.top import SCORE_ITEMS, SUBSTANCE_CODES, Top
from sonar.readmodels.base import Change, Projection, Tables
from sonar.readmodels.derive import episode_holding
from sonar.sqlstore.store import ReadStore, Tx, upsert_rows

CodedRow = tuple[str, str]  # (category, SNOMED code)


def coded_activity(event: CareRecord.Event, record: CareRecord) -> list[CodedRow]:
    """The SNOMED-coded activity an event represents, if any."""
    match event:
        case CareRecord.ReferredToSms():
            code = "304301000000105" if event.referral.source == "self" else "201521000000104"
            return [("referral", code)]
        case CareRecord.ReferralOutcomeRecorded() if event.outcome.outcome == "accepted":
            return [("assessment", "414501008"), ("under_care", "744857009")]
        case CareRecord.CarePlanRevised():
            agreed = [("care_plan", "415659002" if event.revision == 1 else "198861000000103")]
            return agreed + [("intervention_started", c) for c in event.plan.interventions
                           if c in codes.SNOMED]
        case CareRecord.BriefInterventionRecorded() if (
                event.intervention.intervention == "alcohol_brief_advice"
                and event.intervention.outcome == "completed"):
            return [("brief_intervention", "366371000000105")]
        case CareRecord.ReviewRecorded():
            if event.review.outcome == "did_not_attend":
                return [("did_not_attend", "413989008")]
            if event.review.outcome == "completed":
                return [("follow_up_assessment", "414283008")]
        case CareRecord.Discharged():
            ended: list[CodedRow] = []
            exit_code = codes.EXIT_REASON_SNOMED.get(event.discharge.exit_reason)
            if exit_code:
                ended.append(("treatment_ended", exit_code))
            # The plan as recorded before discharge (later error marks do not rewrite this).
            plans = [e.value for e in record.episode(event.episode).entries
                     if isinstance(e.value, CarePlan) and e.version < event.originator_version]
            if plans:
                ended += [("intervention_ended", c) for c in plans[-1].interventions
                          if c in codes.SNOMED]
            return ended
    return []


def substance_change(start: Any, latest: Any) -> str | None:
    """Abstinent / reduced / unchanged / increased use between two TOPs (days used)."""
    if not isinstance(start, int | float) or not isinstance(latest, int | float):
        return None
    if start == 0:
        return "no_use_at_start" if latest == 0 else "started"
    if latest == 0:
        return "abstinent"
    return "reduced" if latest < start else "unchanged" if latest == start else "increased"


def top_change_row(record: CareRecord, episode: Episode,
                   site: str | None) -> dict[str, Any] | None:
    tops = [e for e in episode.valid_entries() if isinstance(e.value, Top)]
    start = next((e for e in tops if isinstance(e.value, Top) and e.value.stage == "start"),
                 None)
    later = [e for e in tops if isinstance(e.value, Top) and e.value.stage != "start"]
    if start is None or not later:
        return None
    latest = max(later, key=lambda e: (e.occurred_at, e.version))
    first, last = start.value, latest.value
    if not isinstance(first, Top) or not isinstance(last, Top):
        return None
    row: dict[str, Any] = {
        "patient_id": str(record.id), "episode": episode.number,
        "site": site, "start_at": start.occurred_at,
        "latest_at": latest.occurred_at, "latest_stage": last.stage}
    for substance in SUBSTANCE_CODES:
        row[substance] = substance_change(first.answers.answer(f"{substance}_days"),
                                          last.answers.answer(f"{substance}_days"))
    for score in SCORE_ITEMS:
        a, b = first.answers.answer(score), last.answers.answer(score)
        row[f"{score}_change"] = (int(b) - int(a) if isinstance(a, int | float)
                                  and isinstance(b, int | float) else None)
    return row


class OutcomesProjection(Projection):
    name = "outcomes"
    version = 1
    tables: ClassVar[tuple[str, ...]] = ("referral", "coded_activity", "top_change")

    def handle(self, tx: Tx, t: Tables, changes: Sequence[Change]) -> None:
        referrals: dict[tuple[str, int], tuple[CareRecord, Episode, str | None]] = {}
        tops: dict[tuple[str, int], tuple[CareRecord, Episode]] = {}
        coded: list[dict[str, Any]] = []
        for change in changes:
            event, record = change.event, change.record
            pid = change.patient_id
            number = getattr(event, "episode", None)
            if isinstance(number, int):
                episode = record.episode(number)
                # One row per episode from its last change's record (see caseload); the
                # site from its first change.
                first = referrals.get((pid, number))
                referrals[(pid, number)] = (record, episode,
                                            first[2] if first else change.location)
                if isinstance(event, CareRecord.TopRecorded):
                    tops[(pid, number)] = (record, episode)
            at = event.attribution.occurred_at
            for seq, (category, code) in enumerate(coded_activity(event, record)):
                coded.append({"patient_id": pid, "entry_version": event.originator_version,
                              "seq": seq, "episode": number,
                              "site": change.location, "occurred_at": at,
                              "category": category, "code": code, "term": codes.SNOMED[code],
                              "in_error": False})
            if isinstance(event, CareRecord.EntryMarkedInError):
                tx.execute(f"UPDATE {t['coded_activity']} SET in_error = ? "
                           "WHERE patient_id = ? AND entry_version = ?",
                           [True, pid, event.entry_version])
                holding = episode_holding(record, event.entry_version)
                if holding is not None:
                    tops[(pid, holding.number)] = (record, holding)
        upsert_rows(tx, t["referral"], ["patient_id", "episode"],
                    [_referral_row(*found) for found in referrals.values()], keep=["site"])
        upsert_rows(tx, t["coded_activity"], ["patient_id", "entry_version", "seq"], coded)
        if not tops:
            return
        patients = sorted({pid for pid, _ in tops})
        sites = {(r["patient_id"], r["episode"]): r["site"] for r in tx.fetchall(
            f"SELECT patient_id, episode, site FROM {t['referral']} "
            f"WHERE patient_id IN ({', '.join('?' for _ in patients)})", patients)}
        changed, gone = [], []
        for (pid, number), (record, episode) in tops.items():
            row = top_change_row(record, episode, sites.get((pid, number)))
            if row is None:
                gone.append([pid, number])
            else:
                changed.append(row)
        upsert_rows(tx, t["top_change"], ["patient_id", "episode"], changed)
        if gone:
            tx.executemany(f"DELETE FROM {t['top_change']} "
                           "WHERE patient_id = ? AND episode = ?", gone)


def _referral_row(record: CareRecord, episode: Episode,
                  location: str | None) -> dict[str, Any]:
    return {"patient_id": str(record.id), "episode": episode.number, "site": location,
            "referred_at": episode.referred_at, "source": episode.referral.source,
            "outcome": episode.outcome.outcome if episode.outcome else None,
            "outcome_at": episode.accepted_at or (episode.ended_at if episode.outcome else None),
            "exit_reason": episode.discharge.exit_reason if episode.discharge else None,
            "discharged_at": episode.ended_at if episode.discharge else None}


def _period(column: str, site: str | None, start: datetime, end: datetime,
            site_column: str = "site") -> tuple[str, list[Any]]:
    where = f"{column} >= ? AND {column} < ?"
    params: list[Any] = [start, end]
    if site is not None:
        where += f" AND {site_column} = ?"
        params.append(site)
    return where, params


def referral_outcomes_by_site(store: ReadStore, start: datetime,
                              end: datetime) -> dict[str, dict[str, int]]:
    """Referral outcomes in [start, end) for every site with a referral, in one query."""
    where, params = _period("referred_at", None, start, end)
    by_site: dict[str, dict[str, int]] = {}
    for r in store.fetchall(
            f"SELECT COALESCE(site, 'unknown') AS site, COALESCE(outcome, 'awaiting') AS "
            f"outcome, COUNT(*) AS n FROM rm_referral WHERE {where} "
            "GROUP BY COALESCE(site, 'unknown'), COALESCE(outcome, 'awaiting') ORDER BY 1, 2",
            params):
        by_site.setdefault(r["site"], {})[r["outcome"]] = int(r["n"])
    return by_site


def outcomes(store: ReadStore, start: datetime, end: datetime,
             site: str | None = None) -> dict[str, Any]:
    """Outcome figures for referrals and activity in [start, end), optionally for one site."""
    where, params = _period("referred_at", site, start, end)
    referral_rows = store.fetchall(
        f"SELECT COALESCE(outcome, 'awaiting') AS outcome, COUNT(*) AS n FROM rm_referral "
        f"WHERE {where} GROUP BY COALESCE(outcome, 'awaiting') ORDER BY 1", params)
    where, params = _period("occurred_at", site, start, end)
    coded_rows = store.fetchall(
        f"SELECT category, code, term, COUNT(*) AS n FROM rm_coded_activity "
        f"WHERE {where} AND in_error = ? GROUP BY category, code, term ORDER BY category, code",
        [*params, False])
    where, params = _period("latest_at", site, start, end)
    top_rows = store.fetchall(f"SELECT * FROM rm_top_change WHERE {where}", params)
    where, params = _period("discharged_at", site, start, end)
    discharge_rows = store.fetchall(
        f"SELECT exit_reason, COUNT(*) AS n FROM rm_referral WHERE {where} "
        "AND exit_reason IS NOT NULL GROUP BY exit_reason ORDER BY exit_reason", params)
    return {
        "site": site, "from": start.isoformat(), "to": end.isoformat(),
        "referral_outcomes": {r["outcome"]: int(r["n"]) for r in referral_rows},
        "coded_activity": [{"category": r["category"], "code": r["code"], "term": r["term"],
                            "count": int(r["n"])} for r in coded_rows],
        "top_change": _top_summary(top_rows),
        "discharge_reasons": {r["exit_reason"]: int(r["n"]) for r in discharge_rows},
    }


def _top_summary(rows: Sequence[dict[str, Any]]) -> dict[str, Any]:
    substances = {s: dict(Counter(r[s] for r in rows if r[s] is not None))
                  for s in SUBSTANCE_CODES}
    scores = {}
    for score in SCORE_ITEMS:
        values = [r[f"{score}_change"] for r in rows if r[f"{score}_change"] is not None]
        scores[score] = {"n": len(values),
                         "mean_change": round(sum(values) / len(values), 2) if values else None}
    return {"episodes": len(rows), "substances": substances, "scores": scores}
