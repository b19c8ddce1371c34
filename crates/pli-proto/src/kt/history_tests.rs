//! Key histories: verified, and what they say about unendorsed devices.

use super::*;
use crate::ids::{DeviceId, Username};
use ed25519_dalek::{Signer, SigningKey};

fn user() -> Username {
    Username::parse("alice").expect("name")
}

fn key(seed: u8) -> SigningKey {
    SigningKey::from_bytes(&[seed; 32])
}

fn listed(id: u64, seed: u8, by: Option<(u64, u8)>) -> DirectoryDevice {
    let device_id = DeviceId::new(id).expect("id");
    let signature_key = key(seed).verifying_key().to_bytes().to_vec();
    let endorsement = by.map(|(by, by_seed)| Endorsement {
        by: DeviceId::new(by).expect("id"),
        signature: key(by_seed)
            .sign(&endorsement_message(&user(), device_id, &signature_key))
            .to_bytes(),
    });
    DirectoryDevice {
        device_id,
        signature_key,
        endorsement,
    }
}

fn version(version: u64, devices: Vec<DirectoryDevice>) -> VerifiedLookup {
    VerifiedLookup {
        epoch: version,
        version,
        devices,
    }
}

#[test]
fn safety_codes_match_on_both_sides_and_change_with_the_keys() {
    let bob = Username::parse("bob").expect("name");
    let alice_devices = vec![listed(1, 1, None)];
    let bob_devices = vec![listed(2, 2, None)];
    let code = safety_code((&user(), &alice_devices), (&bob, &bob_devices));
    assert_eq!(
        code,
        safety_code((&bob, &bob_devices), (&user(), &alice_devices))
    );
    let groups: Vec<&str> = code.split(' ').collect();
    assert_eq!(groups.len(), 12);
    assert!(
        groups
            .iter()
            .all(|g| g.len() == 5 && g.bytes().all(|b| b.is_ascii_digit()))
    );
    let swapped = vec![listed(2, 3, None)];
    assert_ne!(
        code,
        safety_code((&user(), &alice_devices), (&bob, &swapped))
    );
}

#[test]
fn devices_the_user_added_are_explained_and_others_are_not() {
    let honest = vec![
        version(1, vec![listed(1, 1, None)]),
        version(2, vec![listed(1, 1, None), listed(2, 2, Some((1, 1)))]),
        // Device 3 endorsed by device 2 in the same epoch as device 4 endorsed by 3.
        version(
            3,
            vec![
                listed(2, 2, Some((1, 1))),
                listed(3, 3, Some((2, 2))),
                listed(4, 4, Some((3, 3))),
            ],
        ),
        version(4, vec![]),
    ];
    assert_eq!(unexplained_devices(&user(), &honest), vec![]);

    // A device slipped in with no endorsement, one endorsed by a stranger's key, and a
    // known device whose key was swapped.
    let forged = vec![
        version(1, vec![listed(1, 1, None)]),
        version(2, vec![listed(1, 1, None), listed(9, 9, None)]),
        version(3, vec![listed(1, 1, None), listed(8, 8, Some((1, 7)))]),
        version(4, vec![listed(1, 5, None)]),
    ];
    assert_eq!(
        unexplained_devices(&user(), &forged),
        vec![
            (2, DeviceId::new(9).expect("id")),
            (3, DeviceId::new(8).expect("id")),
            (4, DeviceId::new(1).expect("id")),
        ]
    );
    // Two unendorsed devices at registration: neither can be told from a forgery.
    let twins = vec![version(1, vec![listed(1, 1, None), listed(2, 2, None)])];
    assert_eq!(unexplained_devices(&user(), &twins).len(), 2);
}

#[test]
fn after_an_account_ends_the_name_starts_again_with_one_device() {
    let taken_again = vec![
        version(1, vec![listed(1, 1, None)]),
        version(2, vec![]),
        version(3, vec![listed(5, 5, None)]),
        version(4, vec![listed(5, 5, None), listed(6, 6, Some((5, 5)))]),
    ];
    assert_eq!(unexplained_devices(&user(), &taken_again), vec![]);
    // The new account's first version is held to the registration rule too, and an old
    // device reappearing without the new one's endorsement is a stranger.
    let crowded = vec![
        version(1, vec![listed(1, 1, None)]),
        version(2, vec![]),
        version(3, vec![listed(5, 5, None), listed(6, 6, None)]),
        version(4, vec![listed(5, 5, None), listed(1, 1, None)]),
    ];
    let id = |n| DeviceId::new(n).expect("id");
    assert_eq!(
        unexplained_devices(&user(), &crowded),
        vec![(3, id(5)), (3, id(6)), (4, id(1))]
    );
}
