//! Behaviour of seal / parse / open and of the key encodings.

use aegis_envelope::{
    Envelope, EnvelopeError, HEADER_LEN, KEM_CT_LEN, MAX_PAYLOAD, MIN_ENVELOPE_LEN, OVERHEAD,
    PREFIX_LEN, PUBLIC_KEY_LEN, RecipientPublicKey, RecipientSecretKey, SECRET_KEY_LEN, open, seal,
};
use alloy_primitives::keccak256;
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;

const CHAIN: u64 = 901;
const EPOCH: u32 = 3;

fn rng(seed: u8) -> ChaCha20Rng {
    ChaCha20Rng::from_seed([seed; 32])
}

fn key() -> RecipientSecretKey {
    RecipientSecretKey::generate(CHAIN, EPOCH, &mut rng(1)).expect("keygen")
}

fn payload(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 31 + 7) as u8).collect()
}

#[test]
fn roundtrip_various_sizes() {
    let secret = key();
    let mut r = rng(2);
    for len in [1, 2, 15, 16, 17, 200, 10 * 1024, MAX_PAYLOAD] {
        let tx = payload(len);
        let envelope = seal(secret.public_key(), &tx, &mut r).expect("seal");
        assert_eq!(envelope.len(), OVERHEAD + len);
        let parsed = Envelope::parse(&envelope).expect("parse");
        assert_eq!(parsed.chain_id(), CHAIN);
        assert_eq!(parsed.key_epoch(), EPOCH);
        assert_eq!(parsed.version(), 1);
        assert_eq!(parsed.payload_len(), len);
        assert_eq!(parsed.id(), keccak256(&envelope));
        assert_eq!(parsed.as_bytes(), envelope.as_slice());
        assert_eq!(parsed.header().as_slice(), &envelope[..HEADER_LEN]);
        assert_eq!(
            parsed.kem_ciphertext().as_slice(),
            &envelope[HEADER_LEN..HEADER_LEN + KEM_CT_LEN]
        );
        assert_eq!(
            parsed.ephemeral_public_key().as_slice(),
            &envelope[HEADER_LEN + KEM_CT_LEN..PREFIX_LEN]
        );
        assert_eq!(parsed.sealed_payload(), &envelope[PREFIX_LEN..]);
        let opened = open(&secret, &envelope).expect("open");
        assert_eq!(opened.as_slice(), tx.as_slice());
        assert_eq!(
            parsed.open(&secret).expect("open parsed").as_slice(),
            tx.as_slice()
        );
    }
}

#[test]
fn sealing_is_randomised_and_deterministic_per_rng() {
    let secret = key();
    let tx = payload(50);
    let a = seal(secret.public_key(), &tx, &mut rng(9)).expect("seal");
    let b = seal(secret.public_key(), &tx, &mut rng(9)).expect("seal");
    let c = seal(secret.public_key(), &tx, &mut rng(10)).expect("seal");
    assert_eq!(a, b);
    assert_ne!(a, c);
    assert_ne!(a[HEADER_LEN..PREFIX_LEN], c[HEADER_LEN..PREFIX_LEN]);
}

#[test]
fn seal_refuses_empty_and_oversized_payloads() {
    let secret = key();
    let mut r = rng(3);
    assert_eq!(
        seal(secret.public_key(), &[], &mut r),
        Err(EnvelopeError::EmptyPayload)
    );
    assert_eq!(
        seal(secret.public_key(), &payload(MAX_PAYLOAD + 1), &mut r),
        Err(EnvelopeError::PayloadTooLarge {
            len: MAX_PAYLOAD + 1,
            max: MAX_PAYLOAD
        })
    );
}

