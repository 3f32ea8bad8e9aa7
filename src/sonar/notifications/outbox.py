"""Telling people about a missed appointment: an outbox, delivery channels, retries.

The outbox is not a read model: it records what was sent, so it is never rebuilt, and it
lives in the records' store (reminders read the diary from the read models' store). A
dispatcher reads the log after its own saved position and, for each AppointmentMissed,
adds one row per recipient in the same transaction as the position — keyed by the miss's
event id and the recipient, so there are never two notifications for one miss to one
recipient. Family members are included only as the event named them (the consent as it
stood when the miss was recorded). Each delivery attempt is recorded; failures are
retried with exponential backoff and dead-lettered after ``max_attempts``.

Channels: email over SMTP; webhooks (HMAC-SHA256 signature in ``X-Sonar-Signature``);
SMS through a GOV.UK Notify-style HTTP API. A family member is reached on the channel and
address in the consent as it stood at the miss: email and text message are delivered here;
telephone, letter and in-person contact become ``manual`` rows (a task for staff); a consent
from before addresses were recorded waits as ``no_address``.

Reminders: the released person, if they gave a reminder contact, gets one reminder per
appointment ``reminder_lead`` before it starts (keyed by appointment, so never twice).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import smtplib
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from typing import Any, Protocol
from uuid import UUID

import httpx

from sonar.domain.care_record import CareRecord
from sonar.eventstore.application import SonarApplication
from sonar.readmodels.diary import starting_between
from sonar.sqlstore.records import RecordStore
from sonar.sqlstore.store import Json, ReadStore, as_json, ddl

TABLES = ("notification_position", "notification", "notification_attempt")
_DDL = (
    "CREATE TABLE IF NOT EXISTS notification_position (name TEXT PRIMARY KEY, "
    "position {bigint} NOT NULL)",
    "CREATE TABLE IF NOT EXISTS notification (notification_id TEXT PRIMARY KEY, "
    "event_id TEXT NOT NULL, patient_id TEXT NOT NULL, recipient TEXT NOT NULL, "
    "channel TEXT NOT NULL, address TEXT, body {json} NOT NULL, status TEXT NOT NULL, "
    "attempts INTEGER NOT NULL, next_attempt_at {ts}, created_at {ts} NOT NULL)",
    "CREATE TABLE IF NOT EXISTS notification_attempt (notification_id TEXT NOT NULL, "
    "attempt INTEGER NOT NULL, at {ts} NOT NULL, outcome TEXT NOT NULL, detail TEXT, "
    "PRIMARY KEY (notification_id, attempt))",
)


# One row per recipient of one notification; a second try to queue it does nothing.
_QUEUE = ("INSERT INTO notification VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
          "ON CONFLICT (notification_id) DO NOTHING")


class Channel(Protocol):
    name: str

    def send(self, address: str, body: dict[str, Any]) -> None: ...


@dataclass
class SmtpChannel:
    host: str
    port: int
    sender: str = "alerts@sonar.example"
    name: str = "email"

    def send(self, address: str, body: dict[str, Any]) -> None:
        message = EmailMessage()
        message["From"], message["To"] = self.sender, address
        message["Subject"] = "SONAR: a missed appointment needs follow-up"
        # Ids only: the recipient opens SONAR (with access control) for the details.
        message.set_content(json.dumps(body, indent=2))
        with smtplib.SMTP(self.host, self.port, timeout=10) as smtp:
            smtp.send_message(message)


@dataclass
class WebhookChannel:
    secret: bytes
    name: str = "webhook"

    def send(self, address: str, body: dict[str, Any]) -> None:
        payload = json.dumps(body, separators=(",", ":")).encode()
        signature = hmac.new(self.secret, payload, hashlib.sha256).hexdigest()
        response = httpx.post(address, content=payload, timeout=10, headers={
            "Content-Type": "application/json", "X-Sonar-Signature": f"sha256={signature}"})
        response.raise_for_status()


@dataclass
class SmsChannel:
    """A GOV.UK Notify-style API: POST {base}/v2/notifications/sms with a bearer key."""

    base_url: str
    api_key: str
    template_id: str
    name: str = "sms"

    def send(self, address: str, body: dict[str, Any]) -> None:
        response = httpx.post(f"{self.base_url}/v2/notifications/sms", timeout=10,
                              headers={"Authorization": f"Bearer {self.api_key}"},
                              json={"phone_number": address, "template_id": self.template_id,
                                    "personalisation": {k: str(v) for k, v in body.items()},
                                    "reference": body.get("notification_id")})
        response.raise_for_status()


def channel_for(address: str | None) -> str | None:
    if not address:
        return None
    if address.startswith("https://") or address.startswith("http://127.0.0.1"):
        return "webhook"
    if "@" in address:
        return "email"
    if address.lstrip("+").replace(" ", "").isdigit():
        return "sms"
    return None


def migrate(store: RecordStore) -> None:
    """Create the outbox's tables, and its position at the log's start, if they are missing."""
    with store.transaction() as tx:
        for statement in _DDL:
            tx.execute(ddl(statement, store.dialect))
        if not tx.fetchall("SELECT 1 FROM notification_position WHERE name = 'missed'"):
            tx.execute("INSERT INTO notification_position VALUES ('missed', 0)")


class Dispatcher:
    """Queues notifications (the outbox in ``store``, made by ``migrate``; the diary read
    from ``read_models``) and delivers them on ``channels``."""

    def __init__(self, app: SonarApplication, store: RecordStore, read_models: ReadStore,
                 channels: dict[str, Channel], *, max_attempts: int = 5,
                 backoff: timedelta = timedelta(seconds=30)) -> None:
        self.app, self.store, self.read_models = app, store, read_models
        self.channels = channels
        self.max_attempts, self.backoff = max_attempts, backoff

    def enqueue(self) -> int:
        """Add outbox rows for misses recorded since the last run; return how many."""
        start = self.store.fetchall("SELECT position FROM notification_position "
                                    "WHERE name = 'missed'")[0]["position"] + 1
        added = 0
        while True:  # one transaction per batch: rows and position together
            batch = self.app.recorder.select_notifications(start=start, limit=500)
            if not batch:
                break
            rows = []
            for notification in batch:
                if notification.topic.endswith("CareRecord.AppointmentMissed"):
                    event = self.app.mapper.to_domain_event(notification)
                    if isinstance(event, CareRecord.AppointmentMissed):
                        rows += self._rows(event)
            with self.store.transaction() as tx:
                for row in rows:
                    tx.execute(_QUEUE, row)
                tx.execute("UPDATE notification_position SET position = ? "
                           "WHERE name = 'missed'", [batch[-1].id])
            added += len(rows)
            start = batch[-1].id + 1
        return added

    def _rows(self, event: CareRecord.AppointmentMissed) -> list[list[Any]]:
        record = self.app.get_record(event.originator_id, event.originator_version)
        contacts = {e.appointment.agency: e.appointment.agency_contact
                    for e in record.diary.values()}
        event_id = f"{event.originator_id}:{event.originator_version}"
        body = {"kind": "missed_appointment", "event_id": event_id,
                "patient_id": str(event.originator_id),
                "appointment_id": event.appointment_id,
                "recorded_at": event.timestamp.isoformat()}
        now = self.app.clock()
        rows = []
        for agency in event.agencies:
            address = contacts.get(agency)
            channel = channel_for(address)
            rows.append([f"{event_id}:agency:{agency}", event_id, str(event.originator_id),
                         f"agency:{agency}", channel or "none", address, Json(body),
                         "pending" if channel else "no_address", 0, now, now])
        for member in event.family_members:
            consent = record.family_notification_consents.get(member)
            if consent is None:  # cannot happen: the event names consents as they stood
                continue
            channel = consent.delivered_by
            status = ("pending" if channel else
                      "no_address" if consent.address is None and consent.channel != "in_person"
                      else "manual")
            rows.append([f"{event_id}:family:{member}", event_id, str(event.originator_id),
                         f"family:{member}", channel or consent.channel, consent.address,
                         Json(body), status, 0, now if channel else None, now])
        return rows

    def enqueue_reminders(self, lead: timedelta = timedelta(hours=24)) -> int:
        """Queue a reminder for each booked appointment starting within ``lead`` whose
        person gave a reminder contact; return how many were added."""
        now = self.app.clock()
        rows = []
        for patient_id, appointment_id in starting_between(self.read_models, now, now + lead):
            record = self.app.get_record(UUID(patient_id))
            contact, entry = record.reminder_contact, record.diary.get(appointment_id)
            if contact is None or entry is None or entry.status != "booked":
                continue
            a = entry.appointment
            notification_id = f"reminder:{patient_id}:{appointment_id}"
            body = {"kind": "appointment_reminder", "notification_id": notification_id,
                    "appointment": a.kind, "agency": a.agency, "place": a.place,
                    "starts_at": a.starts_at.isoformat()}
            rows.append([notification_id, notification_id, patient_id, "person",
                         contact.delivered_by or "none", contact.address, Json(body),
                         "pending", 0, now, now])
        added = 0
        with self.store.transaction() as tx:
            for row in rows:
                added += len(tx.fetchall(_QUEUE + " RETURNING notification_id", row))
        return added

    def deliver(self) -> int:
        """Attempt every pending notification that is due; return how many were delivered."""
        now = self.app.clock()
        due = self.store.fetchall(
            "SELECT notification_id, channel, address, body, attempts FROM notification "
            "WHERE status = 'pending' AND next_attempt_at <= ? ORDER BY created_at", [now])
        delivered = 0
        for row in due:
            attempt = int(row["attempts"]) + 1
            body = as_json(row["body"])
            channel = self.channels.get(row["channel"])
            if channel is None:  # not configured here: leave it for a dispatcher that is
                continue
            try:
                channel.send(row["address"], body)
            except Exception as exc:
                status = "dead_letter" if attempt >= self.max_attempts else "pending"
                retry = now + self.backoff * (2 ** (attempt - 1))
                self._record(row["notification_id"], attempt, now, status, retry,
                             f"failed: {type(exc).__name__}")
                continue
            self._record(row["notification_id"], attempt, now, "delivered", None, "delivered")
            delivered += 1
        return delivered

    def _record(self, notification_id: str, attempt: int, at: datetime, status: str,
                retry: datetime | None, outcome: str) -> None:
        with self.store.transaction() as tx:
            tx.execute("INSERT INTO notification_attempt VALUES (?, ?, ?, ?, ?)",
                       [notification_id, attempt, at, outcome.split(":", maxsplit=1)[0], outcome])
            tx.execute("UPDATE notification SET status = ?, attempts = ?, next_attempt_at = ? "
                       "WHERE notification_id = ?", [status, attempt, retry, notification_id])

    def outbox(self) -> list[dict[str, Any]]:
        return self.store.fetchall("SELECT notification_id, recipient, channel, status, "
                                   "attempts FROM notification ORDER BY notification_id")

