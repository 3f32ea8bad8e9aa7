"""The clinical forms the UI offers, in clinic language, and which API step each one takes.

Code lists and TOP items come from the domain's published definitions (labels and ranges),
so the form always asks every item the API accepts; the data itself still goes via the API.
"""

from __future__ import annotations

from dataclasses import dataclass

from sonar.domain import codes
from sonar.domain.top import TOP_ITEMS, TOP_STAGE, ItemKind
from sonar.ui._forms import Field, Form, Kind, Section, options
from sonar.ui._pathway_forms import (
    APPOINTMENT,
    BREAK_GLASS,
    BRIEF_INTERVENTION,
    CARE_PLAN,
    CASELOAD_ASSIGNMENT,
    DISCHARGE,
    DUAL_DIAGNOSIS,
    RECEPTION_SCREEN,
    RELEASE_PLAN,
    RISK_ASSESSMENT,
)

SIGN_IN = Form("Sign in to SONAR", (Section("", (
    Field("username", "Username", required=True, width="w-20"),
    Field("password", "Password", Kind.PASSWORD, required=True, width="w-20"),
)),), "Sign in")

SEARCH = Form("Find a patient", (Section("", (
    Field("nhs_number", "NHS number", hint="10 digits, for example 943 476 5919",
          width="w-10"),
    Field("prison_number", "Prison number", hint="For example, A1234BC", width="w-10"),
    Field("family_name", "Family name", hint="With date of birth", width="w-20"),
    Field("date_of_birth", "Date of birth", Kind.DATE),
)),), "Search", intro="Search by NHS number, prison number, or family name with date of birth.")

REGISTER = Form("Register a patient", (Section("", (
    Field("given_name", "Given name", required=True, width="w-20"),
    Field("family_name", "Family name", required=True, width="w-20"),
    Field("date_of_birth", "Date of birth", Kind.DATE, required=True),
    Field("sex", "Sex", Kind.SELECT, options(codes.SEX.terms), required=True),
    Field("nhs_number", "NHS number (if known)", width="w-10"),
    Field("prison_number", "Prison number (if known)", width="w-10"),
)),), "Register patient")

_SUBSTANCES = tuple((c, t) for c, t in codes.SUBSTANCE.terms.items())


@dataclass(frozen=True)
class Step:
    """A clinical step on one patient: its form and the API route it posts to."""

    slug: str
    form: Form
    api: str  # under /api/v1/patients/{patient_id}; ``{episode}`` for episode steps
    done: str  # the confirmation shown on the record afterwards
    link: str = ""  # the record page's link to this step; "" when not offered there

    @property
    def episodic(self) -> bool:
        return "{episode}" in self.api


def _top_field(code: str, label: str, kind: ItemKind, minimum: float, maximum: float,
               unit: str) -> Field:
    if kind is ItemKind.YES_NO:
        return Field(code, label, Kind.YES_NO, api=f"answers.{code}")
    bounds = f"{minimum:g} to {maximum:g}" + (f" {unit}" if unit else "")
    return Field(code, label, Kind.NUMBER, hint=f"{bounds}. Leave blank if not answered.",
                 api=f"answers.{code}", width="w-5")


_TOP_SECTIONS = {"substance": "Substance use in the past 28 days",
                 "injecting": "Injecting risk behaviour", "crime": "Crime",
                 "health": "Health and social functioning"}

TOP = Form("Treatment Outcomes Profile (TOP)", (
    Section("About this TOP", (
        Field("stage", "TOP stage", Kind.SELECT, options(TOP_STAGE.terms), required=True),
        Field("before_custody", "Answers are about the 4 weeks before custody", Kind.CHECKBOX),
        Field("other_substance_name", "Name of other substance (if used)", width="w-20"),
    )),
    *(Section(legend, tuple(
        _top_field(i.code, i.label, i.kind, i.minimum, i.maximum, i.unit)
        for i in TOP_ITEMS if i.section == section)) for section, legend in _TOP_SECTIONS.items()),
), "Save TOP", intro="Leave an item blank if it was not answered: 0 is an answer.")

