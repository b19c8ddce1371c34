-- Attachments (`store::attachments`): an encrypted blob's size, how many of its chunks
-- arrived, when it goes, and who uploaded it (NULL in a copy kept for another region's
-- uploader, and once the uploader's account or device is erased). The bytes are in the
-- blob store, not here.
CREATE TABLE attachments (
    id              BYTEA PRIMARY KEY,
    uploader        TEXT REFERENCES accounts(username) ON DELETE SET NULL,
    uploader_device BIGINT REFERENCES devices(device_id) ON DELETE SET NULL,
    size            BIGINT NOT NULL,
    received        INTEGER NOT NULL DEFAULT 0,
    expires_ms      BIGINT NOT NULL
);
CREATE INDEX attachments_expiring ON attachments (expires_ms);
CREATE INDEX attachments_by_uploader ON attachments (uploader) WHERE uploader IS NOT NULL;
-- The devices that may download each one, and whether each has.
CREATE TABLE attachment_recipients (
    attachment BYTEA NOT NULL REFERENCES attachments(id) ON DELETE CASCADE,
    device_id  BIGINT NOT NULL REFERENCES devices(device_id) ON DELETE CASCADE,
    fetched    BOOLEAN NOT NULL DEFAULT FALSE,
    PRIMARY KEY (attachment, device_id)
);
CREATE INDEX attachment_recipients_by_device ON attachment_recipients (device_id);
