//! The value format's and the origin's tests.

use super::*;
use crate::ids::DeviceId;

fn device(id: u64, endorsed: bool) -> DirectoryDevice {
    DirectoryDevice {
        device_id: DeviceId::new(id).expect("id"),
        signature_key: vec![id as u8; 32],
        endorsement: endorsed.then(|| Endorsement {
            by: DeviceId::new(1).expect("id"),
            signature: [id as u8; 64],
        }),
    }
}

#[test]
fn values_round_trip_sorted_and_refuse_garbage() {
    let set = vec![device(5, true), device(1, false)];
    let bytes = encode_devices(&set);
    assert_eq!(bytes, encode_devices(&[device(1, false), device(5, true)]));
    let decoded = decode_devices(&bytes).expect("decode");
    assert_eq!(decoded, vec![device(1, false), device(5, true)]);
    assert_eq!(decode_devices(&encode_devices(&[])), Ok(vec![]));
    for cut in 0..bytes.len() {
        assert_eq!(decode_devices(&bytes[..cut]), Err(KtError::MalformedValue));
    }
    let mut extra = bytes.clone();
    extra.push(0);
    assert_eq!(decode_devices(&extra), Err(KtError::MalformedValue));
}

#[test]
fn the_origin_uses_the_log_host() {
    assert_eq!(origin("pli.example/audit"), "pli.example/kt");
}
