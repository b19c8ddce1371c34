//! Every JSON body the server accepts, and the identifiers inside them.
#![no_main]
use libfuzzer_sys::fuzz_target;
use pli_proto::api::{RegisterRequest, SubmitRequest, UploadKeyPackagesRequest};
use pli_proto::governance::{NewRequest, NewStaff, RejectRequest, ReportRequest};

fuzz_target!(|data: &[u8]| {
    let _ = serde_json::from_slice::<RegisterRequest>(data);
    let _ = serde_json::from_slice::<SubmitRequest>(data);
    let _ = serde_json::from_slice::<UploadKeyPackagesRequest>(data);
    let _ = serde_json::from_slice::<NewRequest>(data);
    let _ = serde_json::from_slice::<NewStaff>(data);
    let _ = serde_json::from_slice::<RejectRequest>(data);
    let _ = serde_json::from_slice::<ReportRequest>(data);
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = pli_proto::Username::parse(text);
        let _ = pli_proto::GroupId::parse_hex(text);
        let _ = pli_proto::governance::parse_day(text);
        let _ = pli_proto::report::Period::parse(text);
    }
});
