-- ReSet appointment diary: one row per appointment and what became of it.
CREATE TABLE {appointment} (
  patient_id TEXT NOT NULL,
  appointment_id TEXT NOT NULL,
  kind TEXT NOT NULL,
  agency TEXT NOT NULL,
  starts_at {ts} NOT NULL,
  ends_at {ts} NOT NULL,
  place TEXT NOT NULL,
  status TEXT NOT NULL,
  confirmed_by TEXT,
  PRIMARY KEY (patient_id, appointment_id)
);
CREATE INDEX {appointment}_due ON {appointment} (status, ends_at);
