"""Missed-appointment notifications on real SMTP and HTTP servers (loopback): delivered
once, retried while SMTP is down, never to family without consent, webhooks signed."""

from __future__ import annotations

import hashlib
import hmac
import json
import socket
import threading
from collections.abc import Iterator
from datetime import date, timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from sonar.bootstrap import build_application, build_record_store, build_runner
from sonar.commands.access import (
    RecordFamilyNotificationConsent,
    RevokeFamilyNotificationConsent,
)
from sonar.commands.context import CommandContext
from sonar.commands.journey import ReceiveIntoPrison, ReleaseFromPrison
from sonar.commands.pipeline import CommandBus
from sonar.commands.record import RegisterPatient
from sonar.commands.reset import BookAppointment, RecordReminderContact
from sonar.config import Settings
from sonar.domain import Actor
from sonar.notifications.outbox import Dispatcher, SmsChannel, SmtpChannel, WebhookChannel
from sonar.notifications.scheduler import run_once
from tests.conftest import FakeClock

CTX = CommandContext(actor=Actor("sms-1", "sms_worker", "HMP Leeds HC", "HMP Leeds"),
                     correlation_id="notify")
SECRET = b"webhook-test-secret"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Inbox:
    def __init__(self) -> None:
        self.messages: list[Any] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        self.messages.append(envelope)
        return "250 OK"


@pytest.fixture
def webhook() -> Iterator[tuple[str, list[tuple[bytes, str]]]]:
    received: list[tuple[bytes, str]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append((body, self.headers["X-Sonar-Signature"]))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/hook", received
    server.shutdown()


def test_misses_are_told_once_to_each_agency_and_only_to_consented_family(
        store_settings: Settings, clock: FakeClock,
        webhook: tuple[str, list[tuple[bytes, str]]]) -> None:
    url, received = webhook
    app = build_application(store_settings, clock)
    runner = build_runner(store_settings, app)
    runner.migrate()
    pid = CommandBus(app).handle(CTX, RegisterPatient(
        given_name="Jo", family_name="Nuttall", date_of_birth=date(1987, 6, 1),
        sex="female")).patient_id
    CommandBus(app).handle(CTX, ReceiveIntoPrison(patient_id=pid, establishment="HMP Leeds"))
    CommandBus(app).handle(CTX, RecordFamilyNotificationConsent(
        patient_id=pid, family_member="Sam Nuttall", relationship="brother",
        contact_channel="email", contact_address="sam@family.example"))
    CommandBus(app).handle(CTX, RecordFamilyNotificationConsent(
        patient_id=pid, family_member="Kim Nuttall", relationship="mother", contact_channel="phone",
        contact_address="0113 496 0000"))
    start = clock.now + timedelta(days=2)
    CommandBus(app).handle(CTX, BookAppointment(
        patient_id=pid, kind="probation", agency="Probation",
        agency_contact="duty@probation.example", starts_at=start,
        ends_at=start + timedelta(hours=1), place="Leeds"))
    CommandBus(app).handle(CTX, BookAppointment(
        patient_id=pid, kind="drug_alcohol_service", agency="ForwardLeeds", agency_contact=url,
        starts_at=start + timedelta(days=5), ends_at=start + timedelta(days=5, hours=1),
        place="Leeds"))
    CommandBus(app).handle(CTX, ReleaseFromPrison(
        patient_id=pid, release_type="licence", destination_area="Leeds"))
    clock.advance(days=3)
    assert run_once(app, runner) == 1

    smtp_port = free_port()
    records = build_record_store(store_settings)
    dispatcher = Dispatcher(app, records, runner.store, {
        "email": SmtpChannel("127.0.0.1", smtp_port), "webhook": WebhookChannel(SECRET)},
        max_attempts=3, backoff=timedelta(minutes=1))
    assert dispatcher.enqueue() == 4  # two agencies and the two consenting relatives
    assert dispatcher.enqueue() == 0  # nothing is queued twice
    assert dispatcher.deliver() == 1  # the webhook; SMTP is down
    statuses = {r["recipient"]: (r["status"], r["attempts"]) for r in dispatcher.outbox()}
    assert statuses == {"agency:Probation": ("pending", 1), "agency:ForwardLeeds":
                        ("delivered", 1), "family:Sam Nuttall": ("pending", 1),
                        # a telephone call is a task for staff, not something SONAR sends
                        "family:Kim Nuttall": ("manual", 0)}

    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=smtp_port)
    controller.start()
    try:
        assert dispatcher.deliver() == 0  # not yet due: backing off
        clock.advance(minutes=2)
        assert dispatcher.deliver() == 2
        clock.advance(hours=1)
        assert dispatcher.deliver() == 0  # delivered once, never again
        assert sorted(m.rcpt_tos[0] for m in inbox.messages) == [
            "duty@probation.example", "sam@family.example"]
        assert all(b"Nuttall" not in m.content for m in inbox.messages)  # ids only
    finally:
        controller.stop()

    body, signature = received[0]
    assert signature == "sha256=" + hmac.new(SECRET, body, hashlib.sha256).hexdigest()
    assert json.loads(body)["kind"] == "missed_appointment"

    # Consent revoked: the second miss is told to agencies only.
    CommandBus(app).handle(CTX, RevokeFamilyNotificationConsent(
        patient_id=pid, family_member="Sam Nuttall"))
    clock.advance(days=6)
    assert run_once(app, runner) == 1
    assert dispatcher.enqueue() == 3  # the agencies and Kim; not Sam
    family = sorted(r["recipient"] for r in dispatcher.outbox()
                    if r["recipient"].startswith("family:"))
    assert family == ["family:Kim Nuttall", "family:Kim Nuttall", "family:Sam Nuttall"]


