//! The decrypted pli envelope, as a client parses it from an MLS application message.
#![no_main]
use libfuzzer_sys::fuzz_target;
use pli_proto::payload::Envelope;

fuzz_target!(|data: &[u8]| {
    if let Ok(envelope) = Envelope::decode(data) {
        let _ = Envelope::decode(&envelope.encode()).expect("what decodes, re-decodes");
    }
});
