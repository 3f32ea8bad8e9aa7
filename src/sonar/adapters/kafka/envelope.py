"""The versioned JSON envelope SONAR events travel in on Kafka (schema ``sonar.event.v1``).

Why an envelope and not the bare stored event: consumers outside SONAR need to route,
deduplicate and order without knowing eventsourcing's storage format, so the envelope names
the event (``event_id`` = ``<patient id>:<version>``, unique and stable across re-sends), its
type, its log position and when it was recorded. Projection workers with the same application
configuration rebuild the exact domain event from ``state``, which is ``notification.state``
byte for byte (base64), so nothing is re-serialised and a replayed event is identical.

Encryption at rest stays on in transit: when the application has a cipher, the envelope
carries only ids, type, topic, position and recorded time in clear, and ``state`` holds the
encrypted bytes exactly as stored, so a broker or an eavesdropper learns no clinical fact and
no attribution. Without a cipher the attribution (who, for which organisation and site, why,
from where, when clinically) is in clear so other agencies can audit what they act on; the
payload is ``state`` (SONAR's tagged JSON, zlib-compressed when ``compressed`` is true).
"""

from __future__ import annotations

import base64
import json
from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.domain import DomainEventProtocol
from eventsourcing.persistence import Notification, StoredEvent

from sonar.domain.attribution import Attribution
from sonar.eventstore.application import SonarApplication

SCHEMA = "sonar.event.v1"
DOMAIN_TOPIC_PREFIX = "sonar.domain."  # care-record events; app-internal aggregates are not


class EnvelopeError(ValueError):
    """The bytes are not a ``sonar.event.v1`` envelope this application can read."""


def is_published(notification: StoredEvent) -> bool:
    """Only domain events leave SONAR: receipts and the NHS-number index are internal."""
    return notification.topic.startswith(DOMAIN_TOPIC_PREFIX)


def event_id(originator_id: UUID | str, version: int) -> str:
    return f"{originator_id}:{version}"


def encrypted(app: SonarApplication) -> bool:
    return app.mapper.cipher is not None


def to_envelope(app: SonarApplication, notification: Notification) -> bytes:
    """The envelope of one stored event (decodes it once for its time and attribution)."""
    return envelope_of(app, notification, app.mapper.to_domain_event(notification))


def envelope_of(app: SonarApplication, notification: Notification,
                event: DomainEventProtocol[Any]) -> bytes:
    """As :func:`to_envelope`, for a caller that has already decoded the event."""
    body: dict[str, Any] = {
        "schema": SCHEMA,
        "event_id": event_id(notification.originator_id, notification.originator_version),
        "patient_id": str(notification.originator_id),
        "version": notification.originator_version,
        "type": type(event).__name__,
        "topic": notification.topic,
        "position": notification.id,
        "recorded_at": _iso(getattr(event, "timestamp", None)),
        "encrypted": encrypted(app),
        "compressed": app.mapper.compressor is not None,
    }
    attribution = getattr(event, "attribution", None)
    if not body["encrypted"] and isinstance(attribution, Attribution):
        body["attribution"] = attribution_of(attribution)
    body["state"] = base64.b64encode(notification.state).decode("ascii")
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def attribution_of(attribution: Attribution) -> dict[str, str | None]:
    actor = attribution.actor
    return {"actor_id": actor.actor_id, "role": actor.role,
            "organisation": actor.organisation, "site": actor.site,
            "purpose_of_use": attribution.purpose_of_use, "source": attribution.source,
            "correlation_id": attribution.correlation_id,
            "occurred_at": _iso(attribution.occurred_at)}


def read_envelope(data: bytes) -> dict[str, Any]:
    """The envelope's fields, checked for schema and the ids consumers rely on."""
    try:
        body = json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise EnvelopeError(f"not JSON: {error}") from error
    if not isinstance(body, dict) or body.get("schema") != SCHEMA:
        raise EnvelopeError(f"not a {SCHEMA} envelope")
    for field, kind in (("patient_id", str), ("version", int), ("position", int),
                        ("topic", str), ("state", str)):
        if not isinstance(body.get(field), kind):
            raise EnvelopeError(f"{SCHEMA} envelope without a valid {field!r}")
    return body


def from_envelope(app: SonarApplication, data: bytes) -> tuple[int, DomainEventProtocol[Any]]:
    """(log position, domain event) rebuilt exactly as stored, through the app's mapper.

    The mapper decrypts and decompresses, so this needs the same cipher key and compressor
    as the application that wrote the event.
    """
    body = read_envelope(data)
    stored = StoredEvent(originator_id=UUID(body["patient_id"]),
                         originator_version=body["version"], topic=body["topic"],
                         state=base64.b64decode(body["state"], validate=True))
    return body["position"], app.mapper.to_domain_event(stored)


def _iso(moment: object) -> str | None:
    return moment.isoformat() if isinstance(moment, datetime) else None
