-- The oldest vault epoch a new row may be wrapped under (node::vault): an erasure's key
-- rotation raises it before it re-wraps the vault and destroys the older keys, so a row sealed
-- under a key about to be destroyed (by this process or another on the same database) is
-- refused, never stored unreadable. `floor` is the epoch as 4 bytes big-endian, the prefix of
-- every wrapped key, so the two compare as bytes.
CREATE TABLE vault_epoch_floor (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    floor BLOB NOT NULL
);
INSERT INTO vault_epoch_floor (id, floor) VALUES (1, X'00000000');
CREATE TRIGGER vault_sealed_epoch_floor BEFORE INSERT ON vault_sealed
WHEN length(NEW.wrapped_key) <> 64
  OR substr(NEW.wrapped_key, 1, 4) < (SELECT floor FROM vault_epoch_floor WHERE id = 1)
BEGIN
    SELECT RAISE(ABORT, 'vault row wrapped under a retired epoch key');
END;
