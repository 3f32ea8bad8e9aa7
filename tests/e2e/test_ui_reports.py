"""Reports over HTTP: workforce and outcomes by site, a patient's TOP trajectory, as inline SVG."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest

from tests.e2e.test_ui_forms import (
    Ui,
    accepted_patient,
    real_clock,
    signed_in_ui,
)

clock = pytest.fixture(real_clock, name="clock")
ui = pytest.fixture(signed_in_ui, name="ui")
pid = pytest.fixture(accepted_patient, name="pid")

_SVG = re.compile(r'<svg class="chart" id="([a-z-]+)" role="img"[^>]*aria-labelledby=')


def charts(page: str) -> list[str]:
    return _SVG.findall(page)


def test_the_workforce_report_charts_caseloads_and_reviews_by_worker(ui: Ui, pid: str) -> None:
    page = ui.page("/ui/reports/workforce")
    assert charts(page) == ["workforce-chart"]
    assert "<title id=\"workforce-chart-title\">Caseloads and reviews by worker and site" in page
    row = re.search(r"<td>HMP Leeds</td><td>Unassigned</td>.*?</tr>", page, re.S)
    assert row, "the site's unassigned episode is in the table"
    assert "https://" not in page  # nothing from elsewhere


def test_the_outcomes_report_charts_referral_outcomes_by_site(ui: Ui, pid: str) -> None:
    page = ui.page("/ui/reports/outcomes")
    assert charts(page) == ["outcomes-chart"]
    row = re.search(r'<th scope="row">HMP Leeds</th><td class="numeric">(\d+)</td>', page)
    assert row
    assert row.group(1) == "1"  # one accepted referral this month


def test_an_outcomes_period_ending_before_it_starts_is_shown_beside_to(ui: Ui) -> None:
    today = date.today()
    response = ui.client.get("/ui/reports/outcomes", params={
        "from": today.isoformat(), "to": (today - timedelta(days=1)).isoformat()})
    assert response.status_code == 422
    assert re.search(r'id="f-to-error" class="error-message">', response.text)
    assert charts(response.text) == []


def test_a_patients_top_trajectory_is_a_line_chart_with_its_figures(ui: Ui, pid: str) -> None:
    for stage, answers in (("start", {"opiates_days": 28, "crack_days": 12,
                                      "psychological_health": 6}),
                           ("review", {"opiates_days": 10, "psychological_health": 11})):
        response = ui.submit(f"/ui/patients/{pid}/episodes/1/record-top", {
            "stage": stage, **{k: str(v) for k, v in answers.items()}})
        assert response.status_code == 303, response.text
    page = ui.page(f"/ui/reports/top-trajectory/{pid}")
    assert charts(page) == ["top-use-chart", "top-score-chart"]
    assert page.count("<path d=\"M") >= 3  # opiates, crack (one point), psychological health
    use = page[page.index('id="top-use-table"'):]
    assert re.search(r"Crack</th>", use)
    assert re.search(r'<td class="numeric">10</td><td class="numeric">Not answered</td>', use)
