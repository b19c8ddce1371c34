//! The envelope's round trips, chain hashes, padding and limits.

use super::*;
use proptest::prelude::*;

#[test]
fn envelope_round_trips_and_chain_hash_is_stable() {
    let envelope = Envelope {
        v: ENVELOPE_VERSION,
        seq: 2,
        prev: Some("00".repeat(32)),
        sent_at: 1_700_000_000_000,
        body: Body::text("hi"),
        kt: Some(RootRef::new(3, &[7; 32])),
        id: None,
        frank: None,
        expires: None,
    };
    let bytes = envelope.encode();
    assert_eq!(Envelope::decode(&bytes), Ok(envelope));
    assert_eq!(Envelope::chain_hash(&bytes), Envelope::chain_hash(&bytes));
    assert_eq!(Envelope::chain_hash(&bytes).len(), 64);
}

#[test]
fn refuses_other_versions_and_oversized_text() {
    let mut envelope = Envelope {
        v: 2,
        seq: 1,
        prev: None,
        sent_at: 0,
        body: Body::text(""),
        kt: None,
        id: None,
        frank: None,
        expires: None,
    };
    assert_eq!(
        Envelope::decode(&envelope.encode()),
        Err(PayloadError::UnsupportedVersion)
    );
    envelope.v = ENVELOPE_VERSION;
    envelope.body = Body::text("x".repeat(MAX_TEXT_BYTES + 1));
    assert_eq!(
        Envelope::decode(&envelope.encode()),
        Err(PayloadError::FieldTooLarge)
    );
}

#[test]
fn texts_of_1_and_100_bytes_pad_to_one_size_and_unpad_back() {
    let envelope = |text: &str| Envelope {
        v: ENVELOPE_VERSION,
        seq: 7,
        prev: Some("00".repeat(32)),
        sent_at: 1_700_000_000_000,
        body: Body::text(text),
        kt: Some(RootRef::new(3, &[7; 32])),
        id: None,
        frank: None,
        expires: None,
    };
    let short = envelope("x").encode();
    let long = envelope(&"x".repeat(100)).encode();
    assert_ne!(short.len(), long.len());
    assert_eq!(pad(&short).len(), pad(&long).len());
    for encoded in [short, long] {
        let padded = pad(&encoded);
        let (decoded, unpadded) = Envelope::decode_padded(&padded).expect("decodes");
        assert_eq!(unpadded, &encoded[..]);
        assert_eq!(decoded.encode(), encoded);
        // Unpadded envelopes, as an earlier pli sent them, still decode.
        assert_eq!(
            Envelope::decode_padded(&encoded).expect("decodes").1,
            &encoded[..]
        );
    }
    assert_eq!(unpad(&[0, 0]), Err(PayloadError::Malformed));
    assert_eq!(unpad(&[1, 0]), Err(PayloadError::Malformed));
    assert!(pad(&vec![b'x'; MAX_PAYLOAD_BYTES - 1]).len() <= MAX_PAYLOAD_BYTES);
}

#[test]
fn a_body_of_an_unknown_kind_decodes_as_unknown() {
    let bytes =
        br#"{"v":1,"seq":3,"prev":null,"sent_at":5,"body":{"type":"poll","question":"lunch?"}}"#;
    let envelope = Envelope::decode(bytes).expect("decodes");
    assert_eq!(envelope.body, Body::Unknown);
    assert_eq!(envelope.seq, 3);
}

#[test]
fn replies_reactions_edits_and_deletions_name_a_well_formed_message() {
    let id = "ab".repeat(MESSAGE_ID_BYTES);
    let good = [
        Body::Text {
            text: "yes".into(),
            reply_to: Some(id.clone()),
        },
        Body::Reaction {
            to: id.clone(),
            reaction: "\u{1F44D}".into(),
        },
        Body::Reaction {
            to: id.clone(),
            reaction: String::new(),
        },
        Body::Edit {
            to: id.clone(),
            text: "fixed".into(),
        },
        Body::Delete { to: id.clone() },
    ];
    for body in good {
        assert_eq!(body.check_limits(), Ok(()), "{body:?}");
        assert_eq!(body.refers_to(), Some(id.as_str()));
        let json = serde_json::to_string(&body).expect("json");
        assert_eq!(serde_json::from_str::<Body>(&json).expect("back"), body);
    }
    let bad = [
        Body::Delete { to: "ab".into() },
        Body::Edit {
            to: "zz".repeat(MESSAGE_ID_BYTES),
            text: "x".into(),
        },
    ];
    for body in bad {
        assert_eq!(
            body.check_limits(),
            Err(PayloadError::Malformed),
            "{body:?}"
        );
    }
    let empty_edit = Body::Edit {
        to: id.clone(),
        text: String::new(),
    };
    assert_eq!(empty_edit.check_limits(), Err(PayloadError::FieldTooLarge));
    let long = Body::Reaction {
        to: id,
        reaction: "x".repeat(MAX_REACTION_BYTES + 1),
    };
    assert_eq!(long.check_limits(), Err(PayloadError::FieldTooLarge));
    let receipt = |to: Vec<String>| Body::Receipt { read: true, to };
    assert_eq!(receipt(vec!["ab".repeat(16); 3]).check_limits(), Ok(()));
    assert_eq!(
        receipt(vec![]).check_limits(),
        Err(PayloadError::FieldTooLarge)
    );
    assert_eq!(
        receipt(vec!["ab".repeat(16); MAX_RECEIPT_IDS + 1]).check_limits(),
        Err(PayloadError::FieldTooLarge)
    );
    assert_eq!(
        receipt(vec!["ab".into()]).check_limits(),
        Err(PayloadError::Malformed)
    );
    // A text without a reply is written as before, so earlier pli reads it unchanged.
    assert_eq!(
        serde_json::to_string(&Body::text("hi")).expect("json"),
        r#"{"type":"text","text":"hi"}"#
    );
}

proptest! {
    #[test]
    fn pad_round_trips(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
        let padded = pad(&bytes);
        prop_assert!(padded.len() >= MIN_PADDED_BYTES);
        prop_assert_eq!(unpad(&padded), Ok(&bytes[..]));
    }

    #[test]
    fn decode_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..256)) {
        let _ = Envelope::decode(&bytes);
    }
}
