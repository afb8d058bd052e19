DROP TRIGGER vault_sealed_epoch_floor;
DROP TABLE vault_epoch_floor;