#[test]
fn every_single_byte_tamper_is_refused_with_the_right_error() {
    let secret = key();
    let envelope = seal(secret.public_key(), &payload(100), &mut rng(4)).expect("seal");
    let eph_start = HEADER_LEN + KEM_CT_LEN;
    let mut invalid_point = 0;
    for pos in 0..envelope.len() {
        let mut tampered = envelope.clone();
        tampered[pos] ^= 0x01;
        let err = open(&secret, &tampered).expect_err("tampered envelope opened");
        match pos {
            0 => assert_eq!(err, EnvelopeError::UnsupportedVersion(0x00), "pos {pos}"),
            1..=8 => assert!(
                matches!(err, EnvelopeError::WrongChain { expected: CHAIN, got } if got != CHAIN),
                "pos {pos}: {err:?}"
            ),
            9..=12 => assert!(
                matches!(err, EnvelopeError::WrongEpoch { expected: EPOCH, got } if got != EPOCH),
                "pos {pos}: {err:?}"
            ),
            p if (eph_start..PREFIX_LEN).contains(&p) => {
                if err == EnvelopeError::InvalidEphemeralKey {
                    invalid_point += 1;
                } else {
                    assert_eq!(err, EnvelopeError::DecryptionFailed, "pos {pos}");
                }
            }
            _ => assert_eq!(err, EnvelopeError::DecryptionFailed, "pos {pos}"),
        }
    }
    // Flipping the compression tag (0x02 <-> 0x03) yields a valid point; most
    // x-coordinate flips do not; both must be refused.
    assert!(invalid_point > 0);
}

#[test]
fn truncation_at_every_length_is_refused() {
    let secret = key();
    let envelope = seal(secret.public_key(), &payload(40), &mut rng(5)).expect("seal");
    for len in 0..envelope.len() {
        let err = open(&secret, &envelope[..len]).expect_err("truncated envelope opened");
        if len < OVERHEAD {
            assert_eq!(
                err,
                EnvelopeError::Truncated {
                    needed: MIN_ENVELOPE_LEN,
                    got: len
                },
                "len {len}"
            );
        } else if len == OVERHEAD {
            assert_eq!(err, EnvelopeError::EmptyPayload);
        } else {
            assert_eq!(err, EnvelopeError::DecryptionFailed, "len {len}");
        }
    }
    // Appending is refused too.
    let mut longer = envelope.clone();
    longer.push(0);
    assert_eq!(open(&secret, &longer), Err(EnvelopeError::DecryptionFailed));
}

#[test]
fn wrong_chain_wrong_epoch_and_wrong_key_are_refused() {
    let secret = key();
    let envelope = seal(secret.public_key(), &payload(10), &mut rng(6)).expect("seal");

    let other_chain = RecipientSecretKey::generate(CHAIN + 1, EPOCH, &mut rng(1)).expect("keygen");
    assert_eq!(
        open(&other_chain, &envelope),
        Err(EnvelopeError::WrongChain {
            expected: CHAIN + 1,
            got: CHAIN
        })
    );
    let next_epoch = RecipientSecretKey::generate(CHAIN, EPOCH + 1, &mut rng(1)).expect("keygen");
    assert_eq!(
        open(&next_epoch, &envelope),
        Err(EnvelopeError::WrongEpoch {
            expected: EPOCH + 1,
            got: EPOCH
        })
    );
    let other_key = RecipientSecretKey::generate(CHAIN, EPOCH, &mut rng(7)).expect("keygen");
    assert_eq!(
        open(&other_key, &envelope),
        Err(EnvelopeError::DecryptionFailed)
    );
}

#[test]
fn the_key_hash_is_bound_into_the_key_schedule() {
    // Same key material, different epoch: even with the header rewritten to
    // match, the envelope does not open (salt binds the recipient key hash).
    let secret = key();
    let relabelled = RecipientSecretKey::generate(CHAIN, EPOCH + 1, &mut rng(1)).expect("keygen");
    assert_eq!(
        secret.public_key().kem_encapsulation_key(),
        relabelled.public_key().kem_encapsulation_key()
    );
    let mut envelope = seal(secret.public_key(), &payload(10), &mut rng(6)).expect("seal");
    envelope[9..13].copy_from_slice(&(EPOCH + 1).to_be_bytes());
    assert_eq!(
        open(&relabelled, &envelope),
        Err(EnvelopeError::DecryptionFailed)
    );
}