def test_a_failing_recipient_is_dead_lettered_after_the_last_attempt(
        sqlite_settings: Settings, clock: FakeClock) -> None:
    app = build_application(sqlite_settings, clock)
    runner = build_runner(sqlite_settings, app)
    runner.migrate()
    pid = CommandBus(app).handle(CTX, RegisterPatient(
        given_name="Al", family_name="Oakes", date_of_birth=date(1990, 1, 1),
        sex="male")).patient_id
    start = clock.now + timedelta(hours=1)
    CommandBus(app).handle(CTX, BookAppointment(
        patient_id=pid, kind="gp", agency="GP", agency_contact="gp@x.example", starts_at=start,
        ends_at=start + timedelta(hours=1), place="Leeds"))
    clock.advance(hours=5)
    run_once(app, runner)
    records = build_record_store(sqlite_settings)
    dispatcher = Dispatcher(app, records, runner.store,
                            {"email": SmtpChannel("127.0.0.1", free_port())},
                            max_attempts=2, backoff=timedelta(seconds=1))
    dispatcher.enqueue()
    for _ in range(3):
        dispatcher.deliver()
        clock.advance(minutes=1)
    (row,) = dispatcher.outbox()
    assert (row["status"], row["attempts"]) == ("dead_letter", 2)


def test_channels_come_from_settings(tmp_path: Any) -> None:
    from pydantic import SecretStr  # noqa: PLC0415

    from sonar.bootstrap import notification_channels  # noqa: PLC0415

    assert notification_channels(Settings(data_dir=tmp_path)) == {}
    configured = notification_channels(Settings(
        data_dir=tmp_path, smtp_host="127.0.0.1", smtp_port=2525,
        webhook_secret=SecretStr("s3cret"), notify_base_url="http://127.0.0.1:9",
        notify_api_key=SecretStr("key"), notify_sms_template="t1"))
    assert sorted(configured) == ["email", "sms", "webhook"]
    assert configured["email"] == SmtpChannel("127.0.0.1", 2525)