STEPS: dict[str, Step] = {s.slug: s for s in (
    Step("reception", Form("Receive into prison", (Section("", (
        Field("establishment", "Establishment", required=True, width="w-20"),
        Field("prison_number", "Prison number", hint="For example, A1234BC", width="w-10"),
    )),), "Record reception"), "/custody/prison-receptions", "Reception into prison recorded",
        "Receive into prison"),
    Step("reception-screen", RECEPTION_SCREEN, "/reception-screens",
         "Reception health screen recorded", "Record the reception health screen"),
    Step("referral", Form("Refer to substance misuse services", (Section("", (
        Field("source", "Referral source", Kind.SELECT, options(codes.REFERRAL_SOURCE.terms),
              required=True),
        Field("substances", "Substances (primary first)", Kind.CHECKBOXES, _SUBSTANCES),
        Field("injecting_status", "Injecting status", Kind.SELECT,
              options(codes.INJECTING_STATUS.terms), required=True),
        Field("previously_treated", "Previously treated for substance misuse", Kind.CHECKBOX),
        Field("notes", "Notes", Kind.TEXTAREA),
    )),), "Refer"), "/referrals", "Referral recorded", "Refer to substance misuse services"),
    Step("release-plan", RELEASE_PLAN, "/release-plans", "Release plan recorded",
         "Plan release"),
    Step("appointment", APPOINTMENT, "/appointments", "Appointment booked",
         "Book an appointment after release"),
    Step("break-glass", BREAK_GLASS, "/break-glass", "Break-glass access granted"),
    Step("referral-outcome", Form("Referral outcome", (Section("", (
        Field("outcome", "Outcome", Kind.SELECT, options(codes.REFERRAL_OUTCOME.terms),
              required=True),
        Field("referred_to", "Referred on to (if onward referral)", width="w-20"),
        Field("reason", "Reason", Kind.TEXTAREA),
    )),), "Record outcome"), "/episodes/{episode}/referral-outcome", "Referral outcome recorded",
        "Record the referral outcome"),
    Step("dual-diagnosis", DUAL_DIAGNOSIS, "/episodes/{episode}/dual-diagnoses",
         "Dual diagnosis recorded", "Record dual diagnosis"),
    Step("risk-assessment", RISK_ASSESSMENT, "/episodes/{episode}/risk-assessments",
         "Risk assessment recorded", "Assess risk"),
    Step("caseload-assignment", CASELOAD_ASSIGNMENT, "/episodes/{episode}/caseload-assignments",
         "Caseload assigned", "Assign to a caseload"),
    Step("brief-intervention", BRIEF_INTERVENTION, "/episodes/{episode}/brief-interventions",
         "Brief intervention recorded", "Record a brief intervention"),
    Step("top", TOP, "/episodes/{episode}/tops", "TOP recorded", "Record a TOP"),
    Step("review", Form("Review", (Section("", (
        Field("kind", "Review", Kind.SELECT, options(codes.REVIEW_KIND.terms), required=True),
        Field("outcome", "Outcome", Kind.SELECT, options(codes.REVIEW_OUTCOME.terms),
              required=True),
        Field("notes", "Notes", Kind.TEXTAREA),
    )),), "Record review"), "/episodes/{episode}/reviews", "Review recorded", "Record a review"),
    Step("care-plan", CARE_PLAN, "/episodes/{episode}/care-plans", "Care plan saved",
         "Revise the care plan"),
    Step("discharge", DISCHARGE, "/episodes/{episode}/discharge", "Episode discharged",
         "Discharge"),
)}


def review_label(kind: str | None) -> str:
    return codes.REVIEW_KIND.terms.get(kind or "", kind or "")


def alert_label(alert: str) -> str:
    """``review_overdue:day_5`` → "Review overdue: 5-day review"."""
    name, _, detail = alert.partition(":")
    text = name.replace("_", " ").capitalize()
    return f"{text}: {review_label(detail)}" if detail else text
