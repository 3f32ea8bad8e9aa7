"""What the NDTMS extract answers in JSON: the return's rows and the validation report.

The row has the columns of ``sonar.reports.ndtms.COLUMNS``, in that order (a test holds them
together); docs/ndtms.md maps each to its source. A cell is null when the item was not
answered or not recorded; 0 is an answer.
"""

from __future__ import annotations

from datetime import date
from uuid import UUID

from pydantic import ConfigDict, Field

from sonar.api.schemas.common import Answer, Day
from sonar.domain.top import TopValue


class NdtmsRow(Answer):
    """One SMS episode overlapping the period, as at its last day."""

    client_ref: str = Field(description="Pseudonymous client reference (HMAC of the patient "
                                        "id): stable across returns, not reversible.")
    episode: int
    site: str | None
    sex: str
    date_of_birth: date
    referral_date: date
    referral_source: str
    referral_outcome: str | None
    triage_date: date | None
    care_plan_start_date: date | None
    days_in_treatment: int | None
    drug_1: str | None
    drug_2: str | None
    drug_3: str | None
    injecting_status: str
    dual_diagnosis: str | None
    pharmacological_start: date | None
    pharmacological_end: date | None
    pharmacological_exit: str | None
    psychosocial_start: date | None
    psychosocial_end: date | None
    psychosocial_exit: str | None
    recovery_support_start: date | None
    recovery_support_end: date | None
    recovery_support_exit: str | None
    discharge_date: date | None
    discharge_reason: str | None
    discharge_destination: str | None
    top_start_date: date | None
    top_start_before_custody: bool | None
    top_alcohol_days: TopValue
    top_alcohol_amount: TopValue
    top_opiates_days: TopValue
    top_opiates_amount: TopValue
    top_crack_days: TopValue
    top_crack_amount: TopValue
    top_cocaine_days: TopValue
    top_cocaine_amount: TopValue
    top_amphetamines_days: TopValue
    top_amphetamines_amount: TopValue
    top_cannabis_days: TopValue
    top_cannabis_amount: TopValue
    top_other_days: TopValue
    top_other_amount: TopValue
    top_tobacco_days: TopValue
    top_tobacco_amount: TopValue
    top_injecting_days: TopValue
    top_shared_needles: TopValue
    top_shared_other_equipment: TopValue
    top_shoplifting_days: TopValue
    top_drug_selling_days: TopValue
    top_other_theft_days: TopValue
    top_assault_violence_count: TopValue
    top_psychological_health: TopValue
    top_physical_health: TopValue
    top_quality_of_life: TopValue
    top_paid_work_days: TopValue
    top_education_days: TopValue
    top_acute_housing_problem: TopValue
    top_at_risk_of_eviction: TopValue
    top_other_substance_name: str | None
    prison_reception_date: date | None
    prison_exit_date: date | None
    prison_exit_reason: str | None
    exit_destination: str | None
    referral_on_release: bool | None


class NdtmsProblem(Answer):
    """A mandatory item an episode is missing, for the team to fix before the return."""

    client_ref: str
    episode: int
    site: str | None
    field: str = Field(description="The missing column, e.g. triage_date.")
    rule: str = Field(description="e.g. ndtms.missing.triage_date.")
    detail: str = Field(description="What to record.")
    patient_id: UUID = Field(description="So the team can open the record.")


class NdtmsReport(Answer):
    """The NDTMS return's rows for a period, and what to fix before submitting it."""

    model_config = ConfigDict(populate_by_name=True)

    from_: Day = Field(alias="from", description="First day of the period (included).")
    to: Day = Field(description="Last day of the period (included).")
    site: str | None = Field(description="The site asked for; null for every site.")
    rows: list[NdtmsRow]
    problems: list[NdtmsProblem]
