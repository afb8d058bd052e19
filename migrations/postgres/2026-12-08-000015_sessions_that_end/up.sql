-- Web sessions held by the node (issue 29): a cookie is a random secret, and only its SHA-256
-- is stored here, so logging out, changing a password, revoking a user's tokens or disabling a
-- user ends the session server-side, not only in the browser.
CREATE TABLE web_sessions (
    id_hash BYTEA PRIMARY KEY NOT NULL,
    user_id TEXT NOT NULL REFERENCES users (id),
    created_at TEXT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX web_sessions_by_user ON web_sessions (user_id);
-- When an administrator disabled the user (RFC 3339); no token, session or password works then.
ALTER TABLE users ADD COLUMN disabled_at TEXT;
