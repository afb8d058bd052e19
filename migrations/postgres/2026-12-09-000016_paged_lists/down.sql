DROP INDEX access_records_actor;
DROP INDEX persons_case;
CREATE INDEX persons_case ON persons (case_id);
DROP INDEX evidence_items_case_order;
DROP INDEX evidence_items_parent;
CREATE INDEX evidence_items_parent ON evidence_items (parent_id);
ALTER TABLE access_records DROP COLUMN repeated;
