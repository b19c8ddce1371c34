-- Witnesses' cosignatures of audit checkpoints (public, like the checkpoints), one line per
-- witness and log size.
CREATE TABLE audit_cosignatures (
    size    BIGINT NOT NULL,
    witness TEXT NOT NULL,
    line    TEXT NOT NULL,
    PRIMARY KEY (size, witness)
);
