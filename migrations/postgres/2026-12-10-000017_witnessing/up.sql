-- The Entente network (issue 30). What this node, as a witness, last cosigned for each peer's
-- log (C2SP tlog-witness: the check and the update are one statement, compare-and-set on the
-- size and root, durable before the answer); and this node's own checkpoints that a quorum of
-- its witnesses cosigned, the newest of which is the one it publishes.
CREATE TABLE witnessed_logs (
    origin TEXT PRIMARY KEY NOT NULL,
    size BIGINT NOT NULL,
    root BYTEA NOT NULL,
    checkpoint TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE TABLE cosigned_checkpoints (
    tree_size BIGINT PRIMARY KEY NOT NULL,
    note TEXT NOT NULL,
    created_at TEXT NOT NULL
);
-- Peers' logs this node caught contradicting themselves: an index of the `peer.misbehaved`
-- entries that hold the evidence (node-local, as sessions are: the entries are the record).
CREATE TABLE peer_alerts (
    offered_digest BYTEA PRIMARY KEY NOT NULL,
    log TEXT NOT NULL,
    seen TEXT NOT NULL,
    seq BIGINT NOT NULL,
    at TEXT NOT NULL
);
