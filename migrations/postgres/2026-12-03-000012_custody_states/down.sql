ALTER TABLE evidence_items
    ADD COLUMN holder_id TEXT,
    ADD COLUMN custody_status TEXT,
    ADD COLUMN pending_to TEXT,
    ADD COLUMN pending_event TEXT,
    ADD COLUMN integrity TEXT,
    ADD COLUMN last_event_seq BIGINT;
UPDATE evidence_items i SET holder_id = s.holder_id, custody_status = s.custody_status,
    pending_to = s.pending_to, pending_event = s.pending_event, integrity = s.integrity,
    last_event_seq = s.last_event_seq
FROM custody_states s WHERE s.item_id = i.id;
ALTER TABLE evidence_items
    ALTER COLUMN holder_id SET NOT NULL,
    ALTER COLUMN custody_status SET NOT NULL,
    ALTER COLUMN integrity SET NOT NULL;
DROP TABLE custody_states;
