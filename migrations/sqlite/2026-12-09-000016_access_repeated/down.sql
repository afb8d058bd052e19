ALTER TABLE access_records DROP COLUMN repeated;
