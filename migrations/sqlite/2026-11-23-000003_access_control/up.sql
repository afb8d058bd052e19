-- Access control and data protection: the lab flag, web login, vault categories for retention,
-- and the projections of shares, persons and access records.
ALTER TABLE agencies ADD COLUMN is_lab BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE users ADD COLUMN login TEXT;
ALTER TABLE users ADD COLUMN password_hash TEXT;
CREATE UNIQUE INDEX users_login ON users (login);
ALTER TABLE vault_sealed ADD COLUMN case_id TEXT;
ALTER TABLE vault_sealed ADD COLUMN category TEXT NOT NULL DEFAULT 'case_text';
CREATE INDEX vault_sealed_case ON vault_sealed (case_id);

CREATE TABLE case_shares (
    id TEXT PRIMARY KEY NOT NULL,
    case_id TEXT NOT NULL REFERENCES cases (id),
    seq BIGINT NOT NULL,
    shared_by TEXT NOT NULL,
    recipient_agency TEXT,
    recipient_state TEXT,
    handling TEXT NOT NULL,
    purposes TEXT NOT NULL,
    confidential BOOLEAN NOT NULL,
    consent_for_court BOOLEAN NOT NULL,
    expires_at TEXT NOT NULL,
    conditions_record TEXT,
    shared_at TEXT NOT NULL,
    revoked_at TEXT
);
CREATE INDEX case_shares_case ON case_shares (case_id);

CREATE TABLE persons (
    id TEXT PRIMARY KEY NOT NULL,
    case_id TEXT NOT NULL REFERENCES cases (id),
    data_record TEXT NOT NULL,
    seq BIGINT NOT NULL,
    recorded_at TEXT NOT NULL
);
CREATE INDEX persons_case ON persons (case_id);

CREATE TABLE access_records (
    seq BIGINT PRIMARY KEY NOT NULL,
    actor_id TEXT NOT NULL,
    agency_id TEXT NOT NULL,
    role TEXT NOT NULL,
    action TEXT NOT NULL,
    resource TEXT NOT NULL,
    case_id TEXT,
    purpose TEXT,
    decision TEXT NOT NULL,
    policies TEXT NOT NULL,
    at TEXT NOT NULL
);
CREATE INDEX access_records_case ON access_records (case_id);
