//! Binary and JSON encodings: exact layouts, and a typed error for every malformed input.

mod common;

use aegis_keyshare::{
    CHALLENGE_LEN, Challenge, DEFAULT_TCB_STATUSES, JoinPolicy, JoinRequest, KeyShare,
    KeyShareError, MAX_JOIN_REQUEST_LEN, MAX_KEY_SHARE_LEN, SEALED_KEY_LEN, WorkerId,
};
use aegis_tee::{MAX_QUOTE_LENGTH, MIN_QUOTE_LENGTH};
use alloy_primitives::{B256, keccak256};
use common::exchange;
use serde_json::{Value, json};

/// Offset of the worker id length byte in a join request.
const ID_LEN_AT: usize = 2 + 8 + 32;

#[test]
fn sizes_match_the_documented_layout() {
    assert_eq!(CHALLENGE_LEN, 46);
    assert_eq!(SEALED_KEY_LEN, 4875);
    assert_eq!(MAX_JOIN_REQUEST_LEN, 18_193);
    assert_eq!(MAX_KEY_SHARE_LEN, 21_393);
}

#[tokio::test]
async fn messages_have_the_documented_layout() {
    let x = exchange(0x0102_0304).await;

    let bytes = x.challenge.to_bytes();
    assert_eq!(bytes.len(), CHALLENGE_LEN);
    assert_eq!(&bytes[..2], &[1, 1]);
    assert_eq!(&bytes[2..10], &901u64.to_be_bytes());
    assert_eq!(&bytes[10..14], &[1, 2, 3, 4]);
    assert_eq!(&bytes[14..], x.challenge.nonce.as_slice());

    let r = &x.request;
    let bytes = r.to_bytes();
    assert_eq!(&bytes[..2], &[1, 2]);
    assert_eq!(&bytes[2..10], &901u64.to_be_bytes());
    assert_eq!(&bytes[10..42], r.nonce.as_slice());
    assert_eq!(bytes[ID_LEN_AT], 8);
    assert_eq!(&bytes[43..51], b"worker-2");
    assert_eq!(&bytes[51..1665], r.transient_key.to_bytes().as_slice());
    assert_eq!(&bytes[1665..1685], r.attester.sequencer.as_slice());
    assert_eq!(&bytes[1685..1717], r.attester.mldsa_key_hash.as_slice());
    assert_eq!(&bytes[1717..1749], r.attester.slhdsa_key_hash.as_slice());
    assert_eq!(&bytes[1749..1753], &(r.quote.len() as u32).to_be_bytes());
    assert_eq!(&bytes[1753..], r.quote.as_ref());
    // The binding, recomputed from the documented formula.
    let mut preimage = b"QuantumAegis key share v1 join".to_vec();
    preimage.extend_from_slice(r.nonce.as_slice());
    preimage.extend_from_slice(r.transient_key.key_hash().as_slice());
    preimage.push(8);
    preimage.extend_from_slice(b"worker-2");
    assert_eq!(r.binding(), keccak256(&preimage));
    let binding = r.report_data_binding();
    assert_eq!(binding.encryption_key_hash, r.transient_key.key_hash());
    assert_eq!(binding.domain.purpose.tag(), 6);
    assert_eq!(binding.domain.chain_id, 901);

    let s = &x.share;
    let bytes = s.to_bytes();
    assert_eq!(&bytes[..2], &[1, 3]);
    assert_eq!(&bytes[2..10], &901u64.to_be_bytes());
    assert_eq!(&bytes[10..14], &[1, 2, 3, 4]);
    assert_eq!(&bytes[14..46], s.nonce.as_slice());
    assert_eq!(&bytes[46..130], &[0u8; 84]); // anonymous member
    assert_eq!(&bytes[130..130 + SEALED_KEY_LEN], s.sealed_key.as_ref());
    let q = 130 + SEALED_KEY_LEN;
    assert_eq!(&bytes[q..q + 4], &(s.quote.len() as u32).to_be_bytes());
    assert_eq!(&bytes[q + 4..], s.quote.as_ref());
    let transient = r.transient_key.key_hash();
    let mut preimage = b"QuantumAegis key share v1 share".to_vec();
    preimage.extend_from_slice(s.nonce.as_slice());
    preimage.extend_from_slice(transient.as_slice());
    preimage.extend_from_slice(keccak256(&s.sealed_key).as_slice());
    assert_eq!(s.binding(&transient), keccak256(&preimage));
}

