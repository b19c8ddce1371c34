//! Bytes a device submits as an MLS message or uploads as a key package: the server's
//! boundary checks must refuse garbage without panicking.
#![no_main]
use libfuzzer_sys::fuzz_target;
use pli_proto::api::SubmitRequest;
use pli_proto::{DeviceId, GroupId, Username};

fuzz_target!(|data: &[u8]| {
    let request = SubmitRequest {
        group_id: GroupId::from_bytes(&[7; 16]).expect("valid"),
        message: data.to_vec().into(),
        recipients: vec![DeviceId::new(1).expect("valid")],
        welcome: None,
    };
    let _ = pli_server::delivery::parse_submission(request, 0, 10);
    let user = Username::parse("fuzz").expect("valid");
    let uploader = pli_server::keys::Uploader {
        username: &user,
        device_id: DeviceId::new(1).expect("valid"),
        signature_key: &[0; 32],
    };
    // A fixed "now" inside any lifetime openmls makes by default.
    let _ = pli_server::keys::validate(data, &uploader, false, 1_800_000_000);
});
