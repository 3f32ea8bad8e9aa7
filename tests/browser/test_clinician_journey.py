"""A clinician at HMP Leeds works through the web UI in a real browser, against `sonar serve`.

They sign in, register and receive a patient, refer them and accept the referral, get a
TOP refused for one out-of-range answer (shown beside the item, nothing saved), correct
it, and find the 5-day review due on their caseload. Also: the TOP form by keyboard
alone, and axe-core finding no serious accessibility violations.
"""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import Server

_numbers = itertools.count(1000)


def _prison_number() -> str:
    return f"A{next(_numbers)}BC"


def _signed_in(browser: Browser, server: Server, username: str = "") -> Page:
    page = browser.new_context(base_url=server.url, bypass_csp=True).new_page()
    page.goto("/ui/caseload")
    expect(page).to_have_url(f"{server.url}/ui/sign-in")
    page.get_by_label("Username").fill(username or server.username)
    page.get_by_label("Password").fill(server.password)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="My caseload")).to_be_visible()
    return page


def _api(server: Server) -> httpx.Client:
    return httpx.Client(base_url=f"{server.url}/api/v1",
                        headers={"Authorization": f"Bearer {server.api_token()}"})


def _accepted_patient(server: Server) -> str:
    """A patient received at HMP Leeds and accepted for treatment, set up through the API."""
    with _api(server) as api:
        pid = str(api.post("/patients", json={
            "given_name": "Kim", "family_name": "Ward", "date_of_birth": "1985-02-14",
            "sex": "female"}).json()["patient_id"])
        for path, body in ((f"/patients/{pid}/custody/prison-receptions",
                            {"establishment": "HMP Leeds", "prison_number": _prison_number()}),
                           (f"/patients/{pid}/referrals",
                            {"source": "self", "substances": ["heroin"],
                             "injecting_status": "never", "previously_treated": False}),
                           (f"/patients/{pid}/episodes/1/referral-outcome",
                            {"outcome": "accepted"})):
            assert api.post(path, json=body).status_code == 201
    return pid


def _tops_recorded(server: Server, patient_id: str) -> list[dict[str, Any]]:
    with _api(server) as api:
        items = api.get(f"/patients/{patient_id}/timeline",
                        params={"event_type": "TopRecorded"}).json()["items"]
    return [i for i in items if i["event_type"] == "TopRecorded"]


