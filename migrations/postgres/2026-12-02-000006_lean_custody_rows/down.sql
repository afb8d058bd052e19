-- The earlier shape: custody events keyed by id, `seq` unique, and the record repeated in
-- `details` (taken back from each event's log entry).
ALTER TABLE custody_events DROP CONSTRAINT custody_events_pkey;
ALTER TABLE custody_events ADD PRIMARY KEY (id);
ALTER TABLE custody_events ADD CONSTRAINT custody_events_seq_key UNIQUE (seq);
ALTER TABLE custody_events ADD COLUMN details TEXT;
UPDATE custody_events e SET details = (convert_from(l.body, 'UTF8')::jsonb -> 'custody')::text
FROM log_entries l WHERE l.seq = e.seq;
ALTER TABLE custody_events ALTER COLUMN details SET NOT NULL;
