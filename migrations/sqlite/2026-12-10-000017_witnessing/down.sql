DROP TABLE peer_alerts;
DROP TABLE cosigned_checkpoints;
DROP TABLE witnessed_logs;
