DROP TABLE vault_sealed;
