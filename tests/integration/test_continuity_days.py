"""Continuity of care counts calendar days in England from the day of release: a release at
23:59 and one at 00:01 are on different days, and so are 23:30 and 00:30 across the clock
change, whatever the hours in between."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from sonar.bootstrap import build_application, build_runner
from sonar.commands.context import CommandContext
from sonar.commands.journey import ReceiveIntoPrison, ReleaseFromPrison
from sonar.commands.pathway import DischargeEpisode, RecordReferralOutcome, ReferToSms
from sonar.commands.pipeline import CommandBus
from sonar.commands.record import RegisterPatient
from sonar.config import Settings
from sonar.domain import Actor
from sonar.readmodels import continuity
from tests.conftest import FakeClock

ENGLAND = ZoneInfo("Europe/London")
WORKER = CommandContext(actor=Actor("sms-1", "sms_worker", "HMP Leeds HC", "HMP Leeds"),
                        correlation_id="days")


def released(app_clock: FakeClock, bus: CommandBus, n: int, release: datetime,
             treatment: datetime | None) -> None:
    """Someone in treatment in prison, released at ``release``, and first treated in the
    community at ``treatment`` (an SMS episode accepted then), if ever."""
    app_clock.now = release - timedelta(days=10)
    pid = bus.handle(WORKER, RegisterPatient(
        given_name="Test", family_name=f"Person{n}", date_of_birth=date(1985, 1, n),
        sex="male")).patient_id
    bus.handle(WORKER, ReceiveIntoPrison(patient_id=pid, establishment="HMP Leeds"))
    bus.handle(WORKER, ReferToSms(patient_id=pid, source="reception_screen",
                                  substances=["heroin"], injecting_status="never",
                                  previously_treated=False))
    bus.handle(WORKER, RecordReferralOutcome(patient_id=pid, episode=1, outcome="accepted"))
    app_clock.now = release
    bus.handle(WORKER, DischargeEpisode(patient_id=pid, episode=1,
                                        exit_reason="transferred_not_in_custody"))
    bus.handle(WORKER, ReleaseFromPrison(patient_id=pid, release_type="licence",
                                         destination_area="Leeds"))
    if treatment is not None:
        app_clock.now = treatment
        bus.handle(WORKER, ReferToSms(patient_id=pid, source="community_service",
                                      substances=["heroin"], injecting_status="never",
                                      previously_treated=True))
        bus.handle(WORKER, RecordReferralOutcome(patient_id=pid, episode=2,
                                                 outcome="accepted"))


def report(store_settings: Settings, clock: FakeClock, *people: tuple[datetime, datetime | None],
           today: date) -> dict[str, object]:
    app = build_application(store_settings, clock)
    bus = CommandBus(app)
    for n, (release, treatment) in enumerate(people, start=1):
        released(clock, bus, n, release, treatment)
    runner = build_runner(store_settings, app)
    runner.migrate()
    runner.catch_up()
    start = min(r for r, _ in people) - timedelta(days=1)
    return continuity.continuity(runner.store, start, start + timedelta(days=60), today)


def test_day_21_is_counted_from_the_date_of_release_not_the_hour(
        store_settings: Settings, clock: FakeClock) -> None:
    late = datetime(2026, 6, 1, 23, 59, tzinfo=ENGLAND)
    early = datetime(2026, 6, 2, 0, 1, tzinfo=ENGLAND)
    found = report(store_settings, clock,
                   (late, datetime(2026, 6, 23, 0, 1, tzinfo=ENGLAND)),  # day 22: 21 days 2 min
                   (early, datetime(2026, 6, 23, 23, 59, tzinfo=ENGLAND)),  # day 21
                   today=date(2026, 7, 31))
    assert (found["engaged_within_21_days"], found["not_engaged"]) == (1, 1)


def test_the_days_are_england_s_across_the_clock_change(store_settings: Settings,
                                                          clock: FakeClock) -> None:
    """British Summer Time starts at 01:00 UTC on 29 March 2026."""
    release = datetime(2026, 3, 28, 23, 30, tzinfo=UTC)  # 23:30 GMT on 28 March
    treatment = datetime(2026, 4, 18, 23, 30, tzinfo=UTC)  # 00:30 BST on 19 April: day 22
    found = report(store_settings, clock, (release, treatment), today=date(2026, 5, 31))
    assert (found["engaged_within_21_days"], found["not_engaged"]) == (0, 1)


def test_someone_not_yet_treated_is_pending_to_the_end_of_day_21_in_england(
        store_settings: Settings, clock: FakeClock) -> None:
    release = datetime(2026, 6, 1, 23, 30, tzinfo=UTC)  # 00:30 BST on 2 June
    on_day_21 = report(store_settings, clock, (release, None), today=date(2026, 6, 23))
    assert (on_day_21["pending"], on_day_21["not_engaged"]) == (1, 0)
