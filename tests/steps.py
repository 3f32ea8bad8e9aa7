"""Commands from domain values, for tests that build a value once and record it often."""

from __future__ import annotations

import dataclasses
from typing import Any
from uuid import UUID

from sonar.commands.base import Command
from sonar.commands.journey import (
    DetainInPoliceCustody,
    RecallToPrison,
    ReceiveIntoPrison,
    ReleaseFromPoliceCustody,
    ReleaseFromPrison,
    Transfer,
)
from sonar.commands.pathway import (
    AssessDualDiagnosis,
    AssessRisk,
    AssignCaseload,
    DischargeEpisode,
    RecordBriefIntervention,
    RecordReferralOutcome,
    RecordReview,
    RecordTop,
    ReferToSms,
    ReviseCarePlan,
)
from sonar.commands.record import MarkEnteredInError
from sonar.domain.identity import Demographics, Identity
from sonar.domain.reset import MedicineSupply
from sonar.domain.top import Top


def fields(value: Any) -> dict[str, Any]:
    """The command fields that record ``value`` (a Referral, Top, ReleasePlan, Identity...):
    tuples become lists, wrapped identifiers their text, and a TOP's answers are spread."""
    if isinstance(value, Top):
        return {"stage": value.stage, "answers": dict(value.answers.values),
                "other_substance_name": value.answers.other_substance_name,
                "before_custody": value.before_custody}
    if isinstance(value, Identity):
        return {k: str(v) for k, v in vars(value).items() if v is not None}
    if isinstance(value, Demographics):
        return dict(vars(value))
    out: dict[str, Any] = {}
    for f in dataclasses.fields(value):
        item = getattr(value, f.name)
        if isinstance(item, tuple):
            item = [{"name": m.name, "days": m.days} if isinstance(m, MedicineSupply) else m
                    for m in item]
        if item is not None:
            out[f.name] = item
    return out


# The steps property tests draw by name, each with its positional arguments after the patient:
# (command, argument names; a name starting with * is a domain value spread into fields).
_STEPS: dict[str, tuple[type[Command], tuple[str, ...]]] = {
    "detain_in_police_custody": (DetainInPoliceCustody, ("custody_suite", "pnc_id")),
    "release_from_police_custody": (ReleaseFromPoliceCustody, ("outcome",)),
    "receive_into_prison": (ReceiveIntoPrison, ("establishment", "prison_number")),
    "transfer": (Transfer, ("to_establishment",)),
    "release_from_prison": (ReleaseFromPrison, ("release_type", "destination_area")),
    "recall_to_prison": (RecallToPrison, ("recall_type", "establishment")),
    "refer_to_sms": (ReferToSms, ("*",)),
    "record_referral_outcome": (RecordReferralOutcome, ("episode", "*")),
    "assess_dual_diagnosis": (AssessDualDiagnosis, ("episode", "*")),
    "assess_risk": (AssessRisk, ("episode", "*")),
    "assign_caseload": (AssignCaseload, ("episode", "worker_id", "site")),
    "record_brief_intervention": (RecordBriefIntervention, ("episode", "*")),
    "record_top": (RecordTop, ("episode", "*")),
    "record_review": (RecordReview, ("episode", "*")),
    "revise_care_plan": (ReviseCarePlan, ("episode", "*")),
    "discharge": (DischargeEpisode, ("episode", "*")),
    "mark_entered_in_error": (MarkEnteredInError, ("entry_version", "reason")),
}


def command_for(name: str, patient_id: UUID, *args: Any, **extra: Any) -> Command:
    """The command of a step drawn by name (``"assess_risk", pid, 1, RiskAssessment(...)``)."""
    kind, names = _STEPS[name]
    values: dict[str, Any] = {"patient_id": patient_id, **extra}
    for arg_name, arg in zip(names, args, strict=True):
        if arg_name == "*":
            values.update(fields(arg))
        elif arg is not None:
            values[arg_name] = str(arg) if arg_name in {"prison_number", "pnc_id"} else arg
    return kind(**values)
