-- Caseload and workforce planning: one row per SMS episode with its review slots.
CREATE TABLE {episode} (
  patient_id TEXT NOT NULL,
  episode INTEGER NOT NULL,
  site TEXT,
  status TEXT NOT NULL,
  referred_at {ts} NOT NULL,
  referral_source TEXT NOT NULL,
  primary_substance TEXT NOT NULL,
  outcome TEXT,
  treatment_start {date},
  caseload_worker TEXT,
  caseload_site TEXT,
  risk_level TEXT,
  ended_at {ts},
  exit_reason TEXT,
  day_5_due {date},
  day_5_done {date},
  day_28_due {date},
  day_28_done {date},
  week_13_due {date},
  week_13_done {date},
  next_review_kind TEXT,
  next_review_due {date},
  PRIMARY KEY (patient_id, episode)
);
CREATE INDEX {episode}_worker ON {episode} (caseload_worker, status);
CREATE INDEX {episode}_site ON {episode} (site, status);
CREATE INDEX {episode}_due ON {episode} (status, next_review_due);
