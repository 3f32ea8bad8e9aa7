"""Value sets as data: every coded choice the care record accepts, in one place.

SNOMED CT concept ids come from ../shared/DOMAIN.md ("check terms before release").
Local codes (snake_case) are SONAR's own where no national code was given.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from sonar.domain.errors import InvalidValue


@dataclass(frozen=True)
class ValueSet:
    """A named, closed set of codes with display terms; unknown codes are a clear 422."""

    name: str
    terms: Mapping[str, str]

    def check(self, code: str, *, field: str) -> str:
        if code not in self.terms:
            raise InvalidValue(
                f"'{code}' is not a code in value set {self.name}.",
                rule=f"{self.name}.unknown_code",
                field=field,
            )
        return code

    def display(self, code: str) -> str:
        return self.terms[code]

    def __iter__(self) -> Iterator[str]:
        return iter(self.terms)

    def __contains__(self, code: object) -> bool:
        return code in self.terms


def _vs(name: str, **terms: str) -> ValueSet:
    return ValueSet(name, dict(terms))


SEX = _vs("sex", male="Male", female="Female", other="Other", not_known="Not known")

SETTING = _vs(
    "setting",
    community="Community",
    police_custody="Police custody",
    prison="Prison",
)

POLICE_CUSTODY_OUTCOME = _vs(
    "police_custody_outcome",
    released_no_further_action="Released, no further action",
    released_on_bail="Released on bail",
    released_under_investigation="Released under investigation",
    remanded_to_court="Charged and held for court",
)

RELEASE_TYPE = _vs(
    "release_type",
    licence="Released on licence",
    end_of_sentence="Released at sentence end",
    bail="Released on bail",
    court="Released from court",
    home_detention_curfew="Home detention curfew",
)

RECALL_TYPE = _vs(
    "recall_type",
    fixed_term_14="Fixed-term recall (14 days)",
    fixed_term_28="Fixed-term recall (28 days)",
    standard="Standard recall",
)

REFERRAL_SOURCE = _vs(
    "referral_source",
    self="Self",
    reception_screen="Reception screen",
    healthcare="Healthcare",
    custody_staff="Custody staff",
    court="Court",
    community_service="Community service",
)

SUBSTANCE = _vs(
    "substance",
    alcohol="Alcohol",
    heroin="Heroin / illicit opioids",
    methadone_illicit="Methadone (illicit)",
    buprenorphine_illicit="Buprenorphine (illicit)",
    crack="Crack cocaine",
    cocaine="Cocaine powder",
    amphetamines="Amphetamines",
    cannabis="Cannabis",
    benzodiazepines="Benzodiazepines",
    synthetic_cannabinoids="Synthetic cannabinoid receptor agonists (spice)",
    pregabalin_gabapentin="Pregabalin / gabapentin",
    ketamine="Ketamine",
    other="Other",
)

INJECTING_STATUS = _vs(
    "injecting_status",
    currently="Currently injecting (226034001 Injecting drug user)",
    previously="Previously injected (416479009)",
    never="Never injected (413096007)",
    declined="Declined to answer",
)

INJECTING_STATUS_SNOMED: Mapping[str, str] = {
    "currently": "226034001",
    "previously": "416479009",
    "never": "413096007",
}

REFERRAL_OUTCOME = _vs(
    "referral_outcome",
    accepted="Accepted",
    declined_by_patient="Declined by patient",
    not_appropriate="Not appropriate",
    referred_elsewhere="Referred elsewhere",
)

DUAL_DIAGNOSIS = _vs("dual_diagnosis", yes="Yes", no="No", declined="Declined to answer")

RISK_LEVEL = _vs("risk_level", low="Low", medium="Medium", high="High")

NAMED_RISK = _vs(
    "named_risk",
    opiate_withdrawal="Opiate withdrawal",
    alcohol_withdrawal="Alcohol withdrawal",
    overdose="Overdose",
    self_harm_suicide="Self-harm / suicide",
    violence="Violence",
    blood_borne_virus="Blood-borne virus",
    other="Other",
)

BRIEF_INTERVENTION = _vs(
    "brief_intervention",
    alcohol_brief_advice="Alcohol brief advice (366371000000105)",
    drug_brief_intervention="Drug brief intervention",
    harm_reduction_advice="Harm reduction advice",
    overdose_awareness="Overdose awareness and naloxone training",
)

BRIEF_INTERVENTION_OUTCOME = _vs(
    "brief_intervention_outcome",
    completed="Completed",
    partially_completed="Partially completed",
    declined="Declined by patient",
)

REVIEW_KIND = _vs(
    "review_kind", day_5="5-day review", day_28="28-day review", week_13="13-week review"
)

REVIEW_OUTCOME = _vs(
    "review_outcome",
    completed="Completed",
    did_not_attend="Did not attend (413989008)",
    declined="Declined by patient",
    not_possible="Not possible (e.g. at court, in hospital)",
)

# Interventions a care plan agrees, by SNOMED CT concept id.
INTERVENTION = _vs(
    "intervention",
    **{
        "304681000000107": "Opioid agonist substitution therapy",
        "304721000000100": "Opioid antagonist therapy",
        "299941000000103": "Substance misuse structured counselling",
        "366371000000105": "Brief intervention for excessive alcohol consumption completed",
        "recovery_support": "Recovery support (mutual aid, peer support)",
        "alcohol_detoxification": "Alcohol detoxification",
        "benzodiazepine_detoxification": "Benzodiazepine detoxification",
        "harm_reduction": "Harm reduction (naloxone, BBV testing)",
    },
)

EXIT_REASON = _vs(
    "exit_reason",
    completed_free_of_dependency="Completed - free of dependency",
    completed="Completed",
    transferred_not_in_custody="Transferred - not in custody",
    transferred_in_custody="Transferred - in custody",
    dropped_out="Dropped out / left",
    declined="Declined",
    treatment_withdrawn="Treatment withdrawn",
    died="Died",
    incomplete_not_known="Incomplete / not known",
)

# SNOMED codes recorded when an episode ends, for outcome reports.
EXIT_REASON_SNOMED: Mapping[str, str] = {
    "completed_free_of_dependency": "201101000000101",
    "completed": "201101000000101",
    "treatment_withdrawn": "201091000000109",
    "declined": "299881000000104",
}

PURPOSE_OF_USE = _vs(
    "purpose_of_use",
    direct_care="Direct care",
    break_glass="Emergency access (break glass)",
    audit="Audit",
    **{"import": "Import from another system"},
    scheduled="Scheduled system action",
)

SOURCE = _vs("source", api="API", scheduler="Scheduler", **{"import": "Import"})

ROLE = _vs(
    "role",
    custody_nurse="Custody nurse / healthcare professional",
    prison_clinician="Prison primary care clinician",
    sms_worker="Substance misuse worker",
    mental_health="Mental health in-reach",
    probation="Probation officer",
    community_clinician="Community clinician",
    auditor="Auditor",
    analyst="Analyst",
    admin="Administrator",
    patient="Patient",
    system="SONAR system",
)

# Key SNOMED CT concepts from DOMAIN.md, for coded referrals and reports.
SNOMED: Mapping[str, str] = {
    "201521000000104": "Referral to substance misuse service",
    "304301000000105": "Self referral to substance misuse service",
    "414501008": "Initial substance misuse assessment",
    "414283008": "Follow up substance misuse assessment",
    "415659002": "Substance misuse clinical management plan agreed",
    "198861000000103": "Substance misuse clinical management plan reviewed",
    "744857009": "Under care of drug misuse service",
    "413989008": "Did not attend substance misuse clinic",
    "304681000000107": "Opioid agonist substitution therapy",
    "304721000000100": "Opioid antagonist therapy",
    "299941000000103": "Substance misuse structured counselling",
    "201101000000101": "Substance misuse treatment programme completed",
    "201091000000109": "Substance misuse treatment withdrawn",
    "299881000000104": "Substance misuse treatment declined",
    "366371000000105": "Brief intervention for excessive alcohol consumption completed",
    "66590003": "Alcohol dependence",
    "75544000": "Opioid dependence",
    "87132004": "Opioid withdrawal",
    "191816009": "Drug dependence",
    "31956009": "Cocaine dependence",
    "85005007": "Cannabis dependence",
    "231473004": "Benzodiazepine dependence",
    "226034001": "Injecting drug user",
    "416479009": "Previously injecting drug user",
    "413096007": "Never injecting drug user",
}
