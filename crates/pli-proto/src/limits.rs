//! Limits both sides enforce. They are part of the protocol: a client that respects them
//! is never refused for size, and the server's refusals name the limit by error code.
//! README's "Limits" table repeats these numbers; keep both in step.

/// Largest MLS message (commit, welcome or application) the server accepts, in bytes.
/// Large enough for a commit adding many members at once; attachments will travel
/// separately, so text messages are far below it.
pub const MAX_MLS_MESSAGE_BYTES: usize = 256 * 1024;

/// Largest HTTP request body, in bytes: one message plus its welcome plus JSON and base64
/// overhead (4/3) with room to spare.
pub const MAX_HTTP_BODY_BYTES: usize = 1024 * 1024;

/// Largest WebSocket message and frame, in bytes (tungstenite's default is 64 MiB).
pub const MAX_WS_MESSAGE_BYTES: usize = 512 * 1024;

/// Most recipient devices one submitted message may name.
pub const MAX_RECIPIENTS: usize = 5_000;

/// Largest ephemeral MLS message (a typing indicator: one padded envelope of 512 bytes and
/// MLS's framing), in bytes: small enough to cross to other nodes in one PostgreSQL
/// `NOTIFY` (8,000 bytes) as base64 with its recipients.
pub const MAX_EPHEMERAL_BYTES: usize = 2 * 1024;

/// Most devices one ephemeral message goes to. A typing indicator in a larger group is
/// not sent (the client skips it): fan-out to thousands for a few seconds of "typing…"
/// would cost more than it tells.
pub const MAX_EPHEMERAL_RECIPIENTS: usize = 64;

/// Most messages waiting in one device's queue; a send that would exceed it for any
/// recipient is refused with `queue_full` so the sender knows (nothing is dropped).
pub const MAX_QUEUE_DEPTH: u64 = 10_000;

/// Most unclaimed one-time key packages one device may keep on the server.
pub const MAX_KEY_PACKAGES_PER_DEVICE: usize = 100;

/// Most key packages one upload may carry.
pub const MAX_KEY_PACKAGES_PER_UPLOAD: usize = 100;

/// Largest single key package, in bytes.
pub const MAX_KEY_PACKAGE_BYTES: usize = 16 * 1024;

/// How long the key packages pli clients make are valid, in seconds: 84 days (openmls's
/// default, stated here so that a new openmls cannot change it). openmls also dates
/// `not_before` an hour back, for skewed clocks.
pub const KEY_PACKAGE_LIFETIME_SECS: u64 = 84 * 86_400;

/// Longest total lifetime (`not_after - not_before`) of a key package, in seconds: 90 days
/// plus an hour of clock skew. RFC 9420 §7.2 has every application define one; the server
/// refuses a longer one on upload (`key_package_lifetime_too_long`) and clients refuse one
/// handed out on claim.
pub const MAX_KEY_PACKAGE_LIFETIME_SECS: u64 = 90 * 86_400 + 3_600;

/// A key package that expires within this many seconds is replaced at the device's next
/// top-up: the server counts it as expiring, and the client uploads new ones in its place,
/// so others can start a conversation with a device that comes online every two weeks.
pub const KEY_PACKAGE_RENEWAL_SECS: u64 = 14 * 86_400;

/// Most `Submit` frames one delivery socket may have unanswered; past it the server reads
/// nothing more from the socket until some are answered (back-pressure, not refusal).
pub const MAX_WS_SUBMITS_IN_FLIGHT: usize = 256;

/// Most message ids one `Ack` frame may carry.
pub const MAX_ACK_IDS: usize = 1_024;

/// Largest decrypted pli payload a client will parse, in bytes.
pub const MAX_PAYLOAD_BYTES: usize = 200 * 1024;

/// Longest text message, in bytes of UTF-8.
pub const MAX_TEXT_BYTES: usize = 64 * 1024;

/// Longest group name, in bytes of UTF-8.
pub const MAX_GROUP_NAME_BYTES: usize = 256;

/// Longest reaction, in bytes of UTF-8: one emoji, even a family or a flag of several
/// code points joined.
pub const MAX_REACTION_BYTES: usize = 32;

/// Largest encrypted profile (display name and avatar) the server stores per account, in
/// bytes of ciphertext.
pub const MAX_PROFILE_BYTES: usize = 64 * 1024;

/// Largest part of a linked device's history archive, in bytes of ciphertext: under the
/// largest payload a delivery frame carries, so a part travels like a message.
pub const MAX_HISTORY_PART_BYTES: usize = 192 * 1024;

/// Most parts one history archive may have (about 96 MiB of text): the approving device
/// stops there, and the new device reads no part numbered past it.
pub const MAX_HISTORY_PARTS: u32 = 512;

/// How long the server keeps a history part queued for the new device, in seconds: two
/// days, long enough to set the device up, short for ciphertext of a whole history.
pub const HISTORY_TTL_SECS: u64 = 2 * 86_400;

/// Longest display name, in bytes of UTF-8.
pub const MAX_DISPLAY_NAME_BYTES: usize = 128;

/// The longest disappearing-message timer, in seconds: four weeks, the longest a queue
/// keeps anything by default (a longer timer would promise nothing the queue's own
/// lifetime does not).
pub const MAX_DISAPPEAR_SECS: u64 = 28 * 86_400;
