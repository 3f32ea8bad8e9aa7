-- Patient timeline: every event of a patient in order, with its attribution.
CREATE TABLE {timeline} (
  patient_id TEXT NOT NULL,
  version INTEGER NOT NULL,
  position {bigint} NOT NULL,
  event_type TEXT NOT NULL,
  episode INTEGER,
  occurred_at {ts} NOT NULL,
  recorded_at {ts} NOT NULL,
  actor_id TEXT NOT NULL,
  role TEXT NOT NULL,
  organisation TEXT NOT NULL,
  site TEXT NOT NULL,
  purpose_of_use TEXT NOT NULL,
  source TEXT NOT NULL,
  correlation_id TEXT NOT NULL,
  summary TEXT NOT NULL,
  payload {json} NOT NULL,
  in_error_reason TEXT,
  PRIMARY KEY (patient_id, version)
);
CREATE INDEX {timeline}_type ON {timeline} (event_type);
