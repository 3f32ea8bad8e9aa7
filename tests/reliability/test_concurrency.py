"""Two clinicians updating the same patient at the same moment, over HTTP on PostgreSQL: no
lost update. Every 201 is in the record exactly once; a refusal is a 409 problem (after the
application's own optimistic-concurrency retries), and a refused write leaves no trace."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import httpx
import pytest

from sonar.api.main import create_app
from sonar.bootstrap import build_application, build_record_store, build_runner
from sonar.config import Settings
from tests.e2e.auth_helpers import PASSWORD, add_user
from tests.e2e.auth_helpers import TestUser as User
from tests.reliability.conftest import LiveServer
from tests.reliability.workload import (
    PATIENTS,
    Clinician,
    Score,
    assert_exactly_once,
    new_patient,
)

pytestmark = pytest.mark.postgres

ROUNDS = 30
ALICE = User("sms-alice", "sms_worker", "HMP Leeds Healthcare", "HMP Leeds")
BOB = User("sms-bob", "sms_worker", "HMP Leeds Healthcare", "HMP Leeds")
ENTRIES = {
    ALICE: ("/episodes/1/risk-assessments", {"level": "high", "risks": ["overdose"]}),
    BOB: ("/episodes/1/brief-interventions",
          {"intervention": "alcohol_brief_advice", "outcome": "completed"}),
}


@pytest.fixture
def two_clinicians(postgres_settings: Settings) -> Iterator[tuple[Clinician, Clinician, Score,
                                                                  Settings]]:
    settings = postgres_settings.model_copy(update={"pool_size": 8})
    app = build_application(settings)
    runner = build_runner(settings, app)
    runner.migrate()
    records = build_record_store(settings)
    api = create_app(settings, app, runner, records)
    score = Score()
    clients = []
    try:
        with LiveServer(api) as server:
            for user in (ALICE, BOB):
                add_user(api, user)
                token = httpx.post(f"{server.base_url}/api/v1/auth/token", timeout=30, data={
                    "username": user.username, "password": PASSWORD}).json()["access_token"]
                clients.append(Clinician(server.base_url, token, score))
            yield clients[0], clients[1], score, settings
    finally:
        for client in clients:
            client.close()
        app.close()
        runner.store.close()
        records.close()


def at_once(*calls: tuple[Clinician, str, dict[str, object]]) -> list[httpx.Response | None]:
    """Send each command from its own thread, released together by a barrier."""
    gate = threading.Barrier(len(calls))
    results: list[httpx.Response | None] = [None] * len(calls)

    def send(i: int, client: Clinician, path: str, body: dict[str, object]) -> None:
        gate.wait(timeout=30)
        results[i] = client.command(path, body)

    threads = [threading.Thread(target=send, args=(i, *call), daemon=True)
               for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(t.is_alive() for t in threads)
    return results


def is_conflict_problem(response: httpx.Response, rules: set[str]) -> bool:
    return (response.status_code == 409
            and response.headers["content-type"] == "application/problem+json"
            and response.json()["rule"] in rules)


def test_two_clinicians_writing_at_once_lose_no_update(
        two_clinicians: tuple[Clinician, Clinician, Score, Settings]) -> None:
    alice, bob, score, settings = two_clinicians
    pid = new_patient(alice, 1)
    assert pid is not None
    one = f"{PATIENTS}/{pid}"
    accepted = {ALICE: 0, BOB: 0}
    for _ in range(ROUNDS):
        results = at_once((alice, one + ENTRIES[ALICE][0], ENTRIES[ALICE][1]),
                          (bob, one + ENTRIES[BOB][0], ENTRIES[BOB][1]))
        for user, response in zip((ALICE, BOB), results, strict=True):
            assert response is not None
            if response.status_code == 201:
                accepted[user] += 1
            else:  # only a clean conflict, after the application's retries
                assert is_conflict_problem(response, {"record.concurrent_update"}), (
                    response.text)
    assert score.violations == []
    # Contention was real: the same stream, written by both, round after round.
    assert accepted[ALICE] + accepted[BOB] >= ROUNDS, accepted
    record = alice.http.get(one)
    assert record.status_code == 200
    entries = record.json()["episodes"][0]["entries"]
    kinds = [e["kind"] for e in entries]
    assert kinds.count("RiskAssessment") == accepted[ALICE], kinds
    assert kinds.count("BriefIntervention") == accepted[BOB], kinds
    assert_exactly_once(build_application(settings), score)


def test_two_clinicians_closing_the_same_episode_at_once_one_wins_one_gets_409(
        two_clinicians: tuple[Clinician, Clinician, Score, Settings]) -> None:
    alice, bob, score, settings = two_clinicians
    for n in range(5):  # five patients, five races
        pid = new_patient(alice, n)
        assert pid is not None
        path = f"{PATIENTS}/{pid}/episodes/1/discharge"
        results = at_once((alice, path, {"exit_reason": "completed"}),
                          (bob, path, {"exit_reason": "transferred_in_custody"}))
        statuses = sorted(r.status_code for r in results if r is not None)
        assert statuses == [201, 409], [r.text for r in results if r is not None]
        loser = next(r for r in results if r is not None and r.status_code == 409)
        assert is_conflict_problem(loser, {"episode.discharge_not_allowed",
                                           "record.concurrent_update"}), loser.text
        episode = alice.http.get(f"{PATIENTS}/{pid}").json()["episodes"][0]
        winner = next(r for r in results if r is not None and r.status_code == 201)
        assert episode["status"] == "discharged", episode["status"]
        assert episode["discharge"]["exit_reason"] == (
            "completed" if winner is results[0] else "transferred_in_custody")
    assert_exactly_once(build_application(settings), score)