#[tokio::test]
async fn encodings_round_trip() {
    let x = exchange(2).await;
    assert_eq!(
        Challenge::from_bytes(&x.challenge.to_bytes()).unwrap(),
        x.challenge
    );
    assert_eq!(
        JoinRequest::from_bytes(&x.request.to_bytes()).unwrap(),
        x.request
    );
    assert_eq!(KeyShare::from_bytes(&x.share.to_bytes()).unwrap(), x.share);
}

fn truncations(message: &str, bytes: &[u8], decode: impl Fn(&[u8]) -> Result<(), KeyShareError>) {
    for n in 0..bytes.len() {
        match decode(&bytes[..n]) {
            Err(KeyShareError::Truncated { needed, got, .. }) => {
                assert_eq!(got, n, "{message} cut at {n}");
                assert!(needed > n && needed <= bytes.len(), "{message} cut at {n}");
            }
            other => panic!("{message} cut at {n}: {other:?}"),
        }
    }
}

#[tokio::test]
async fn every_truncation_is_a_typed_error() {
    let x = exchange(0).await;
    truncations("challenge", &x.challenge.to_bytes(), |b| {
        Challenge::from_bytes(b).map(drop)
    });
    truncations("join request", &x.request.to_bytes(), |b| {
        JoinRequest::from_bytes(b).map(drop)
    });
    truncations("key share", &x.share.to_bytes(), |b| {
        KeyShare::from_bytes(b).map(drop)
    });
}

type Decode = fn(&[u8]) -> Result<(), KeyShareError>;

#[tokio::test]
async fn trailing_oversized_wrong_version_and_wrong_kind_encodings_are_typed_errors() {
    let x = exchange(0).await;
    let encodings: [(&str, Vec<u8>, Decode); 3] = [
        ("challenge", x.challenge.to_bytes(), |b| {
            Challenge::from_bytes(b).map(drop)
        }),
        ("join request", x.request.to_bytes(), |b| {
            JoinRequest::from_bytes(b).map(drop)
        }),
        ("key share", x.share.to_bytes(), |b| {
            KeyShare::from_bytes(b).map(drop)
        }),
    ];
    for (name, bytes, decode) in &encodings {
        decode(bytes).unwrap();

        let mut longer = bytes.clone();
        longer.push(0);
        let err = decode(&longer).unwrap_err();
        if *name == "challenge" {
            assert!(
                matches!(
                    err,
                    KeyShareError::TooLarge {
                        len: 47,
                        max: 46,
                        ..
                    }
                ),
                "{err}"
            );
        } else {
            assert!(
                matches!(err, KeyShareError::TrailingBytes { extra: 1, .. }),
                "{name}: {err}"
            );
        }

        let mut huge = bytes.clone();
        huge.resize(MAX_KEY_SHARE_LEN + 1, 0);
        assert!(
            matches!(decode(&huge), Err(KeyShareError::TooLarge { .. })),
            "{name}"
        );

        for version in [0u8, 2, 0xff] {
            let mut other = bytes.clone();
            other[0] = version;
            let err = decode(&other).unwrap_err();
            assert!(
                matches!(err, KeyShareError::UnsupportedVersion { found, .. } if found == version),
                "{name}: {err}"
            );
        }

        for kind in [0u8, 4, 0xff] {
            let mut other = bytes.clone();
            other[1] = kind;
            let err = decode(&other).unwrap_err();
            assert!(
                matches!(err, KeyShareError::WrongMessageKind { found, .. } if found == kind),
                "{name}: {err}"
            );
        }
        // Each message read as the others.
        for (other_name, _, other_decode) in &encodings {
            if other_name != name {
                assert!(
                    matches!(
                        other_decode(bytes),
                        Err(KeyShareError::WrongMessageKind { .. })
                    ),
                    "{name} read as {other_name}"
                );
            }
        }
    }
    assert!(matches!(
        Challenge::from_bytes(&[]),
        Err(KeyShareError::Truncated {
            needed: 1,
            got: 0,
            ..
        })
    ));
}

