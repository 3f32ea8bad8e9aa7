"""The release summary (handover pack) built from the record at release, as JSON or HTML."""

from __future__ import annotations

from html import escape
from pathlib import Path
from typing import Any

from fpdf import FPDF

from sonar.domain.care_record import CareRecord
from sonar.domain.pathway import CarePlan, DualDiagnosis, ReceptionScreen, RiskAssessment
from sonar.readmodels.derive import current_episode, latest_value
from sonar.readmodels.record_view import plain


def release_summary(record: CareRecord) -> dict[str, Any]:
    episode = current_episode(record)
    risk = latest_value(episode, RiskAssessment) if episode else None
    dual = latest_value(episode, DualDiagnosis) if episode else None
    plan = latest_value(episode, CarePlan) if episode else None
    screens = [e.value for e in record.screens
               if e.in_error is None and isinstance(e.value, ReceptionScreen)]
    release = record.release_plans[-1] if record.release_plans else None
    return {
        "patient_id": str(record.id),
        "name": f"{record.demographics.given_name} {record.demographics.family_name}",
        "date_of_birth": record.demographics.date_of_birth.isoformat(),
        "nhs_number": str(record.identity.nhs_number) if record.identity.nhs_number else None,
        "prison_number": (str(record.identity.prison_number)
                          if record.identity.prison_number else None),
        "setting": record.journey.setting, "location": record.journey.location,
        "risk": {"level": risk.level if risk else None,
                 "named_risks": list(risk.risks) if risk else []},
        "needs": {
            "substances": list(episode.referral.substances) if episode else [],
            "dual_diagnosis": dual.status if dual else None,
            "mental_health_concern": any(s.mental_health_concern for s in screens),
            "self_harm_risk": any(s.self_harm_risk for s in screens),
        },
        "release_plan": plain(release) if release else None,
        "care_plan": plain(plan) if plan else None,
        "appointments": [plain(d.appointment) | {"status": d.status}
                         for d in record.diary.values() if d.status == "booked"],
        "contacts": [{"family_member": name, "relationship": c.relationship,
                      "channel": c.channel, "address": c.address}
                     for name, c in record.family_notification_consents.items()],
    }


def release_summary_html(summary: dict[str, Any]) -> str:
    """A printable page; every value is escaped."""
    def row(label: str, value: Any) -> str:
        return f"<tr><th scope=row>{escape(label)}</th><td>{escape(str(value))}</td></tr>"

    plan = summary["release_plan"] or {}
    rows = [row("Name", summary["name"]), row("Date of birth", summary["date_of_birth"]),
            row("NHS number", summary["nhs_number"] or "not known"),
            row("Risk level", summary["risk"]["level"] or "not assessed"),
            row("Named risks", ", ".join(summary["risk"]["named_risks"]) or "none"),
            row("Substances", ", ".join(summary["needs"]["substances"]) or "none"),
            row("Dual diagnosis", summary["needs"]["dual_diagnosis"] or "not assessed"),
            row("Naloxone supplied", "yes" if plan.get("naloxone_supplied") else "no"),
            row("Medicines supplied", ", ".join(
                f"{m['name']} ({m['days']} days)" for m in plan.get("medicines", [])) or "none"),
            row("GP", plan.get("gp_practice") or "not registered")]
    appointments = "".join(
        f"<li>{escape(a['starts_at'])}: {escape(a['kind'])} with {escape(a['agency'])} at "
        f"{escape(a['place'])}</li>" for a in summary["appointments"])
    return ("<!doctype html><html lang=en><meta charset=utf-8><title>Release summary</title>"
            "<style>body{font:16px/1.4 sans-serif;margin:2em}th{text-align:left;padding-right:"
            "1em}@media print{body{margin:0}}</style><h1>Release summary</h1><table>"
            + "".join(rows) + "</table><h2>Appointments</h2><ul>" + (appointments or
                                                                     "<li>none booked</li>")
            + "</ul></html>")


_UNICODE_FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")


def release_summary_pdf(summary: dict[str, Any]) -> bytes:
    """The same handover pack as a PDF for services that file paper.

    Uses DejaVu Sans when the system has it (any script); otherwise the PDF core font,
    with characters outside Latin-1 shown as "?" rather than failing.
    """
    pdf = FPDF(format="A4")
    pdf.add_page()
    if _UNICODE_FONT.exists():
        pdf.add_font("body", fname=str(_UNICODE_FONT))
        family = "body"

        def text(value: Any) -> str:
            return str(value)
    else:
        family = "helvetica"

        def text(value: Any) -> str:
            return str(value).encode("latin-1", "replace").decode("latin-1")

    pdf.set_font(family, size=18)
    pdf.cell(0, 12, text("Release summary"), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(family, size=11)
    plan = summary["release_plan"] or {}
    lines = [
        ("Name", summary["name"]), ("Date of birth", summary["date_of_birth"]),
        ("NHS number", summary["nhs_number"] or "not known"),
        ("Prison number", summary["prison_number"] or "not known"),
        ("Risk level", summary["risk"]["level"] or "not assessed"),
        ("Named risks", ", ".join(summary["risk"]["named_risks"]) or "none"),
        ("Substances", ", ".join(summary["needs"]["substances"]) or "none"),
        ("Dual diagnosis", summary["needs"]["dual_diagnosis"] or "not assessed"),
        ("Naloxone supplied", "yes" if plan.get("naloxone_supplied") else "no"),
        ("Medicines supplied", ", ".join(f"{m['name']} ({m['days']} days)"
                                         for m in plan.get("medicines", [])) or "none"),
        ("GP", plan.get("gp_practice") or "not registered"),
        ("Community treatment", plan.get("community_service") or "not referred"),
    ]
    for label, value in lines:
        pdf.multi_cell(0, 7, text(f"{label}: {value}"), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(family, size=14)
    pdf.cell(0, 10, text("Appointments"), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(family, size=11)
    for a in summary["appointments"] or [{"starts_at": "", "kind": "none booked",
                                          "agency": "", "place": ""}]:
        pdf.multi_cell(0, 7, text(f"{a['starts_at'][:16]} {a['kind']} {a['agency']} "
                                  f"{a['place']}".strip()), new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())
