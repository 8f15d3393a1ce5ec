//! Property tests: roundtrips, and no panic on any input.

use std::sync::OnceLock;

use aegis_envelope::{
    Envelope, EnvelopeError, KEM_CT_LEN, OVERHEAD, RecipientPublicKey, RecipientSecretKey, open,
    seal,
};
use proptest::prelude::*;
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;

const CHAIN: u64 = 901;
const EPOCH: u32 = 1;

fn secret() -> &'static RecipientSecretKey {
    static KEY: OnceLock<RecipientSecretKey> = OnceLock::new();
    KEY.get_or_init(|| {
        RecipientSecretKey::generate(CHAIN, EPOCH, &mut ChaCha20Rng::from_seed([42; 32]))
            .expect("keygen")
    })
}

fn sealed_sample() -> &'static [u8] {
    static ENVELOPE: OnceLock<Vec<u8>> = OnceLock::new();
    ENVELOPE.get_or_init(|| {
        seal(
            secret().public_key(),
            b"sample payload",
            &mut ChaCha20Rng::from_seed([43; 32]),
        )
        .expect("seal")
    })
}

/// Bytes that pass the cheap checks (version, chain, epoch, length) so the
/// expensive paths (point decoding, decapsulation, AEAD) see random input.
fn plausible_envelope() -> impl Strategy<Value = Vec<u8>> {
    (
        prop::collection::vec(any::<u8>(), KEM_CT_LEN),
        prop::sample::select(vec![0x02u8, 0x03]),
        prop::array::uniform32(any::<u8>()),
        prop::collection::vec(any::<u8>(), 0..64),
    )
        .prop_map(|(kem_ct, tag, x, rest)| {
            let mut bytes = vec![1u8];
            bytes.extend_from_slice(&CHAIN.to_be_bytes());
            bytes.extend_from_slice(&EPOCH.to_be_bytes());
            bytes.extend_from_slice(&kem_ct);
            bytes.push(tag);
            bytes.extend_from_slice(&x);
            bytes.extend_from_slice(&rest);
            bytes
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn roundtrip_random_payloads(
        tx in prop::collection::vec(any::<u8>(), 1..4096),
        seed in prop::array::uniform32(any::<u8>()),
    ) {
        let mut rng = ChaCha20Rng::from_seed(seed);
        let envelope = seal(secret().public_key(), &tx, &mut rng).expect("seal");
        prop_assert_eq!(envelope.len(), OVERHEAD + tx.len());
        let parsed = Envelope::parse(&envelope).expect("parse");
        prop_assert_eq!(parsed.payload_len(), tx.len());
        let opened = open(secret(), &envelope).expect("open");
        prop_assert_eq!(opened.as_slice(), tx.as_slice());
    }

    #[test]
    fn roundtrip_random_keys(
        chain_id in any::<u64>(),
        epoch in any::<u32>(),
        key_seed in prop::array::uniform32(any::<u8>()),
        tx in prop::collection::vec(any::<u8>(), 1..256),
    ) {
        let mut rng = ChaCha20Rng::from_seed(key_seed);
        let key = RecipientSecretKey::generate(chain_id, epoch, &mut rng).expect("keygen");
        let public = RecipientPublicKey::from_bytes(&key.public_key().to_bytes()).expect("pk");
        let restored = RecipientSecretKey::from_bytes(&key.to_bytes()).expect("sk");
        let envelope = seal(&public, &tx, &mut rng).expect("seal");
        let parsed = Envelope::parse(&envelope).expect("parse");
        prop_assert_eq!(parsed.chain_id(), chain_id);
        prop_assert_eq!(parsed.key_epoch(), epoch);
        let opened = open(&restored, &envelope).expect("open");
        prop_assert_eq!(opened.as_slice(), tx.as_slice());
    }

    #[test]
    fn tampered_envelopes_never_open(
        edits in prop::collection::vec((any::<prop::sample::Index>(), 1u8..=255), 1..8),
    ) {
        let mut bytes = sealed_sample().to_vec();
        for (index, xor) in &edits {
            let i = index.index(bytes.len());
            bytes[i] ^= xor;
        }
        if bytes != sealed_sample() {
            prop_assert!(open(secret(), &bytes).is_err());
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..2048)) {
        let _ = Envelope::parse(&bytes);
        let _ = open(secret(), &bytes);
        let _ = RecipientPublicKey::from_bytes(&bytes);
        let _ = RecipientSecretKey::from_bytes(&bytes);
    }

    #[test]
    fn versioned_arbitrary_bytes_never_panic(mut bytes in prop::collection::vec(any::<u8>(), 0..2048)) {
        if let Some(first) = bytes.first_mut() {
            *first = 1;
        }
        let parsed = Envelope::parse(&bytes);
        let opened = open(secret(), &bytes);
        prop_assert!(opened.is_err());
        if parsed.is_ok() {
            prop_assert!(bytes.len() > OVERHEAD);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn plausible_garbage_is_refused_without_panic(bytes in plausible_envelope()) {
        let err = open(secret(), &bytes).expect_err("garbage opened");
        prop_assert!(
            matches!(
                err,
                EnvelopeError::Truncated { .. }
                    | EnvelopeError::EmptyPayload
                    | EnvelopeError::InvalidEphemeralKey
                    | EnvelopeError::DecryptionFailed
            ),
            "unexpected error {:?}", err
        );
    }

    #[test]
    fn key_encodings_with_valid_prefix_never_panic(
        body in prop::collection::vec(any::<u8>(), 0..3300),
    ) {
        let mut bytes = vec![1u8];
        bytes.extend_from_slice(&body);
        let _ = RecipientPublicKey::from_bytes(&bytes);
        let _ = RecipientSecretKey::from_bytes(&bytes);
        bytes.resize(aegis_envelope::PUBLIC_KEY_LEN, 0);
        let _ = RecipientPublicKey::from_bytes(&bytes);
        bytes.resize(aegis_envelope::SECRET_KEY_LEN, 0);
        let _ = RecipientSecretKey::from_bytes(&bytes);
    }
}