def test_a_clinician_receives_refers_scores_and_sees_the_5_day_review_due(
        browser: Browser, server: Server, artifacts: Path) -> None:
    page = _signed_in(browser, server)
    page.screenshot(path=artifacts / "01-caseload-empty.png", full_page=True)

    page.get_by_role("link", name="Register a patient").click()
    page.get_by_label("Given name").fill("Sam")
    page.get_by_label("Family name").fill("Holt")
    page.get_by_label("Date of birth").fill("1990-05-01")
    page.get_by_label("Sex").select_option("male")
    page.get_by_role("button", name="Register patient").click()

    expect(page.get_by_label("Establishment")).to_have_value("HMP Leeds")
    prison_number = _prison_number()
    page.get_by_label("Prison number").fill(prison_number)
    page.get_by_role("button", name="Record reception").click()
    expect(page.get_by_role("status")).to_contain_text("Reception into prison recorded")
    patient_id = page.url.split("/ui/patients/")[1].split("?")[0]
    expect(page.get_by_label("Patient")).to_contain_text(prison_number)

    page.get_by_role("link", name="Refer to substance misuse services").click()
    page.get_by_label("Referral source").select_option("reception_screen")
    page.get_by_label("Heroin / illicit opioids").check()
    page.get_by_label("Injecting status").select_option("currently")
    page.get_by_label("Previously treated for substance misuse").select_option("no")
    page.get_by_role("button", name="Refer").click()
    expect(page.get_by_role("status")).to_contain_text("Referral recorded")

    page.get_by_role("link", name="Record the referral outcome").click()
    page.get_by_label("Outcome").select_option("accepted")
    page.get_by_role("button", name="Record outcome").click()
    expect(page.get_by_role("status")).to_contain_text("Referral outcome recorded")

    page.get_by_role("link", name="Record a TOP").click()
    page.get_by_label("TOP stage").select_option("start")
    page.get_by_label("Opiates / opioids (illicit): days used").fill("29")
    page.get_by_label("Crack: days used").fill("12")
    page.get_by_role("button", name="Save TOP").click()

    summary = page.get_by_role("alert")
    expect(summary).to_contain_text("There is a problem")
    expect(summary.get_by_role("link")).to_have_attribute("href", "#f-opiates_days")
    expect(page.locator("#f-opiates_days-error")).to_contain_text("between 0 and 28; got 29")
    expect(page.locator("#f-opiates_days")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#f-crack_days")).to_have_value("12")  # what was typed is kept
    page.screenshot(path=artifacts / "02-top-refused.png", full_page=True)
    assert _tops_recorded(server, patient_id) == []  # nothing was saved

    page.get_by_label("Opiates / opioids (illicit): days used").fill("28")
    page.get_by_role("button", name="Save TOP").click()
    expect(page.get_by_role("status")).to_contain_text("TOP recorded")
    page.screenshot(path=artifacts / "03-record-after-top.png", full_page=True)
    assert len(_tops_recorded(server, patient_id)) == 1

    page.get_by_role("link", name="My caseload").click()
    row = page.get_by_role("row").filter(has_text=prison_number)
    expect(row).to_contain_text("5-day review")
    expect(row.locator(".tag--due")).to_have_text("Due")
    page.screenshot(path=artifacts / "04-caseload-review-due.png", full_page=True)


def test_the_top_form_works_by_keyboard_alone(browser: Browser, server: Server,
                                              artifacts: Path) -> None:
    patient_id = _accepted_patient(server)
    page = _signed_in(browser, server)
    page.goto(f"/ui/patients/{patient_id}/episodes/1/record-top")

    def focused() -> str:
        return str(page.evaluate("document.activeElement && document.activeElement.id"))

    for _ in range(40):  # Tab through the page furniture to the first question
        page.keyboard.press("Tab")
        if focused() == "f-stage":
            break
    assert focused() == "f-stage"
    page.keyboard.type("Start")  # a closed select picks the option typed
    page.keyboard.press("Tab")  # before custody: left unticked
    page.keyboard.press("Tab")  # name of other substance: not used
    page.keyboard.press("Tab")
    assert focused() == "f-alcohol_days"
    page.keyboard.type("0")  # 0 is an answer...
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    assert focused() == "f-opiates_days"
    page.keyboard.type("14")  # ...and the items skipped stay "not answered"
    page.keyboard.press("Enter")

    expect(page.get_by_role("status")).to_contain_text("TOP recorded")
    page.screenshot(path=artifacts / "05-top-by-keyboard.png", full_page=True)
    (top,) = _tops_recorded(server, patient_id)
    assert top["payload"]["top"]["answers"]["values"] == {"alcohol_days": 0, "opiates_days": 14}


@pytest.mark.parametrize("where", ["top-refused", "record", "caseload", "search"])
def test_pages_have_no_serious_accessibility_violations(
        browser: Browser, server: Server, axe_source: str, artifacts: Path, where: str) -> None:
    patient_id = _accepted_patient(server)
    page = _signed_in(browser, server)
    if where == "top-refused":
        page.goto(f"/ui/patients/{patient_id}/episodes/1/record-top")
        page.get_by_label("Psychological health (0 poor - 20 good)").fill("25")
        page.get_by_role("button", name="Save TOP").click()
        expect(page.get_by_role("alert")).to_be_visible()
    elif where == "record":
        page.goto(f"/ui/patients/{patient_id}")
    elif where == "caseload":
        page.goto("/ui/caseload")
    else:
        page.goto("/ui/patients/search?family_name=Ward")  # refused: needs a date of birth
    page.add_script_tag(content=axe_source)
    results = page.evaluate("""() => axe.run(document, {runOnly: {type: 'tag', values:
        ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa', 'best-practice']}})""")
    serious = [(v["id"], v["help"], [n["target"] for n in v["nodes"]][:3])
               for v in results["violations"] if v["impact"] in ("serious", "critical")]
    page.screenshot(path=artifacts / f"06-axe-{where}.png", full_page=True)
    assert serious == []
