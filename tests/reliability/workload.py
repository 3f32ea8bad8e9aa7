"""A clinical command workload over HTTP that keeps score of what the server acknowledged.

Every command carries an ``Idempotency-Key`` and an ``X-Correlation-Id`` (the same on every
retry of that command), and is retried on ``503`` or a dropped connection, as a client
following the API's contract would. Afterwards the log is read back and each acknowledged
command must be there exactly once (by its correlation id), and nothing unacknowledged twice.
"""

from __future__ import annotations

import random
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from sonar.domain.care_record import CareRecord
from sonar.eventstore.application import SonarApplication

PATIENTS = "/api/v1/patients"
MAX_ATTEMPTS = 60  # per command; with the back-off below, ~20 s at most
STEPS: tuple[tuple[str, dict[str, Any]], ...] = (
    ("/episodes/1/risk-assessments", {"level": "medium", "risks": ["overdose"]}),
    ("/episodes/1/brief-interventions",
     {"intervention": "alcohol_brief_advice", "outcome": "completed"}),
    ("/episodes/1/dual-diagnoses", {"status": "no"}),
)


@dataclass
class Score:
    """What every client saw; shared by the client threads (guarded by ``lock``)."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    statuses: Counter[int] = field(default_factory=Counter)
    transport_errors: int = 0
    violations: list[str] = field(default_factory=list)  # broke the API's error contract
    acknowledged: dict[str, str] = field(default_factory=dict)  # correlation id -> path
    unacknowledged: list[str] = field(default_factory=list)
    refusals: list[tuple[int, str, str]] = field(default_factory=list)  # status, rule, path

    def saw(self, response: httpx.Response, path: str) -> None:
        with self.lock:
            self.statuses[response.status_code] += 1
            if response.status_code >= 500 and not _retryable_problem(response):
                self.violations.append(f"{response.status_code} on {path}: "
                                       f"{response.headers.get('content-type')} "
                                       f"{response.text[:300]}")


def _retryable_problem(response: httpx.Response) -> bool:
    """A 503 problem document with Retry-After: what a client may retry."""
    if response.status_code != 503:
        return False
    if response.headers.get("content-type") != "application/problem+json":
        return False
    if not response.headers.get("retry-after", "").isdigit():
        return False
    body = response.json()
    return body.get("status") == 503 and str(body.get("rule", "")).startswith(
        ("store.", "read_model."))


class Clinician:
    """One client thread's HTTP session, signed in, retrying as the contract allows."""

    def __init__(self, base_url: str, token: str, score: Score) -> None:
        self.http = httpx.Client(base_url=base_url, timeout=30.0,
                                 headers={"Authorization": f"Bearer {token}"})
        self.score = score

    def close(self) -> None:
        self.http.close()

    def command(self, path: str, body: dict[str, Any],
                deadline: float | None = None) -> httpx.Response | None:
        """POST until acknowledged or refused; None if the server never answered."""
        key = uuid.uuid4().hex
        headers = {"Idempotency-Key": key, "X-Correlation-Id": key}
        for attempt in range(MAX_ATTEMPTS):
            if deadline is not None and attempt and time.monotonic() > deadline + 20:
                break
            try:
                response = self.http.post(path, json=body, headers=headers)
            except httpx.TransportError:
                with self.score.lock:
                    self.score.transport_errors += 1
                time.sleep(0.1 + 0.05 * attempt)
                continue
            self.score.saw(response, path)
            if response.status_code == 201:
                with self.score.lock:
                    self.score.acknowledged[key] = path
                return response
            if response.status_code == 503:
                time.sleep(min(float(response.headers.get("retry-after", "1")), 0.3)
                           + random.uniform(0, 0.1))
                continue
            if response.status_code >= 500:
                break
            with self.score.lock:
                rule = response.json().get("rule", "") if response.headers.get(
                    "content-type") == "application/problem+json" else ""
                self.score.refusals.append((response.status_code, rule, path))
            return response
        with self.score.lock:
            self.score.unacknowledged.append(key)
        return None

    def read(self, path: str) -> httpx.Response | None:
        try:
            response = self.http.get(path)
        except httpx.TransportError:
            with self.score.lock:
                self.score.transport_errors += 1
            return None
        self.score.saw(response, path)
        return response


def new_patient(client: Clinician, n: int) -> str | None:
    """Register, receive into prison, refer and accept: a patient with episode 1 open."""
    made = client.command(PATIENTS, {"given_name": "Load", "family_name": f"Tester{n}",
                                     "date_of_birth": "1988-04-02", "sex": "female"})
    if made is None or made.status_code != 201:
        return None
    pid: str = made.json()["patient_id"]
    one = f"{PATIENTS}/{pid}"
    for path, body in (
        ("/custody/prison-receptions", {"establishment": "HMP Leeds"}),
        ("/referrals", {"source": "reception_screen", "substances": ["heroin"],
                        "injecting_status": "never", "previously_treated": False}),
        ("/episodes/1/referral-outcome", {"outcome": "accepted"}),
    ):
        done = client.command(one + path, body)
        if done is None or done.status_code != 201:
            return None
    return pid


def clinical_load(client: Clinician, seconds: float, max_commands: int = 400,
                  reads: bool = True) -> int:
    """Back-to-back commands (a new patient every few) until time is up; how many sent."""
    deadline = time.monotonic() + seconds
    sent = 0
    pid: str | None = None
    for i in range(max_commands):
        if time.monotonic() > deadline:
            break
        if pid is None or i % 8 == 0:
            pid = new_patient(client, i)
            sent += 4
            continue
        path, body = STEPS[i % len(STEPS)]
        client.command(f"{PATIENTS}/{pid}{path}", body, deadline)
        sent += 1
        if reads and i % 4 == 0:
            client.read(f"{PATIENTS}/{pid}")
    return sent


def run_clients(clients: list[Clinician], work: Callable[[Clinician], object],
                timeout: float) -> None:
    threads = [threading.Thread(target=work, args=(c,), daemon=True) for c in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=timeout)
    assert not any(t.is_alive() for t in threads), "a client thread did not finish in time"


def correlation_counts(app: SonarApplication) -> Counter[str]:
    """How many care-record events each correlation id wrote, over the whole log."""
    counts: Counter[str] = Counter()
    start = 1
    for _ in range(100_000):  # bounded: pages of 500
        page = app.recorder.select_notifications(start=start, limit=500)
        if not page:
            break
        for notification in page:
            event = app.mapper.to_domain_event(notification)
            if isinstance(event, CareRecord.Event):
                counts[event.attribution.correlation_id] += 1
        start = page[-1].id + 1
    return counts


def assert_exactly_once(app: SonarApplication, score: Score) -> None:
    counts = correlation_counts(app)
    missing = [k for k in score.acknowledged if counts[k] == 0]
    twice = {k: n for k, n in counts.items() if n > 1}
    assert missing == [], f"acknowledged but not in the log: {missing[:5]}"
    assert twice == {}, f"written more than once: {list(twice.items())[:5]}"
    strangers = set(counts) - set(score.acknowledged) - set(score.unacknowledged)
    assert strangers == set(), f"events no client sent: {sorted(strangers)[:5]}"
