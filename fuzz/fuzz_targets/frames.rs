//! WebSocket frames in both directions: decoding never panics, and what decodes
//! re-encodes to the same bytes.
#![no_main]
use libfuzzer_sys::fuzz_target;
use pli_proto::frame::{ClientFrame, ServerFrame};

fuzz_target!(|data: &[u8]| {
    if let Ok(frame) = ServerFrame::decode(data) {
        assert_eq!(frame.encode(), data);
    }
    if let Ok(frame) = ClientFrame::decode(data) {
        assert_eq!(frame.encode(), data);
    }
});
