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

from sonar.app import reset
from sonar.app.access import record_family_notification_consent, revoke_family_notification_consent
from sonar.app.context import CommandContext
from sonar.bootstrap import build_application, build_runner
from sonar.config import Settings
from sonar.domain import Actor, Demographics, Identity
from sonar.integration.missed_appointments import run_once
from sonar.integration.notifications import Dispatcher, SmtpChannel, WebhookChannel
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
    pid = app.register_patient(CTX, Identity(), Demographics(
        "Jo", "Nuttall", date(1987, 6, 1), "female")).patient_id
    app.receive_into_prison(CTX, pid, "HMP Leeds", None)
    record_family_notification_consent(app, CTX, pid, "Sam Nuttall", "brother", "phone")
    start = clock.now + timedelta(days=2)
    reset.book_appointment(app, CTX, pid, kind="probation", agency="Probation",
                           agency_contact="duty@probation.example", starts_at=start,
                           ends_at=start + timedelta(hours=1), place="Leeds")
    reset.book_appointment(app, CTX, pid, kind="drug_alcohol_service", agency="ForwardLeeds",
                           agency_contact=url, starts_at=start + timedelta(days=5),
                           ends_at=start + timedelta(days=5, hours=1), place="Leeds")
    app.release_from_prison(CTX, pid, "licence", "Leeds")
    clock.advance(days=3)
    assert run_once(app, runner) == 1

    smtp_port = free_port()
    dispatcher = Dispatcher(app, runner.store, {
        "email": SmtpChannel("127.0.0.1", smtp_port), "webhook": WebhookChannel(SECRET)},
        max_attempts=3, backoff=timedelta(minutes=1))
    assert dispatcher.enqueue() == 3  # two agencies and the consenting brother
    assert dispatcher.enqueue() == 0  # nothing is queued twice
    assert dispatcher.deliver() == 1  # the webhook; SMTP is down
    statuses = {r["recipient"]: (r["status"], r["attempts"]) for r in dispatcher.outbox()}
    assert statuses == {"agency:Probation": ("pending", 1), "agency:ForwardLeeds":
                        ("delivered", 1), "family:Sam Nuttall": ("no_address", 0)}

    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=smtp_port)
    controller.start()
    try:
        assert dispatcher.deliver() == 0  # not yet due: backing off
        clock.advance(minutes=2)
        assert dispatcher.deliver() == 1
        clock.advance(hours=1)
        assert dispatcher.deliver() == 0  # delivered once, never again
        assert len(inbox.messages) == 1
        assert inbox.messages[0].rcpt_tos == ["duty@probation.example"]
        assert b"Nuttall" not in inbox.messages[0].content  # ids only, no patient data
    finally:
        controller.stop()

    body, signature = received[0]
    assert signature == "sha256=" + hmac.new(SECRET, body, hashlib.sha256).hexdigest()
    assert json.loads(body)["kind"] == "missed_appointment"

    # Consent revoked: the second miss is told to agencies only.
    revoke_family_notification_consent(app, CTX, pid, "Sam Nuttall")
    clock.advance(days=6)
    assert run_once(app, runner) == 1
    assert dispatcher.enqueue() == 2
    family = [r for r in dispatcher.outbox() if r["recipient"].startswith("family:")]
    assert len(family) == 1


def test_a_failing_recipient_is_dead_lettered_after_the_last_attempt(
        sqlite_settings: Settings, clock: FakeClock) -> None:
    app = build_application(sqlite_settings, clock)
    runner = build_runner(sqlite_settings, app)
    runner.migrate()
    pid = app.register_patient(CTX, Identity(), Demographics(
        "Al", "Oakes", date(1990, 1, 1), "male")).patient_id
    start = clock.now + timedelta(hours=1)
    reset.book_appointment(app, CTX, pid, kind="gp", agency="GP", agency_contact="gp@x.example",
                           starts_at=start, ends_at=start + timedelta(hours=1), place="Leeds")
    clock.advance(hours=5)
    run_once(app, runner)
    dispatcher = Dispatcher(app, runner.store, {"email": SmtpChannel("127.0.0.1", free_port())},
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
