"""The designs a team would pick instead of SONAR, each written plainly, as a team would.

- raw psycopg INSERT, one transaction per event, and batched (1000 rows per transaction):
  the physical limits of putting rows into PostgreSQL;
- a plain ``eventsourcing`` Application used naively: one aggregate class with a few
  ``@event`` methods, one transaction per command, no snapshots, the default JSON transcoder;
- a conventional CRUD schema (patients, episodes, assessments) whose tables all carry a
  PL/pgSQL audit trigger writing one row per change into an audit table.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any

import psycopg
from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, event

from sonar.config import Settings

# --- raw INSERT -----------------------------------------------------------------------------

RAW_DDL = ("CREATE TABLE IF NOT EXISTS {schema}.raw_events (id BIGSERIAL PRIMARY KEY, "
           "originator_id UUID NOT NULL, originator_version INTEGER NOT NULL, "
           "topic TEXT NOT NULL, state BYTEA NOT NULL, "
           "UNIQUE (originator_id, originator_version))")


def raw_body(size: int) -> bytes:
    """A JSON body of about ``size`` bytes (the mean size of SONAR's stored events)."""
    filler = max(0, size - 40)
    return json.dumps({"kind": "risk", "text": "x" * filler}).encode()


class RawWriter:
    """One connection; each call inserts one event row in its own transaction."""

    def __init__(self, url: str, schema: str, body: bytes) -> None:
        self.conn = psycopg.connect(url)
        self.schema, self.body = schema, body
        self.stream, self.version = uuid.uuid4(), 0
        self.sql = (f"INSERT INTO {schema}.raw_events (originator_id, originator_version, "
                    "topic, state) VALUES (%s, %s, %s, %s)")

    def insert_one(self, _: int) -> None:
        self.version += 1
        self.conn.execute(self.sql, (self.stream, self.version, "bench:Event", self.body))
        self.conn.commit()

    def insert_batch(self, rows: int = 1000) -> None:
        """``rows`` events in one transaction (executemany, pipelined by psycopg)."""
        first = self.version
        self.version += rows
        with self.conn.cursor() as cur:
            cur.executemany(self.sql, [(self.stream, v, "bench:Event", self.body)
                                       for v in range(first + 1, first + rows + 1)])
        self.conn.commit()

    def close(self) -> None:
        self.conn.close()


def raw_setup(url: str, schema: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(RAW_DDL.format(schema=schema))


# --- the naive eventsourcing application --------------------------------------------------


class Patient(Aggregate):
    """One aggregate per patient, with a few clinical @event methods and no other rules."""

    @event("Registered")
    def __init__(self, given_name: str, family_name: str, date_of_birth: str) -> None:
        self.given_name, self.family_name = given_name, family_name
        self.date_of_birth = date_of_birth
        self.episode_status = "none"
        self.assessments: list[dict[str, Any]] = []

    @event("Referred")
    def refer(self, source: str, substances: list[str]) -> None:
        self.episode_status = "referred"
        self.substances = substances

    @event("Accepted")
    def accept(self) -> None:
        self.episode_status = "open"

    @event("Assessed")
    def assess(self, kind: str, answers: dict[str, Any], by: str, at: str) -> None:
        self.assessments.append({"kind": kind, "answers": answers, "by": by, "at": at})


class NaiveApplication(Application[uuid.UUID]):
    """Defaults everywhere: JSON transcoder, no snapshots, one save per command."""

    name = "naive"


def naive_app(url: str, schema: str, pool_size: int = 20) -> NaiveApplication:
    env = Settings(database_url=url, database_schema=schema,
                   pool_size=pool_size).event_store_env()
    return NaiveApplication(env=env)


def naive_open_patient(app: NaiveApplication, n: int) -> uuid.UUID:
    patient = Patient("Bench", f"Person{n}", "1980-01-01")
    app.save(patient)
    loaded: Patient = app.repository.get(patient.id)
    loaded.refer("self", ["heroin", "crack"])
    app.save(loaded)
    loaded = app.repository.get(patient.id)
    loaded.accept()
    app.save(loaded)
    return patient.id


def naive_command(app: NaiveApplication, pid: uuid.UUID, i: int) -> None:
    """Load, call one method, save: a command the way the library's examples show."""
    patient: Patient = app.repository.get(pid)
    kind, answers = _assessment(i)
    patient.assess(kind, answers, "bench-sms-1", datetime.now(UTC).isoformat())
    app.save(patient)


def _assessment(i: int) -> tuple[str, dict[str, Any]]:
    kinds: tuple[tuple[str, dict[str, Any]], ...] = (
        ("risk", {"level": ("low", "medium", "high")[i % 3],
                  "risks": ["overdose", "opiate_withdrawal"]}),
        ("top", {"opiates_days": 12, "crack_days": 4, "alcohol_days": 2,
                 "psychological_health": 9, "physical_health": 11, "quality_of_life": 8}),
        ("dual_diagnosis", {"status": "no"}),
        ("brief_intervention", {"intervention": "alcohol_brief_advice",
                                "outcome": "completed"}),
        ("care_plan", {"goals": ["Stabilise", "Reduce illicit use"],
                       "interventions": ["304681000000107"]}),
    )
    return kinds[i % len(kinds)]


# --- CRUD with an audit trigger -----------------------------------------------------------

CRUD_DDL = """
CREATE TABLE {s}.patients (
  id UUID PRIMARY KEY, given_name TEXT NOT NULL, family_name TEXT NOT NULL,
  date_of_birth DATE NOT NULL, setting TEXT, location TEXT,
  updated_at TIMESTAMPTZ NOT NULL, updated_by TEXT NOT NULL);
CREATE TABLE {s}.episodes (
  patient_id UUID NOT NULL REFERENCES {s}.patients(id), number INTEGER NOT NULL,
  status TEXT NOT NULL, risk_level TEXT, dual_diagnosis TEXT, latest_top_at TIMESTAMPTZ,
  care_plan JSONB, updated_at TIMESTAMPTZ NOT NULL, updated_by TEXT NOT NULL,
  PRIMARY KEY (patient_id, number));
CREATE TABLE {s}.assessments (
  id BIGSERIAL PRIMARY KEY, patient_id UUID NOT NULL, episode INTEGER NOT NULL,
  kind TEXT NOT NULL, body JSONB NOT NULL, recorded_at TIMESTAMPTZ NOT NULL,
  recorded_by TEXT NOT NULL,
  FOREIGN KEY (patient_id, episode) REFERENCES {s}.episodes(patient_id, number));
CREATE INDEX ON {s}.assessments (patient_id, episode);
CREATE TABLE {s}.audit_log (
  id BIGSERIAL PRIMARY KEY, table_name TEXT NOT NULL, operation TEXT NOT NULL,
  row_key TEXT, old_row JSONB, new_row JSONB, actor TEXT,
  changed_at TIMESTAMPTZ NOT NULL DEFAULT clock_timestamp());
CREATE FUNCTION {s}.audit_row() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO {s}.audit_log (table_name, operation, row_key, old_row, new_row, actor)
  VALUES (TG_TABLE_NAME, TG_OP,
          CASE WHEN TG_OP = 'DELETE' THEN to_jsonb(OLD)->>'id' ELSE to_jsonb(NEW)->>'id' END,
          CASE WHEN TG_OP = 'INSERT' THEN NULL ELSE to_jsonb(OLD) END,
          CASE WHEN TG_OP = 'DELETE' THEN NULL ELSE to_jsonb(NEW) END,
          current_setting('app.actor', true));
  RETURN NULL;
END $$;
CREATE TRIGGER patients_audit AFTER INSERT OR UPDATE OR DELETE ON {s}.patients
  FOR EACH ROW EXECUTE FUNCTION {s}.audit_row();
CREATE TRIGGER episodes_audit AFTER INSERT OR UPDATE OR DELETE ON {s}.episodes
  FOR EACH ROW EXECUTE FUNCTION {s}.audit_row();
CREATE TRIGGER assessments_audit AFTER INSERT OR UPDATE OR DELETE ON {s}.assessments
  FOR EACH ROW EXECUTE FUNCTION {s}.audit_row();
"""

_EPISODE_COLUMN = {"risk": "risk_level = %(level)s",
                   "dual_diagnosis": "dual_diagnosis = %(status)s",
                   "top": "latest_top_at = now()", "care_plan": "care_plan = %(plan)s",
                   "brief_intervention": ""}


def crud_setup(url: str, schema: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(CRUD_DDL.format(s=schema))


class CrudWriter:
    """One connection; each command is one transaction: lock, check, INSERT, UPDATE."""

    def __init__(self, url: str, schema: str) -> None:
        self.conn = psycopg.connect(url)
        self.s = schema
        self.conn.execute("SELECT set_config('app.actor', 'bench-sms-1', false)")
        self.conn.commit()

    def open_patient(self, n: int) -> uuid.UUID:
        pid = uuid.uuid4()
        with self.conn.transaction():
            self.conn.execute(f"INSERT INTO {self.s}.patients VALUES "
                              "(%s, 'Bench', %s, '1980-01-01', 'prison', 'HMP Leeds', now(), "
                              "'bench-sms-1')", (pid, f"Person{n}"))
            self.conn.execute(f"INSERT INTO {self.s}.episodes (patient_id, number, status, "
                              "updated_at, updated_by) VALUES (%s, 1, 'open', now(), "
                              "'bench-sms-1')", (pid,))
        return pid

    def command(self, pid: uuid.UUID, i: int) -> None:
        kind, answers = _assessment(i)
        with self.conn.transaction():
            row = self.conn.execute(
                f"SELECT status FROM {self.s}.episodes WHERE patient_id = %s AND number = 1 "
                "FOR UPDATE", (pid,)).fetchone()
            if row is None or row[0] != "open":
                msg = "episode not open"
                raise RuntimeError(msg)
            self.conn.execute(
                f"INSERT INTO {self.s}.assessments (patient_id, episode, kind, body, "
                "recorded_at, recorded_by) VALUES (%s, 1, %s, %s, now(), 'bench-sms-1')",
                (pid, kind, json.dumps(answers)))
            column = _EPISODE_COLUMN[kind]
            self._update(f"{column}, " if column else "", pid, answers)

    def _update(self, sets: str, pid: uuid.UUID, answers: dict[str, Any]) -> None:
        params = {"level": answers.get("level"), "status": answers.get("status"),
                  "plan": json.dumps(answers), "pid": pid}
        self.conn.execute(f"UPDATE {self.s}.episodes SET {sets}updated_at = now(), "
                          "updated_by = 'bench-sms-1' WHERE patient_id = %(pid)s AND number = 1",
                          params)

    def close(self) -> None:
        self.conn.close()
