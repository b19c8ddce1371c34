//! The local database's schema: openmls's tables come from its own migrations
//! (`mls::migrate`); these are pli's, applied in order by `local::open` and counted in
//! SQLite's `user_version`. A migration is never edited once released: a new one is added.

pub(crate) const MIGRATIONS: &[&str] = &[
    r#"
CREATE TABLE device (
    id               INTEGER PRIMARY KEY CHECK (id = 1),
    server           TEXT NOT NULL,
    username         TEXT NOT NULL,
    device_id        INTEGER NOT NULL,
    secret           TEXT NOT NULL,
    signature_public BLOB NOT NULL
);
CREATE TABLE conversations (
    group_id   BLOB PRIMARY KEY,
    name       TEXT NOT NULL DEFAULT '',
    direct     INTEGER NOT NULL DEFAULT 0,
    peer       TEXT,
    active     INTEGER NOT NULL DEFAULT 1,
    created_ms INTEGER NOT NULL
);
CREATE TABLE messages (
    local_id      INTEGER PRIMARY KEY,
    group_id      BLOB NOT NULL,
    server_id     INTEGER,
    sender        TEXT NOT NULL,
    sender_device INTEGER NOT NULL,
    seq           INTEGER NOT NULL,
    text          TEXT NOT NULL,
    sent_at       INTEGER NOT NULL,
    outgoing      INTEGER NOT NULL,
    received_ms   INTEGER NOT NULL DEFAULT 0,
    shown         INTEGER NOT NULL DEFAULT 0
);
CREATE UNIQUE INDEX messages_by_sender_seq ON messages(group_id, sender_device, seq);
CREATE INDEX messages_unshown ON messages(shown, local_id);
CREATE TABLE processed (server_id INTEGER PRIMARY KEY);
CREATE TABLE chains (
    group_id      BLOB NOT NULL,
    sender_device INTEGER NOT NULL,
    seq           INTEGER NOT NULL,
    hash          TEXT NOT NULL,
    PRIMARY KEY (group_id, sender_device)
);
CREATE TABLE outbox (
    id       INTEGER PRIMARY KEY,
    group_id BLOB NOT NULL,
    envelope BLOB NOT NULL
);
CREATE TABLE pending_commits (
    group_id BLOB PRIMARY KEY,
    message  BLOB NOT NULL
);
CREATE TABLE notices (
    id         INTEGER PRIMARY KEY,
    group_id   BLOB,
    alert      INTEGER NOT NULL,
    text       TEXT NOT NULL,
    created_ms INTEGER NOT NULL,
    shown      INTEGER NOT NULL DEFAULT 0
);
"#,
    r#"
-- Key transparency: the directory keys pinned at first contact, every root this device
-- verified (to check the directory only grows, and to catch a split view), the versions of
-- its own user's key history already checked, members whose keys still need checking
-- against the directory, and roots other members' messages carried, to compare.
CREATE TABLE kt_keys (
    id          INTEGER PRIMARY KEY CHECK (id = 1),
    origin      TEXT NOT NULL,
    signing_key BLOB NOT NULL,
    vrf_key     BLOB NOT NULL
);
CREATE TABLE kt_roots (
    epoch INTEGER PRIMARY KEY,
    root  BLOB NOT NULL
);
CREATE TABLE kt_checked_versions (version INTEGER PRIMARY KEY);
CREATE TABLE kt_unverified (
    group_id      BLOB NOT NULL,
    username      TEXT NOT NULL,
    device_id     INTEGER NOT NULL,
    signature_key BLOB NOT NULL,
    PRIMARY KEY (group_id, device_id)
);
CREATE TABLE kt_heard (
    epoch    INTEGER NOT NULL,
    root     BLOB NOT NULL,
    group_id BLOB NOT NULL,
    PRIMARY KEY (epoch, root)
);
CREATE TABLE kt_split (epoch INTEGER PRIMARY KEY);
ALTER TABLE conversations ADD COLUMN untrusted INTEGER NOT NULL DEFAULT 0;
"#,
    r#"
-- Member keys as the newest verified directory lookup of each user listed them (what every
-- outgoing message is checked against, `kt::members`); conversations joined but whose
-- members are not checked yet (hidden until they are); messages held until their sender's
-- key is verified (with that key, to match it), and messages of a kind this version cannot
-- display.
CREATE TABLE kt_verified_keys (
    username      TEXT NOT NULL,
    device_id     INTEGER NOT NULL,
    signature_key BLOB NOT NULL,
    PRIMARY KEY (username, device_id)
);
ALTER TABLE conversations ADD COLUMN pending INTEGER NOT NULL DEFAULT 0;
ALTER TABLE messages ADD COLUMN held INTEGER NOT NULL DEFAULT 0;
ALTER TABLE messages ADD COLUMN sender_key BLOB;
ALTER TABLE messages ADD COLUMN unsupported INTEGER NOT NULL DEFAULT 0;
-- When this device last replaced its own leaf in each conversation, and how many messages
-- it sent there since (`rotation`).
-- The newest public audit checkpoint this device verified: the next one must extend it.
CREATE TABLE audit_seen (
    id      INTEGER PRIMARY KEY CHECK (id = 1),
    origin  TEXT NOT NULL,
    log_key TEXT NOT NULL,
    size    INTEGER NOT NULL,
    root    TEXT NOT NULL
);
-- A linked device's one-time link secret, kept until the approving device's directory keys
-- arrive under it (`link_keys`).
CREATE TABLE link_pending (
    id     INTEGER PRIMARY KEY CHECK (id = 1),
    secret BLOB NOT NULL
);
-- The witnesses whose cosignature an audit checkpoint needs before this device keeps it.
CREATE TABLE audit_witnesses (vkey TEXT PRIMARY KEY);
CREATE TABLE leaf_rotations (
    group_id   BLOB PRIMARY KEY,
    rotated_ms INTEGER NOT NULL,
    sent       INTEGER NOT NULL DEFAULT 0
);
"#,
    r#"
-- Full-text search of the local history (`search`): an FTS5 index of the messages' text,
-- kept by triggers, so it changes in the very transaction that stores, alters or deletes a
-- message and never holds what the history does not. Built once from what is there.
CREATE VIRTUAL TABLE messages_fts USING fts5(text, content = 'messages', content_rowid = 'local_id');
INSERT INTO messages_fts (messages_fts) VALUES ('rebuild');
CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages BEGIN
    INSERT INTO messages_fts (rowid, text) VALUES (new.local_id, new.text);
END;
CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages BEGIN
    INSERT INTO messages_fts (messages_fts, rowid, text) VALUES ('delete', old.local_id, old.text);
END;
CREATE TRIGGER messages_fts_update AFTER UPDATE OF text ON messages BEGIN
    INSERT INTO messages_fts (messages_fts, rowid, text) VALUES ('delete', old.local_id, old.text);
    INSERT INTO messages_fts (rowid, text) VALUES (new.local_id, new.text);
END;
"#,
    r#"
-- A conversation's history read page by page, newest first (`timeline`), and how far the
-- user has read it: messages after `read_up_to` (a local id) are unread.
CREATE INDEX messages_by_conversation ON messages (group_id, local_id);
ALTER TABLE conversations ADD COLUMN read_up_to INTEGER NOT NULL DEFAULT 0;
-- An own message's outbox row (queued while it is there), and why it was given up.
ALTER TABLE messages ADD COLUMN outbox_id INTEGER;
ALTER TABLE messages ADD COLUMN failure TEXT;
"#,
    r#"
-- Users whose safety code this user compared and marked verified, with the code then (a
-- new code is a change to tell, not a verification), and alerts the user acknowledged
-- (an alert stays in view until then).
CREATE TABLE verified_users (
    username    TEXT PRIMARY KEY,
    safety_code TEXT NOT NULL,
    verified_ms INTEGER NOT NULL
);
ALTER TABLE notices ADD COLUMN acknowledged INTEGER NOT NULL DEFAULT 0;
-- An alert so grave that a front end sends nothing until the user acknowledged it (a
-- device key on the user's own account that none of their devices added).
ALTER TABLE notices ADD COLUMN blocks_sending INTEGER NOT NULL DEFAULT 0;
"#,
    r#"
-- A received text's franking (`franking`): the message id and franking key from its
-- envelope and the server's stamp, kept so the user can report it; absent when it carried
-- none that opens. Users this user blocked: their messages are dropped on arrival.
ALTER TABLE messages ADD COLUMN message_id BLOB;
ALTER TABLE messages ADD COLUMN frank_key BLOB;
ALTER TABLE messages ADD COLUMN frank_stamp BLOB;
CREATE TABLE blocked_users (
    username   TEXT PRIMARY KEY,
    blocked_ms INTEGER NOT NULL
);
"#,
    r#"
-- Replies, reactions, edits and deletion for everyone (`changes`). Every text's message id
-- is kept (own texts too), once per conversation: a later text claiming an id already
-- there keeps none, so nothing can be made to name it. A change to a message moves its
-- `rev` on (what a chat view asks for since what it shows); an edit keeps the text it
-- replaced in `message_edits`; reactions are one per user and message.
CREATE UNIQUE INDEX messages_by_message_id ON messages (group_id, message_id)
    WHERE message_id IS NOT NULL;
ALTER TABLE messages ADD COLUMN reply_to BLOB;
ALTER TABLE messages ADD COLUMN edited_ms INTEGER;
ALTER TABLE messages ADD COLUMN deleted INTEGER NOT NULL DEFAULT 0;
ALTER TABLE messages ADD COLUMN rev INTEGER NOT NULL DEFAULT 0;
CREATE INDEX messages_by_rev ON messages (rev) WHERE rev > 0;
CREATE TABLE message_edits (
    id          INTEGER PRIMARY KEY,
    local_id    INTEGER NOT NULL,
    text        TEXT NOT NULL,
    replaced_ms INTEGER NOT NULL
);
CREATE INDEX message_edits_by_message ON message_edits (local_id, id);
CREATE TABLE reactions (
    group_id   BLOB NOT NULL,
    message_id BLOB NOT NULL,
    username   TEXT NOT NULL,
    reaction   TEXT NOT NULL,
    sent_at    INTEGER NOT NULL,
    PRIMARY KEY (group_id, message_id, username)
);
-- The newest change a front end was handed (`Client::take_new`).
CREATE TABLE changes_taken (
    id  INTEGER PRIMARY KEY CHECK (id = 1),
    rev INTEGER NOT NULL
);
"#,
    r#"
-- Delivery and read receipts (`receipts`): the account's choice (`settings`) and each
-- conversation's (NULL: the account's), the receipts this device owes (sent with its next
-- outbox flush, then forgotten), and those other users sent for this account's messages.
CREATE TABLE settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
ALTER TABLE conversations ADD COLUMN receipts INTEGER;
CREATE TABLE receipts_due (
    group_id   BLOB NOT NULL,
    message_id BLOB NOT NULL,
    read       INTEGER NOT NULL,
    PRIMARY KEY (group_id, read, message_id)
);
CREATE TABLE receipts (
    group_id     BLOB NOT NULL,
    message_id   BLOB NOT NULL,
    username     TEXT NOT NULL,
    delivered_ms INTEGER NOT NULL,
    read_ms      INTEGER,
    PRIMARY KEY (group_id, message_id, username)
);
"#,
    r#"
-- Disappearing messages (`disappearing`): each conversation's timer in seconds (NULL:
-- none), and when each timed message is deleted from this device.
ALTER TABLE conversations ADD COLUMN disappear_s INTEGER;
ALTER TABLE messages ADD COLUMN expires_ms INTEGER;
CREATE INDEX messages_expiring ON messages (expires_ms) WHERE expires_ms IS NOT NULL;
"#,
    r#"