#[tokio::test]
async fn malformed_join_request_fields_are_typed_errors() {
    let x = exchange(0).await;
    let bytes = x.request.to_bytes();
    let decode = |b: &[u8]| JoinRequest::from_bytes(b).unwrap_err();

    // Worker id: empty, too long, not UTF-8, control characters.
    let with_id = |id: &[u8]| {
        let mut b = bytes[..ID_LEN_AT].to_vec();
        b.push(id.len() as u8);
        b.extend_from_slice(id);
        b.extend_from_slice(&bytes[ID_LEN_AT + 1 + 8..]);
        b
    };
    assert!(JoinRequest::from_bytes(&with_id(b"w")).is_ok());
    assert!(JoinRequest::from_bytes(&with_id(&[b'w'; 64])).is_ok());
    for (id, reason) in [
        (&b""[..], "empty"),
        (&[b'w'; 65][..], "longer than 64 bytes"),
        (&[0xff, 0xfe][..], "not UTF-8"),
        (&b"a\nb"[..], "contains a control character"),
    ] {
        let err = decode(&with_id(id));
        assert!(
            matches!(err, KeyShareError::InvalidWorkerId(r) if r == reason),
            "{id:?}: {err}"
        );
    }

    // Transient key: not a key, or a key of another chain.
    let key_at = ID_LEN_AT + 1 + 8;
    let mut b = bytes.clone();
    b[key_at] = 0x02; // key encoding version
    assert!(matches!(decode(&b), KeyShareError::InvalidTransientKey(_)));
    let mut b = bytes.clone();
    b[2..10].copy_from_slice(&10u64.to_be_bytes());
    assert!(matches!(
        decode(&b),
        KeyShareError::TransientKeyMismatch {
            chain: 10,
            key_chain: 901,
            ..
        }
    ));

    // Quote length out of bounds, or longer than what follows.
    let len_at = bytes.len() - x.request.quote.len() - 4;
    for len in [
        0u32,
        MIN_QUOTE_LENGTH as u32 - 1,
        MAX_QUOTE_LENGTH as u32 + 1,
        u32::MAX,
    ] {
        let mut b = bytes.clone();
        b[len_at..len_at + 4].copy_from_slice(&len.to_be_bytes());
        assert!(
            matches!(
                decode(&b),
                KeyShareError::FieldLength { field: "quote", .. }
            ),
            "{len}"
        );
    }
    let mut b = bytes.clone();
    let longer = x.request.quote.len() as u32 + 1;
    b[len_at..len_at + 4].copy_from_slice(&longer.to_be_bytes());
    assert!(matches!(decode(&b), KeyShareError::Truncated { .. }));
    let shorter = x.request.quote.len() as u32 - 1;
    b[len_at..len_at + 4].copy_from_slice(&shorter.to_be_bytes());
    assert!(matches!(
        decode(&b),
        KeyShareError::TrailingBytes { extra: 1, .. }
    ));
}

#[tokio::test]
async fn malformed_key_share_fields_are_typed_errors() {
    let x = exchange(0).await;
    let bytes = x.share.to_bytes();
    let len_at = 130 + SEALED_KEY_LEN;
    for len in [0u32, u32::MAX] {
        let mut b = bytes.clone();
        b[len_at..len_at + 4].copy_from_slice(&len.to_be_bytes());
        assert!(matches!(
            KeyShare::from_bytes(&b),
            Err(KeyShareError::FieldLength { field: "quote", .. })
        ));
    }
    let mut share = x.share.clone();
    share.sealed_key = share.sealed_key[1..].to_vec().into();
    assert!(matches!(
        share.validate(),
        Err(KeyShareError::FieldLength {
            field: "sealed key",
            len: 4874,
            ..
        })
    ));
    // Encoded, the short sealed key shifts the quote length into the sealed bytes.
    assert!(KeyShare::from_bytes(&share.to_bytes()).is_err());
}

