-- Patient outcomes: referral outcomes, coded activity, TOP change, discharge reasons.
CREATE TABLE {referral} (
  patient_id TEXT NOT NULL,
  episode INTEGER NOT NULL,
  site TEXT,
  referred_at {ts} NOT NULL,
  source TEXT NOT NULL,
  outcome TEXT,
  outcome_at {ts},
  exit_reason TEXT,
  discharged_at {ts},
  PRIMARY KEY (patient_id, episode)
);
CREATE INDEX {referral}_site_time ON {referral} (site, referred_at);
CREATE TABLE {coded_activity} (
  patient_id TEXT NOT NULL,
  entry_version INTEGER NOT NULL,
  seq INTEGER NOT NULL,
  episode INTEGER,
  site TEXT,
  occurred_at {ts} NOT NULL,
  category TEXT NOT NULL,
  code TEXT NOT NULL,
  term TEXT NOT NULL,
  in_error {bool} NOT NULL,
  PRIMARY KEY (patient_id, entry_version, seq)
);
CREATE INDEX {coded_activity}_site_time ON {coded_activity} (site, occurred_at);
CREATE TABLE {top_change} (
  patient_id TEXT NOT NULL,
  episode INTEGER NOT NULL,
  site TEXT,
  start_at {ts} NOT NULL,
  latest_at {ts} NOT NULL,
  latest_stage TEXT NOT NULL,
  alcohol TEXT, opiates TEXT, crack TEXT, cocaine TEXT, amphetamines TEXT, cannabis TEXT,
  other TEXT, tobacco TEXT,
  psychological_health_change INTEGER,
  physical_health_change INTEGER,
  quality_of_life_change INTEGER,
  PRIMARY KEY (patient_id, episode)
);
CREATE INDEX {top_change}_site_time ON {top_change} (site, latest_at);
