-- The newest entry of each case's custody record (DESIGN §8): the case's next entry of its
-- custody record links to it (`case_prev`, entry format 2). A projection like the others: the
-- sequencer writes it with each batch, `scelle rebuild` regenerates it from the log, and the
-- audit compares it with the log. Cases opened before are given the newest of their opening,
-- their items' registrations and their custody events.
CREATE TABLE case_heads (
    case_id TEXT PRIMARY KEY NOT NULL,
    seq BIGINT NOT NULL,
    leaf BYTEA NOT NULL
);
INSERT INTO case_heads (case_id, seq, leaf)
SELECT h.case_id, h.seq, l.leaf_hash
FROM (
    SELECT case_id, MAX(seq) AS seq FROM (
        SELECT id AS case_id, opened_seq AS seq FROM cases
        UNION ALL SELECT case_id, registered_seq FROM evidence_items
        UNION ALL SELECT i.case_id, e.seq FROM custody_events e
            JOIN evidence_items i ON i.id = e.item_id
    ) AS s GROUP BY case_id
) AS h
JOIN log_entries l ON l.seq = h.seq;