#[test]
fn parse_refuses_malformed_structure() {
    let secret = key();
    let envelope = seal(secret.public_key(), &payload(10), &mut rng(8)).expect("seal");

    assert_eq!(
        Envelope::parse(&[]).err(),
        Some(EnvelopeError::Truncated {
            needed: MIN_ENVELOPE_LEN,
            got: 0
        })
    );
    let mut v2 = envelope.clone();
    v2[0] = 0x02;
    assert_eq!(
        Envelope::parse(&v2).err(),
        Some(EnvelopeError::UnsupportedVersion(0x02))
    );

    let eph = HEADER_LEN + KEM_CT_LEN;
    for tag in [0x00, 0x04, 0x05, 0xff] {
        let mut bad = envelope.clone();
        bad[eph] = tag;
        assert_eq!(
            Envelope::parse(&bad).err(),
            Some(EnvelopeError::InvalidEphemeralKey),
            "tag {tag:#x}"
        );
    }
    // x = p (not a field element) and x = 5 (x^3 + 7 = 132 is not a square mod p).
    let p = hex::decode("fffffffffffffffffffffffffffffffffffffffffffffffffffffffefffffc2f")
        .expect("hex");
    let mut bad = envelope.clone();
    bad[eph + 1..PREFIX_LEN].copy_from_slice(&p);
    assert_eq!(
        Envelope::parse(&bad).err(),
        Some(EnvelopeError::InvalidEphemeralKey)
    );
    let mut five = [0u8; 32];
    five[31] = 5;
    bad[eph + 1..PREFIX_LEN].copy_from_slice(&five);
    assert_eq!(
        Envelope::parse(&bad).err(),
        Some(EnvelopeError::InvalidEphemeralKey)
    );

    let mut huge = envelope[..PREFIX_LEN].to_vec();
    huge.resize(OVERHEAD + MAX_PAYLOAD + 1, 0);
    assert_eq!(
        Envelope::parse(&huge).err(),
        Some(EnvelopeError::PayloadTooLarge {
            len: MAX_PAYLOAD + 1,
            max: MAX_PAYLOAD
        })
    );
    huge.truncate(OVERHEAD + MAX_PAYLOAD);
    assert_eq!(
        open(&secret, &huge).err(),
        Some(EnvelopeError::DecryptionFailed)
    );
}

#[test]
fn public_key_encoding_roundtrips_and_is_validated() {
    let secret = key();
    let public = secret.public_key();
    let bytes = public.to_bytes();
    assert_eq!(bytes.len(), PUBLIC_KEY_LEN);
    assert_eq!(bytes[0], 0x01);
    assert_eq!(&bytes[1..9], &CHAIN.to_be_bytes());
    assert_eq!(&bytes[9..13], &EPOCH.to_be_bytes());
    assert_eq!(
        &bytes[13..13 + 1568],
        public.kem_encapsulation_key().as_slice()
    );
    assert_eq!(
        &bytes[13 + 1568..],
        public.secp256k1_public_key().as_slice()
    );
    assert_eq!(public.key_hash(), keccak256(&bytes));
    assert_eq!(secret.key_hash(), public.key_hash());
    assert_eq!(public.chain_id(), CHAIN);
    assert_eq!(public.epoch(), EPOCH);

    let decoded = RecipientPublicKey::from_bytes(&bytes).expect("decode");
    assert_eq!(&decoded, public);

    let json = serde_json::to_string(public).expect("serialize");
    assert_eq!(json, format!("\"0x{}\"", hex::encode(&bytes)));
    let back: RecipientPublicKey = serde_json::from_str(&json).expect("deserialize");
    assert_eq!(&back, public);
    let unprefixed: RecipientPublicKey =
        serde_json::from_str(&format!("\"{}\"", hex::encode(&bytes))).expect("deserialize");
    assert_eq!(&unprefixed, public);
    assert!(serde_json::from_str::<RecipientPublicKey>("\"0x0102\"").is_err());
    assert!(serde_json::from_str::<RecipientPublicKey>("\"zz\"").is_err());

    assert!(matches!(
        RecipientPublicKey::from_bytes(&bytes[..bytes.len() - 1]),
        Err(EnvelopeError::InvalidPublicKey(_))
    ));
    let mut v2 = bytes.clone();
    v2[0] = 2;
    assert!(matches!(
        RecipientPublicKey::from_bytes(&v2),
        Err(EnvelopeError::InvalidPublicKey(_))
    ));
    // A 12-bit coefficient of 0xfff >= q = 3329.
    let mut bad_ek = bytes.clone();
    bad_ek[13] = 0xff;
    bad_ek[14] = 0xff;
    assert!(matches!(
        RecipientPublicKey::from_bytes(&bad_ek),
        Err(EnvelopeError::InvalidPublicKey(_))
    ));
    let mut bad_point = bytes.clone();
    bad_point[13 + 1568] = 0x04;
    assert!(matches!(
        RecipientPublicKey::from_bytes(&bad_point),
        Err(EnvelopeError::InvalidPublicKey(_))
    ));

    let debug = format!("{public:?}");
    assert!(debug.contains("chain_id: 901"), "{debug}");
}

