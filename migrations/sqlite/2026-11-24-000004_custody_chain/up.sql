-- Each custody event points back to the item's previous event, and each item to its latest:
-- an item's timeline is a walk down that chain. It replaces the (item_id, seq) index, which a
-- batch of appends for many items dirtied one page per item (more than half of what SQLite
-- wrote to its WAL per batch).
ALTER TABLE evidence_items ADD COLUMN last_event_seq BIGINT;
ALTER TABLE custody_events ADD COLUMN item_prev_seq BIGINT;
UPDATE custody_events SET item_prev_seq = (
    SELECT MAX(earlier.seq) FROM custody_events earlier
    WHERE earlier.item_id = custody_events.item_id AND earlier.seq < custody_events.seq
);
UPDATE evidence_items SET last_event_seq = (
    SELECT MAX(e.seq) FROM custody_events e WHERE e.item_id = evidence_items.id
);
DROP INDEX custody_events_item;
