"""Forms for the SMS pathway after reception, release planning and break-glass.

Field names are the API's (``schemas/pathway.py``, ``schemas/reset.py``,
``schemas/access.py``), so a problem the API names lands beside the input it concerns.
Required yes/no questions stay blank until answered: a missed question is never a "No".
"""

from __future__ import annotations

from sonar.domain import codes
from sonar.domain.reset import APPOINTMENT_KIND
from sonar.ui._forms import Field, Form, Kind, Section, options

_NOTES = Field("notes", "Notes", Kind.TEXTAREA)


def _yes_no(name: str, label: str) -> Field:
    return Field(name, label, Kind.YES_NO, required=True)


RECEPTION_SCREEN = Form("Reception health screen", (
    Section("Screening questions", (
        _yes_no("physical_health_concern", "Physical health concern"),
        _yes_no("alcohol_use", "Alcohol use"),
        _yes_no("substance_use", "Drug or other substance use"),
        _yes_no("withdrawal_symptoms", "Withdrawal symptoms"),
        _yes_no("mental_health_concern", "Mental health concern"),
        _yes_no("self_harm_risk", "Risk of self-harm or suicide"),
        _yes_no("acct_opened", "ACCT opened (self-harm and suicide care plan)"),
    )),
    Section("Medicines", (
        Field("medicines", "Current medicines", Kind.LINES,
              hint="One medicine a line, with its dose. Leave blank if none."),
        Field("next_dose_due", "Next dose due", Kind.DATETIME,
              hint="UK time. Leave blank if no dose is due."),
    )),
    Section("Next steps", (
        Field("refer_to_sms", "Refer to the substance misuse service", Kind.CHECKBOX),
        _NOTES,
    )),
), "Save reception screen")

DUAL_DIAGNOSIS = Form("Dual diagnosis", (Section("", (
    Field("status", "Co-occurring mental health condition", Kind.SELECT,
          options(codes.DUAL_DIAGNOSIS.terms), required=True),
    Field("mental_health_service", "Mental health service involved (if any)", width="w-20"),
    _NOTES,
)),), "Save dual diagnosis")

RISK_ASSESSMENT = Form("Risk assessment", (Section("", (
    Field("level", "Risk level", Kind.SELECT, options(codes.RISK_LEVEL.terms), required=True),
    Field("risks", "Named risks", Kind.CHECKBOXES, options(codes.NAMED_RISK.terms),
          hint="Tick every risk that applies."),
    Field("acct_open", "ACCT open (self-harm and suicide care plan)", Kind.CHECKBOX),
    Field("other_risk", "Other risk (if other is ticked)", width="w-20"),
    _NOTES,
)),), "Save risk assessment")

CASELOAD_ASSIGNMENT = Form("Assign to a caseload", (Section("", (
    Field("worker_id", "Named worker", required=True, width="w-20",
          hint="Their SONAR username. You are filled in; change it to assign someone else."),
    Field("site", "Site", required=True, width="w-20"),
)),), "Assign")

BRIEF_INTERVENTION = Form("Brief intervention", (Section("", (
    Field("intervention", "Intervention", Kind.SELECT, options(codes.BRIEF_INTERVENTION.terms),
          required=True),
    Field("outcome", "Outcome", Kind.SELECT, options(codes.BRIEF_INTERVENTION_OUTCOME.terms),
          required=True),
    _NOTES,
)),), "Save brief intervention")

CARE_PLAN = Form("Care plan", (Section("", (
    Field("goals", "Goals", Kind.LINES, required=True,
          hint="One goal a line, in the person's own words where possible."),
    Field("interventions", "Agreed interventions", Kind.CHECKBOXES,
          options(codes.INTERVENTION.terms)),
    Field("named_worker", "Named worker", required=True, width="w-20"),
    Field("next_review_date", "Next review date", Kind.DATE, required=True),
)),), "Save care plan", intro="Saving revises the care plan; earlier revisions are kept.")

DISCHARGE = Form("Discharge", (Section("", (
    Field("exit_reason", "Exit reason", Kind.SELECT, options(codes.EXIT_REASON.terms),
          required=True),
    Field("destination", "Destination (if known)", width="w-20"),
    _NOTES,
)),), "Discharge")

RELEASE_PLAN = Form("Release plan", (
    Section("Release", (
        Field("expected_release_date", "Expected release date", Kind.DATE, required=True),
        Field("release_area", "Release area", required=True, width="w-20",
              hint="The town or local authority area the person is released to."),
    )),
    Section("Continuity of care", (
        _yes_no("gp_registered", "Registered with a GP"),
        Field("gp_practice", "GP practice (if registered)", width="w-20"),
        _yes_no("community_treatment_referral", "Referred to community treatment"),
        Field("community_service", "Community treatment service (if referred)", width="w-20"),
        _yes_no("reconnect_referral", "Referred to RECONNECT"),
    )),
    Section("Medicines on release", (
        Field("medicines", "Medicines supplied", Kind.LINES, columns=("name", "days"),
              hint="One a line: the medicine, a comma, then days supplied (0 to 28). "
                   "For example: Mirtazapine 15mg, 14. Leave blank if none."),
        Field("ost_bridging", "Opioid substitution therapy (OST) bridging prescription",
              Kind.CHECKBOX),
        _yes_no("naloxone_supplied", "Naloxone supplied"),
    )),
), "Save release plan", intro="Saving revises any earlier plan; earlier plans are kept.")

APPOINTMENT = Form("Book an appointment after release", (Section("", (
    Field("kind", "Appointment with", Kind.SELECT, options(APPOINTMENT_KIND.terms),
          required=True),
    Field("agency", "Agency", required=True, width="w-20"),
    Field("agency_contact", "Contact at the agency (if known)", width="w-20"),
    Field("starts_at", "Starts", Kind.DATETIME, required=True, hint="UK time."),
    Field("ends_at", "Ends", Kind.DATETIME, required=True, hint="UK time."),
    Field("place", "Place", required=True, width="w-20"),
)),), "Book appointment")

BREAK_GLASS = Form("Break glass to open this record", (Section("", (
    Field("reason", "Why you must see this record now", Kind.TEXTAREA, required=True,
          hint="At least 10 characters. Your access and this reason are reviewed."),
)),), "Break glass and open the record",
    intro="Break glass only in an emergency, when you must see this record now to care for "
          "the patient. It opens the record to you for a few hours.")

REFUSALS = {
    "access.no_relationship": "You do not have a legitimate relationship with this patient: "
                              "they are not, and have not recently been, at your site or on "
                              "your caseload.",
    "access.dissent": "The patient has not agreed to share their record with your "
                      "organisation.",
}
"""Why the API refused to open a record, when breaking glass is the way in."""
