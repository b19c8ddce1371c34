//! What `pli audit` reads from a server or an export: checkpoints, entries, reports.
#![no_main]
use libfuzzer_sys::fuzz_target;
use pli_proto::audit::AuditEntry;
use pli_proto::checkpoint::UnverifiedCheckpoint;
use pli_proto::report::Report;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = UnverifiedCheckpoint::parse(text);
    }
    let _ = AuditEntry::decode(data);
    let _ = serde_json::from_slice::<Report>(data);
});