-- Devices this one approved that are still to be added to the account's existing
-- conversations (`linked_devices`), and when each was approved.
CREATE TABLE linked_devices_to_add (
    device_id   INTEGER PRIMARY KEY,
    approved_ms INTEGER NOT NULL
);
"#,
    r#"
-- Attachments (`attachments`): what each attachment message shared (its blob on the
-- server, its key and ciphertext hash, its name, type and thumbnail) and whether its
-- verified ciphertext is in the home's `attachments/` directory; and uploads not finished
-- yet, with the body to send once they are.
CREATE TABLE attachments (
    local_id      INTEGER PRIMARY KEY,
    attachment_id BLOB NOT NULL,
    file_key      BLOB NOT NULL,
    digest        BLOB NOT NULL,
    size          INTEGER NOT NULL,
    name          TEXT NOT NULL,
    media_type    TEXT NOT NULL,
    thumbnail     BLOB,
    downloaded    INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX attachments_by_id ON attachments (attachment_id);
CREATE TABLE attachment_uploads (
    attachment_id BLOB PRIMARY KEY,
    group_id      BLOB NOT NULL,
    body          TEXT NOT NULL,
    created_ms    INTEGER NOT NULL
);
"#,
    r#"
-- Profiles (`profiles`): the profile keys this device was given, per sending device (with
-- its signature key: a key is used only once the key directory verified that device, so a
-- ghost can neither rename anyone nor hold back their real key); the version of each user's
-- profile last fetched; the profiles opened (name, avatar); and the version of this
-- account's key last shared in each conversation.
CREATE TABLE profile_keys (
    username      TEXT NOT NULL,
    device_id     INTEGER NOT NULL,
    signature_key BLOB NOT NULL,
    profile_key   BLOB NOT NULL,
    version       INTEGER NOT NULL,
    PRIMARY KEY (username, device_id)
);
CREATE TABLE profile_fetched (
    username TEXT PRIMARY KEY,
    version  INTEGER NOT NULL
);
CREATE TABLE profiles (
    username TEXT PRIMARY KEY,
    name     TEXT NOT NULL,
    avatar   BLOB
);
CREATE TABLE profile_shares (
    group_id BLOB PRIMARY KEY,
    version  INTEGER NOT NULL
);
"#,
    r#"
-- History archives (`linked_history`): on the approving device, each waiting device's link
-- secret and the oldest send time the user chose to copy (NULL: none); on the new device,
-- the link secret its archive is sealed under, kept until every part came or
-- `linked_history::KEEP_SECRET_MS` passed, and the parts it took.
ALTER TABLE linked_devices_to_add ADD COLUMN link_secret BLOB;
ALTER TABLE linked_devices_to_add ADD COLUMN history_since_ms INTEGER;
CREATE TABLE history_link (
    id        INTEGER PRIMARY KEY CHECK (id = 1),
    secret    BLOB NOT NULL,
    linked_ms INTEGER NOT NULL,
    stored    INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE history_parts (part INTEGER PRIMARY KEY);
"#,
    r#"
-- Calls (`calls`): each call signalled in a conversation, who started it and when, whether
-- it is a video call, whether this account took it (answered or joined, on any of its
-- devices) or declined it, and when it ended.
CREATE TABLE calls (
    group_id   BLOB NOT NULL,
    call_id    BLOB NOT NULL,
    started_by TEXT NOT NULL,
    started_ms INTEGER NOT NULL,
    video      INTEGER NOT NULL DEFAULT 0,
    taken      INTEGER NOT NULL DEFAULT 0,
    declined   INTEGER NOT NULL DEFAULT 0,
    ended_ms   INTEGER,
    PRIMARY KEY (group_id, call_id)
);
"#,
    r#"
-- Call groups (`call_group`): the MLS group of each call this device started or asked to
-- join (joined once its Welcome came), and the joins and leaves of other devices this
-- device may have to commit.
CREATE TABLE call_groups (
    group_id     BLOB PRIMARY KEY,
    conversation BLOB NOT NULL,
    call_id      BLOB NOT NULL,
    joined       INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE call_changes (
    group_id  BLOB NOT NULL,
    username  TEXT NOT NULL,
    device_id INTEGER NOT NULL,
    joining   INTEGER NOT NULL,
    PRIMARY KEY (group_id, device_id)
);
"#,
];
