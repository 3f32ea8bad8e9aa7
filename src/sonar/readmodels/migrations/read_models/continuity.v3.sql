-- Continuity of care: each release from prison and whether community treatment followed
-- (days_to_treatment: calendar days in England from the day of release).
CREATE TABLE {release} (
  patient_id TEXT NOT NULL,
  release_version INTEGER NOT NULL,
  released_at {ts} NOT NULL,
  establishment TEXT,
  release_type TEXT NOT NULL,
  treatment_need {bool} NOT NULL,
  referred_on_release {bool} NOT NULL,
  first_treatment_at {ts},
  days_to_treatment INTEGER,
  PRIMARY KEY (patient_id, release_version)
);
CREATE INDEX {release}_site_time ON {release} (establishment, released_at);
