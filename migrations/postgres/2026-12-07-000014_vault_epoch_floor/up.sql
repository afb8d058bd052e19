-- The oldest vault epoch a new row may be wrapped under (node::vault): an erasure's key
-- rotation raises it before it re-wraps the vault and destroys the older keys, so a row sealed
-- under a key about to be destroyed (by this process or another on the same database) is
-- refused, never stored unreadable. `floor` is the epoch as 4 bytes big-endian, the prefix of
-- every wrapped key, so the two compare as bytes.
CREATE TABLE vault_epoch_floor (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    floor BYTEA NOT NULL
);
INSERT INTO vault_epoch_floor (id, floor) VALUES (1, '\x00000000');
-- Once per statement over the rows it inserted, not once per row: the append path writes a
-- batch's vault rows in one statement, and a row-level PL/pgSQL trigger cost it a sixth of its
-- throughput (docs/PERFORMANCE.md, "Vault sealing").
CREATE FUNCTION vault_sealed_epoch_floor() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (
        SELECT 1 FROM inserted
        WHERE length(wrapped_key) <> 64
           OR substring(wrapped_key FROM 1 FOR 4) < (SELECT floor FROM vault_epoch_floor WHERE id = 1)
    ) THEN
        RAISE EXCEPTION 'vault row wrapped under a retired epoch key';
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER vault_sealed_epoch_floor AFTER INSERT ON vault_sealed
    REFERENCING NEW TABLE AS inserted
    FOR EACH STATEMENT EXECUTE FUNCTION vault_sealed_epoch_floor();
