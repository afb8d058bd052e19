CREATE INDEX custody_events_item ON custody_events (item_id, seq);
ALTER TABLE custody_events DROP COLUMN item_prev_seq;
ALTER TABLE evidence_items DROP COLUMN last_event_seq;
