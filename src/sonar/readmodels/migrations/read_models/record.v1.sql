-- Current record: one row per patient, the latest state of identity, setting and care.
CREATE TABLE {patient} (
  patient_id TEXT PRIMARY KEY,
  nhs_number TEXT,
  prison_number TEXT,
  pnc_id TEXT,
  given_name TEXT NOT NULL,
  family_name TEXT NOT NULL,
  date_of_birth {date} NOT NULL,
  sex TEXT NOT NULL,
  setting TEXT,
  location TEXT,
  active_episode INTEGER,
  episode_status TEXT,
  treatment_start {date},
  caseload_worker TEXT,
  caseload_site TEXT,
  risk_level TEXT,
  named_risks {json},
  acct_open {bool},
  dual_diagnosis TEXT,
  latest_top {json},
  latest_top_at {ts},
  care_plan {json},
  care_plan_revision INTEGER,
  alerts {json} NOT NULL,
  next_review_kind TEXT,
  next_review_due {date},
  version INTEGER NOT NULL,
  updated_at {ts} NOT NULL,
  position {bigint} NOT NULL
);
CREATE INDEX {patient}_nhs ON {patient} (nhs_number);
CREATE INDEX {patient}_prison ON {patient} (prison_number);
CREATE INDEX {patient}_name_dob ON {patient} (family_name, date_of_birth);
