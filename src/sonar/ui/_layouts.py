"""Where a form made from a command reads better with its fields grouped, a title, a
button or an introduction of its own. Every other step's form is its command's fields in
order, with a "Save" button."""

from __future__ import annotations

from dataclasses import dataclass

from sonar.commands.access import BreakGlass
from sonar.commands.base import Command
from sonar.commands.journey import ReceiveIntoPrison
from sonar.commands.pathway import (
    RecordReceptionScreen,
    RecordReferralOutcome,
    ReferToSms,
    ReviseCarePlan,
)
from sonar.commands.record import RegisterPatient
from sonar.commands.reset import BookAppointment, PlanRelease


@dataclass(frozen=True)
class Layout:
    """``sections``: (legend, field names) in order; every body field must be placed."""

    sections: tuple[tuple[str, tuple[str, ...]], ...] = ()
    title: str = ""
    submit: str = ""
    intro: str = ""


LAYOUTS: dict[type[Command], Layout] = {
    RegisterPatient: Layout(sections=(("", (
        "given_name", "family_name", "date_of_birth", "sex", "nhs_number", "prison_number")),),
        submit="Register patient"),
    ReceiveIntoPrison: Layout(submit="Record reception"),
    RecordReceptionScreen: Layout(sections=(
        ("Screening questions", ("physical_health_concern", "alcohol_use", "substance_use",
                                 "withdrawal_symptoms", "mental_health_concern",
                                 "self_harm_risk", "acct_opened")),
        ("Medicines", ("medicines", "next_dose_due")),
        ("Next steps", ("refer_to_sms", "notes")),
    ), title="Reception health screen", submit="Save reception screen"),
    ReferToSms: Layout(submit="Refer"),
    RecordReferralOutcome: Layout(submit="Record outcome"),
    ReviseCarePlan: Layout(submit="Save care plan",
                           intro="Saving revises the care plan; earlier revisions are kept."),
    PlanRelease: Layout(sections=(
        ("Release", ("expected_release_date", "release_area")),
        ("Continuity of care", ("gp_registered", "gp_practice",
                                "community_treatment_referral", "community_service",
                                "reconnect_referral")),
        ("Medicines on release", ("medicines", "ost_bridging", "naloxone_supplied")),
    ), title="Release plan", submit="Save release plan",
        intro="Saving revises any earlier plan; earlier plans are kept."),
    BookAppointment: Layout(submit="Book appointment"),
    BreakGlass: Layout(submit="Break glass and open the record",
                       intro="Break glass only in an emergency, when you must see this record "
                             "now to care for the patient. It opens the record to you for a "
                             "few hours."),
}

REFUSALS = {
    "access.no_relationship": "You do not have a legitimate relationship with this patient: "
                              "they are not, and have not recently been, at your site or on "
                              "your caseload.",
    "access.dissent": "The patient has not agreed to share their record with your "
                      "organisation.",
}
"""Why the API refused to open a record, when breaking glass is the way in."""
