ALTER TABLE custody_events
    ADD CONSTRAINT custody_events_item_id_fkey FOREIGN KEY (item_id) REFERENCES evidence_items (id);