#[tokio::test]
async fn json_forms_round_trip_with_camel_case_hex_fields() {
    let x = exchange(5).await;

    let value = serde_json::to_value(&x.challenge).unwrap();
    assert_eq!(value["version"], 1);
    assert_eq!(value["chainId"], 901);
    assert_eq!(value["keyEpoch"], 5);
    assert_eq!(
        value["nonce"],
        format!("0x{}", hex(x.challenge.nonce.as_slice()))
    );
    assert_eq!(
        serde_json::from_value::<Challenge>(value).unwrap(),
        x.challenge
    );

    let value = serde_json::to_value(&x.request).unwrap();
    assert_eq!(value["workerId"], "worker-2");
    let key = value["transientKey"].as_str().unwrap();
    assert_eq!(
        key,
        format!("0x{}", hex(&x.request.transient_key.to_bytes()))
    );
    assert!(value["attester"]["mldsaKeyHash"].is_string());
    assert_eq!(value["quote"], format!("0x{}", hex(&x.request.quote)));
    assert_eq!(
        serde_json::from_value::<JoinRequest>(value).unwrap(),
        x.request
    );

    let value = serde_json::to_value(&x.share).unwrap();
    assert_eq!(
        value["sealedKey"],
        format!("0x{}", hex(&x.share.sealed_key))
    );
    assert!(value["member"]["sequencer"].is_string());
    assert_eq!(serde_json::from_value::<KeyShare>(value).unwrap(), x.share);
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn refused<T: serde::de::DeserializeOwned + std::fmt::Debug>(value: Value, why: &str) {
    let result = serde_json::from_value::<T>(value);
    let err = result.expect_err(why).to_string();
    assert!(!err.is_empty());
}

#[tokio::test]
async fn json_forms_obey_the_binary_rules() {
    let x = exchange(0).await;
    let challenge = serde_json::to_value(&x.challenge).unwrap();
    let request = serde_json::to_value(&x.request).unwrap();
    let share = serde_json::to_value(&x.share).unwrap();
    let with = |base: &Value, field: &str, v: Value| {
        let mut out = base.clone();
        out[field] = v;
        out
    };

    refused::<Challenge>(with(&challenge, "version", json!(2)), "version 2");
    refused::<Challenge>(with(&challenge, "extra", json!(1)), "unknown field");
    refused::<Challenge>(with(&challenge, "nonce", json!("0x1234")), "short nonce");
    refused::<Challenge>(with(&challenge, "nonce", json!("0xzz")), "bad hex");
    let mut missing = challenge.clone();
    missing.as_object_mut().unwrap().remove("keyEpoch");
    refused::<Challenge>(missing, "missing field");

    refused::<JoinRequest>(with(&request, "version", json!(0)), "version 0");
    refused::<JoinRequest>(with(&request, "chainId", json!(10)), "key of another chain");
    refused::<JoinRequest>(with(&request, "workerId", json!("")), "empty worker id");
    refused::<JoinRequest>(with(&request, "workerId", json!("w".repeat(65))), "long id");
    refused::<JoinRequest>(with(&request, "quote", json!("0x00")), "short quote");
    refused::<JoinRequest>(with(&request, "transientKey", json!("0x01")), "short key");
    refused::<JoinRequest>(with(&request, "extra", json!(null)), "unknown field");
    let mut attester = request.clone();
    attester["attester"]["extra"] = json!(1);
    refused::<JoinRequest>(attester, "unknown attester field");

    refused::<KeyShare>(with(&share, "version", json!(2)), "version 2");
    refused::<KeyShare>(with(&share, "sealedKey", json!("0x00")), "short sealed key");
    refused::<KeyShare>(with(&share, "quote", json!("0x")), "empty quote");
    refused::<KeyShare>(with(&share, "extra", json!([])), "unknown field");
}

#[test]
fn worker_ids_and_policies() {
    let id: WorkerId = "sequencer-1.eu".parse().unwrap();
    assert_eq!(id.as_str(), "sequencer-1.eu");
    assert_eq!(id.to_string(), "sequencer-1.eu");
    assert_eq!(serde_json::to_value(&id).unwrap(), "sequencer-1.eu");
    assert!(WorkerId::new("ß-ünïcode").is_ok());
    assert!(WorkerId::new("tab\there").is_err());
    assert!(serde_json::from_value::<WorkerId>(json!("")).is_err());

    let workload = B256::repeat_byte(7);
    let policy: JoinPolicy = serde_json::from_value(json!({ "workloads": [workload] })).unwrap();
    assert_eq!(policy, JoinPolicy::new([workload]));
    assert!(policy.allows_workload(&workload));
    assert!(!policy.allows_workload(&B256::ZERO));
    for status in DEFAULT_TCB_STATUSES {
        assert!(policy.accepts_tcb_status(status));
    }
    assert!(!policy.accepts_tcb_status("OutOfDate"));
    let strict = policy.clone().with_tcb_statuses(["UpToDate"]);
    assert!(!strict.accepts_tcb_status("development"));
    let round: JoinPolicy = serde_json::from_value(serde_json::to_value(&strict).unwrap()).unwrap();
    assert_eq!(round, strict);
    assert!(serde_json::from_value::<JoinPolicy>(json!({ "workloads": [], "x": 1 })).is_err());
}
