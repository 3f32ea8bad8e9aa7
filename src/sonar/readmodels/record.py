"""Current record per patient: identity, setting, active episode, risk, TOP, plan, alerts."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any, ClassVar

from sonar.domain.care_record import CareRecord
from sonar.domain.pathway import CarePlan, DualDiagnosis, RiskAssessment
from sonar.domain.review_schedule import review_status
from sonar.domain.top import Top
from sonar.readmodels.base import Change, Projection, Tables, last_per_patient
from sonar.readmodels.derive import (
    alerts,
    care_plan_summary,
    current_episode,
    record_facts,
    top_summary,
)
from sonar.sqlstore.store import Json, ReadStore, Row, Tx, as_bool, as_iso, as_json, upsert_rows


class RecordProjection(Projection):
    name = "record"
    version = 1
    tables: ClassVar[tuple[str, ...]] = ("patient",)

    def handle(self, tx: Tx, t: Tables, changes: Sequence[Change]) -> None:
        positions = {c.record.id: c.position for c in changes}
        rows = [record_row(r, positions[pid]) for pid, r in last_per_patient(changes).items()]
        upsert_rows(tx, t["patient"], ["patient_id"], rows)


def record_row(record: CareRecord, position: int) -> dict[str, Any]:
    episode = current_episode(record)
    known = record_facts(record, episode) if episode else None
    risk = known.value(RiskAssessment) if known else None
    dual = known.value(DualDiagnosis) if known else None
    top_entry = known.latest.get(Top) if known else None
    valid_plans = known.plans if known else []
    next_review = episode.next_review_due(known.reviews_done) if episode and known else None
    identity = record.identity
    return {
        "patient_id": str(record.id),
        "nhs_number": str(identity.nhs_number) if identity.nhs_number else None,
        "prison_number": str(identity.prison_number) if identity.prison_number else None,
        "pnc_id": str(identity.pnc_id) if identity.pnc_id else None,
        "given_name": record.demographics.given_name,
        "family_name": record.demographics.family_name,
        "date_of_birth": record.demographics.date_of_birth,
        "sex": record.demographics.sex,
        "setting": record.journey.setting,
        "location": record.journey.location,
        "active_episode": episode.number if episode and episode.is_active else None,
        "episode_status": episode.status.value if episode else None,
        "treatment_start": episode.treatment_start if episode else None,
        "caseload_worker": episode.caseload_worker if episode else None,
        "caseload_site": episode.caseload_site if episode else None,
        "risk_level": risk.level if risk else None,
        "named_risks": Json(list(risk.risks)) if risk else None,
        "acct_open": risk.acct_open if risk else None,
        "dual_diagnosis": dual.status if dual else None,
        "latest_top": (Json(top_summary(top_entry.value))
                       if top_entry and isinstance(top_entry.value, Top) else None),
        "latest_top_at": top_entry.occurred_at if top_entry else None,
        "care_plan": (Json(care_plan_summary(valid_plans[-1][1].value, valid_plans[-1][0]))
                      if valid_plans and isinstance(valid_plans[-1][1].value, CarePlan)
                      else None),
        "care_plan_revision": valid_plans[-1][0] if valid_plans else None,
        "alerts": Json(alerts(record, known)),
        "next_review_kind": next_review[0] if next_review else None,
        "next_review_due": next_review[1] if next_review else None,
        "version": record.version,
        "updated_at": record.modified_on,
        "position": position,
    }


def public_record(row: Row, today: date) -> dict[str, Any]:
    result = dict(row)
    for key in ("date_of_birth", "treatment_start", "latest_top_at", "next_review_due",
                "updated_at"):
        result[key] = as_iso(row[key])
    for key in ("named_risks", "latest_top", "care_plan", "alerts"):
        result[key] = as_json(row[key])
    result["acct_open"] = as_bool(row["acct_open"])
    due = result["next_review_due"]
    result["next_review_status"] = (
        review_status(date.fromisoformat(due), today, done=False) if due else None)
    if result["next_review_status"] == "overdue":
        result["alerts"] = [*result["alerts"], f"review_overdue:{result['next_review_kind']}"]
    return result


def get_record(store: ReadStore, patient_id: str, today: date) -> dict[str, Any] | None:
    rows = store.fetchall("SELECT * FROM rm_patient WHERE patient_id = ?", [patient_id])
    return public_record(rows[0], today) if rows else None


def search(store: ReadStore, today: date, *, nhs_number: str | None = None,
           prison_number: str | None = None, family_name: str | None = None,
           date_of_birth: date | None = None, limit: int = 50,
           offset: int = 0) -> list[dict[str, Any]]:
    """Find patients by NHS number, prison number, or family name + date of birth."""
    where, params = [], []
    for column, value in (("nhs_number", nhs_number), ("prison_number", prison_number),
                          ("date_of_birth", date_of_birth)):
        if value is not None:
            where.append(f"{column} = ?")
            params.append(value)
    if family_name is not None:
        where.append("LOWER(family_name) = LOWER(?)")
        params.append(family_name)
    if not where:
        return []
    rows = store.fetchall(f"SELECT * FROM rm_patient WHERE {' AND '.join(where)} "
                          "ORDER BY family_name, given_name, patient_id LIMIT ? OFFSET ?",
                          [*params, limit, offset])
    return [public_record(r, today) for r in rows]