class FakeNotify:
    """A GOV.UK Notify-style API on loopback: POST /v2/notifications/sms with a bearer key.
    It answers 500 while ``failures`` is above zero (counting down), then 201."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, str, dict[str, Any]]] = []  # path, auth, body
        self.failures = 0
        handler = self._handler()
        self.server = HTTPServer(("127.0.0.1", 0), handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                fake.requests.append((self.path, self.headers["Authorization"], body))
                failing = fake.failures > 0
                fake.failures -= failing
                self.send_response(500 if failing else 201)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(b'{"id": "n-1"}')

            def log_message(self, *args: Any) -> None:
                pass
        return Handler


@pytest.fixture
def notify_api() -> Iterator[FakeNotify]:
    fake = FakeNotify()
    thread = threading.Thread(target=fake.server.serve_forever, daemon=True)
    thread.start()
    yield fake
    fake.server.shutdown()


def test_reminders_go_once_to_the_persons_own_number_through_the_sms_api(
        store_settings: Settings, clock: FakeClock, notify_api: FakeNotify) -> None:
    app = build_application(store_settings, clock)
    runner = build_runner(store_settings, app)
    runner.migrate()
    pid = CommandBus(app).handle(CTX, RegisterPatient(
        given_name="Lou", family_name="Marsden", date_of_birth=date(1992, 3, 4),
        sex="female")).patient_id
    CommandBus(app).handle(CTX, ReceiveIntoPrison(patient_id=pid, establishment="HMP Leeds"))
    first, second = clock.now + timedelta(days=2), clock.now + timedelta(days=6)
    probation = CommandBus(app).handle(CTX, BookAppointment(
        patient_id=pid, kind="probation", agency="Probation", agency_contact=None, starts_at=first,
        ends_at=first + timedelta(hours=1),
        place="Leeds Probation Office")).details["appointment_id"]
    CommandBus(app).handle(CTX, BookAppointment(
        patient_id=pid, kind="gp", agency="GP", agency_contact=None, starts_at=second,
        ends_at=second + timedelta(hours=1), place="Leeds"))
    CommandBus(app).handle(CTX, RecordReminderContact(
        patient_id=pid, channel="text_message", address=" 07700 900999 "))
    records = build_record_store(store_settings)
    dispatcher = Dispatcher(app, records, runner.store, {"sms": SmsChannel(
        notify_api.url, "key-123", "template-1")}, backoff=timedelta(minutes=1))
    runner.wait_for(app.position())
    assert dispatcher.enqueue_reminders() == 0  # more than a day away

    clock.advance(days=1, hours=1)
    assert dispatcher.enqueue_reminders() == 1
    assert dispatcher.enqueue_reminders() == 0  # one reminder per appointment
    notify_api.failures = 1
    assert dispatcher.deliver() == 0  # the API failed: retried after the backoff
    clock.advance(minutes=2)
    assert dispatcher.deliver() == 1
    clock.advance(minutes=5)
    assert dispatcher.deliver() == 0
    assert len(notify_api.requests) == 2  # the failure and the delivery, nothing more
    path, auth, body = notify_api.requests[-1]
    assert (path, auth) == ("/v2/notifications/sms", "Bearer key-123")
    assert body["phone_number"] == "07700 900999"
    assert body["template_id"] == "template-1"
    assert body["personalisation"]["kind"] == "appointment_reminder"
    assert body["personalisation"]["place"] == "Leeds Probation Office"
    assert body["reference"] == f"reminder:{pid}:{probation}"
    (row,) = dispatcher.outbox()
    assert (row["recipient"], row["status"], row["attempts"]) == ("person", "delivered", 2)

    # The person stops reminders: the GP appointment is not reminded.
    CommandBus(app).handle(CTX, RecordReminderContact(patient_id=pid))
    clock.advance(days=4)
    runner.wait_for(app.position())
    assert dispatcher.enqueue_reminders() == 0


def test_a_consent_recorded_before_addresses_waits_for_one(sqlite_settings: Settings,
                                                          clock: FakeClock) -> None:
    """A family consent from the legacy log has no address: its row says so."""
    import shutil  # noqa: PLC0415
    from pathlib import Path  # noqa: PLC0415

    sqlite_settings.data_dir.mkdir(parents=True)
    shutil.copy(Path(__file__).parents[1] / "data" / "log_v1" / "sonar.db",
                sqlite_settings.sqlite_path)
    clock.now = clock.now.replace(year=2026, month=12, day=1)  # after the log was written
    app = build_application(sqlite_settings, clock)
    runner = build_runner(sqlite_settings, app)
    runner.migrate()
    assert run_once(app, runner) == 1  # the legacy person's GP appointment (23 June)
    records = build_record_store(sqlite_settings)
    dispatcher = Dispatcher(app, records, runner.store, {})
    dispatcher.enqueue()
    family = [r for r in dispatcher.outbox() if r["recipient"].startswith("family:")]
    assert [(r["recipient"], r["status"]) for r in family] == [
        ("family:Pat Garside", "no_address")]
