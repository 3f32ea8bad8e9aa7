"""More of the clinician's UI in a real browser: a care plan, break-glass, and axe-core on
the newer pages (pathway forms, filtered timeline, reports with their SVG charts)."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import Any

from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import Server
from tests.browser.test_clinician_journey import _accepted_patient, _api, _signed_in

_IN_4_WEEKS = (date.today() + timedelta(weeks=4)).isoformat()


def serious_violations(page: Page, axe_source: str) -> list[Any]:
    page.add_script_tag(content=axe_source)
    results = page.evaluate("""() => axe.run(document, {runOnly: {type: 'tag', values:
        ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa', 'best-practice']}})""")
    return [(v["id"], v["help"], [n["target"] for n in v["nodes"]][:3])
            for v in results["violations"] if v["impact"] in ("serious", "critical")]


def test_a_care_plan_without_goals_is_refused_beside_goals_then_saved(
        browser: Browser, server: Server, artifacts: Path) -> None:
    patient_id = _accepted_patient(server)
    page = _signed_in(browser, server)
    page.goto(f"/ui/patients/{patient_id}")
    page.get_by_role("link", name="Revise the care plan").click()
    expect(page.get_by_label("Named worker")).to_have_value(server.username)
    page.get_by_label("Opioid agonist substitution therapy").check()
    page.get_by_label("Next review date").fill(_IN_4_WEEKS)
    page.get_by_role("button", name="Save care plan").click()

    expect(page.get_by_role("alert").get_by_role("link")).to_have_attribute("href", "#f-goals")
    expect(page.locator("#f-goals-error")).to_contain_text("at least one goal")
    expect(page.get_by_label("Opioid agonist substitution therapy")).to_be_checked()
    page.screenshot(path=artifacts / "07-care-plan-refused.png", full_page=True)

    page.get_by_label("Goals").fill("Stay on a stable script\nRegister with a GP before release")
    page.get_by_role("button", name="Save care plan").click()
    expect(page.get_by_role("status")).to_contain_text("Care plan saved")
    with _api(server) as api:
        (plan,) = api.get(f"/patients/{patient_id}/timeline",
                          params={"event_type": "CarePlanRevised"}).json()["items"]
    assert plan["payload"]["plan"]["goals"] == ["Stay on a stable script",
                                                "Register with a GP before release"]


def test_a_clinician_elsewhere_breaks_glass_with_a_reason(
        browser: Browser, server: Server, axe_source: str, artifacts: Path) -> None:
    patient_id = _accepted_patient(server)
    page = _signed_in(browser, server, server.elsewhere)
    page.goto(f"/ui/patients/{patient_id}")
    expect(page.get_by_role("heading", name="Break glass to open this record")).to_be_visible()
    expect(page.locator(".warning-text")).to_contain_text("legitimate relationship")
    assert serious_violations(page, axe_source) == []

    page.get_by_label("Why you must see this record now").fill("Too short")
    page.get_by_role("button", name="Break glass and open the record").click()
    expect(page.locator("#f-reason-error")).to_be_visible()

    page.get_by_label("Why you must see this record now").fill(
        "Found unresponsive on transfer, overdose suspected")
    page.get_by_role("button", name="Break glass and open the record").click()
    expect(page.locator("#break-glass-notice")).to_contain_text("Break-glass access until")
    expect(page.get_by_label("Patient")).to_contain_text("WARD")
    page.screenshot(path=artifacts / "08-break-glass-record.png", full_page=True)


def test_newer_pages_have_no_serious_accessibility_violations(
        browser: Browser, server: Server, axe_source: str, artifacts: Path) -> None:
    patient_id = _accepted_patient(server)
    with _api(server) as api:
        for stage, answers in (("start", {"opiates_days": 28, "psychological_health": 6}),
                               ("review", {"opiates_days": 9, "psychological_health": 12})):
            assert api.post(f"/patients/{patient_id}/episodes/1/tops",
                            json={"stage": stage, "answers": answers}).status_code == 201
    page = _signed_in(browser, server)
    found: dict[str, Any] = {}
    for name, path, submit in (
            ("release-plan-refused", f"/ui/patients/{patient_id}/plan-release",
             "Save release plan"),
            ("record-reception-screen", f"/ui/patients/{patient_id}/record-reception-screen", None),
            ("assess-risk", f"/ui/patients/{patient_id}/episodes/1/assess-risk", None),
            ("timeline-filtered", f"/ui/patients/{patient_id}?kind=treatment&from=2026-13-01",
             None),
            ("workforce", "/ui/reports/workforce", None),
            ("outcomes", "/ui/reports/outcomes", None),
            ("top-trajectory", f"/ui/reports/top-trajectory/{patient_id}", None)):
        page.goto(path)
        if submit:
            page.get_by_role("button", name=submit).click()
            expect(page.get_by_role("alert")).to_be_visible()
        found[name] = serious_violations(page, axe_source)
        page.screenshot(path=artifacts / f"09-axe-{name}.png", full_page=True)
    assert {name: v for name, v in found.items() if v} == {}