#[test]
fn secret_key_encoding_roundtrips_and_is_validated() {
    let secret = key();
    let bytes = secret.to_bytes();
    assert_eq!(bytes.len(), SECRET_KEY_LEN);
    let decoded = RecipientSecretKey::from_bytes(&bytes).expect("decode");
    assert_eq!(decoded.public_key(), secret.public_key());
    assert_eq!(decoded.chain_id(), CHAIN);
    assert_eq!(decoded.epoch(), EPOCH);
    let envelope = seal(secret.public_key(), b"tx", &mut rng(11)).expect("seal");
    assert_eq!(open(&decoded, &envelope).expect("open").as_slice(), b"tx");

    let invalid = |b: &[u8]| {
        matches!(
            RecipientSecretKey::from_bytes(b),
            Err(EnvelopeError::InvalidSecretKey(_))
        )
    };
    assert!(invalid(&[]));
    assert!(invalid(&bytes[..bytes.len() - 1]));
    let mut v = bytes.to_vec();
    v[0] = 0;
    assert!(invalid(&v));
    // Corrupt the embedded encapsulation key: its hash no longer matches.
    let mut v = bytes.to_vec();
    v[13 + 1536 + 100] ^= 1;
    assert!(invalid(&v));
    // Zero scalar and the group order itself.
    let mut v = bytes.to_vec();
    let n = v.len();
    v[n - 32..].fill(0);
    assert!(invalid(&v));
    let order = hex::decode("fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141")
        .expect("hex");
    v[n - 32..].copy_from_slice(&order);
    assert!(invalid(&v));
}

#[test]
fn secret_key_debug_prints_no_secrets() {
    let secret = key();
    let debug = format!("{secret:?}");
    let bytes = secret.to_bytes();
    let scalar_hex = hex::encode(&bytes[bytes.len() - 32..]);
    let dk_start_hex = hex::encode(&bytes[13..29]);
    assert!(debug.starts_with("RecipientSecretKey"), "{debug}");
    assert!(!debug.contains(&scalar_hex));
    assert!(!debug.contains(&dk_start_hex));
    assert!(debug.len() < 300, "{debug}");
}

#[test]
fn secret_key_is_send_and_sync() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<RecipientSecretKey>();
    assert_send_sync::<RecipientPublicKey>();
    assert_send_sync::<Envelope<'static>>();
    assert_send_sync::<EnvelopeError>();
}

#[test]
fn errors_name_their_reason() {
    let msg = EnvelopeError::WrongChain {
        expected: 1,
        got: 2,
    }
    .to_string();
    assert!(msg.contains("chain 2") && msg.contains("chain 1"), "{msg}");
    assert!(
        EnvelopeError::UnsupportedVersion(7)
            .to_string()
            .contains("0x07")
    );
    assert!(
        EnvelopeError::Truncated { needed: 5, got: 3 }
            .to_string()
            .contains("got 3")
    );
}
