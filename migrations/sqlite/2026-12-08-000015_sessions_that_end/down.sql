ALTER TABLE users DROP COLUMN disabled_at;
DROP INDEX web_sessions_by_user;
DROP TABLE web_sessions;
