-- The key directory (akd): its header and tree nodes by id, the value states by label and
-- epoch, the users whose devices changed since the last epoch, and every epoch's root.
CREATE TABLE kt_nodes (
    id   BYTEA PRIMARY KEY,
    data BYTEA NOT NULL
);
CREATE TABLE kt_states (
    label   BYTEA NOT NULL,
    epoch   BIGINT NOT NULL,
    version BIGINT NOT NULL,
    data    BYTEA NOT NULL,
    PRIMARY KEY (label, epoch)
);
CREATE TABLE kt_changes (
    seq      BIGSERIAL PRIMARY KEY,
    username TEXT NOT NULL
);
CREATE INDEX kt_changes_by_user ON kt_changes (username);
CREATE TABLE kt_roots (
    epoch BIGINT PRIMARY KEY,
    root  BYTEA NOT NULL,
    note  TEXT NOT NULL
);
-- A device added by another carries that device's endorsement (its id and signature).
ALTER TABLE devices ADD COLUMN endorsement BYTEA;
