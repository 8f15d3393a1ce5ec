//! Property tests: decoders never panic, accepted encodings are canonical, messages round-trip.

mod common;

use aegis_envelope::RecipientSecretKey;
use aegis_keyshare::{
    AttesterKeys, Challenge, JoinRequest, KeyShare, SEALED_KEY_LEN, VERSION, WorkerId,
};
use aegis_tee::MIN_QUOTE_LENGTH;
use alloy_primitives::{Address, B256};
use proptest::prelude::*;
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use std::sync::LazyLock;

/// Genuine encodings to mutate: challenge, join request, key share.
static GENUINE: LazyLock<[Vec<u8>; 3]> = LazyLock::new(|| {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime");
    let x = runtime.block_on(common::exchange(1));
    [
        x.challenge.to_bytes(),
        x.request.to_bytes(),
        x.share.to_bytes(),
    ]
});

/// Decodes `bytes` as every message; whatever decodes must re-encode to exactly `bytes`.
fn decode_all(bytes: &[u8]) -> Result<(), TestCaseError> {
    if let Ok(m) = Challenge::from_bytes(bytes) {
        prop_assert_eq!(m.to_bytes(), bytes);
    }
    if let Ok(m) = JoinRequest::from_bytes(bytes) {
        prop_assert_eq!(m.to_bytes(), bytes);
    }
    if let Ok(m) = KeyShare::from_bytes(bytes) {
        prop_assert_eq!(m.to_bytes(), bytes);
    }
    Ok(())
}

fn b256() -> impl Strategy<Value = B256> {
    any::<[u8; 32]>().prop_map(B256::from)
}

fn attester() -> impl Strategy<Value = AttesterKeys> {
    (any::<[u8; 20]>(), b256(), b256()).prop_map(|(a, m, s)| AttesterKeys {
        sequencer: Address::from(a),
        mldsa_key_hash: m,
        slhdsa_key_hash: s,
    })
}

fn quote() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(any::<u8>(), MIN_QUOTE_LENGTH..MIN_QUOTE_LENGTH + 256)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..4096)) {
        decode_all(&bytes)?;
    }

    #[test]
    fn arbitrary_bodies_behind_a_valid_header_never_panic(
        kind in 1u8..=3,
        body in prop::collection::vec(any::<u8>(), 0..8192),
    ) {
        let mut bytes = vec![VERSION, kind];
        bytes.extend_from_slice(&body);
        decode_all(&bytes)?;
    }

    #[test]
    fn mutated_genuine_encodings_never_panic(
        which in 0usize..3,
        edits in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8),
        cut in any::<prop::sample::Index>(),
        truncate in any::<bool>(),
    ) {
        let mut bytes = GENUINE[which].clone();
        for (at, value) in edits {
            let i = at.index(bytes.len());
            bytes[i] = value;
        }
        if truncate {
            bytes.truncate(cut.index(bytes.len() + 1));
        }
        decode_all(&bytes)?;
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn challenges_round_trip(chain_id in any::<u64>(), key_epoch in any::<u32>(), nonce in b256()) {
        let m = Challenge { version: VERSION, chain_id, key_epoch, nonce };
        prop_assert_eq!(&Challenge::from_bytes(&m.to_bytes()).unwrap(), &m);
        let json = serde_json::to_string(&m).unwrap();
        prop_assert_eq!(&serde_json::from_str::<Challenge>(&json).unwrap(), &m);
    }

    #[test]
    fn join_requests_round_trip(
        chain_id in any::<u64>(),
        key_epoch in any::<u32>(),
        seed in any::<[u8; 32]>(),
        nonce in b256(),
        worker_id in "[a-zA-Z0-9._-]{1,64}",
        attester in attester(),
        quote in quote(),
    ) {
        let key = RecipientSecretKey::generate(chain_id, key_epoch, &mut ChaCha20Rng::from_seed(seed))
            .unwrap();
        let m = JoinRequest {
            version: VERSION,
            chain_id,
            nonce,
            worker_id: WorkerId::new(worker_id).unwrap(),
            transient_key: key.public_key().clone(),
            attester,
            quote: quote.into(),
        };
        prop_assert_eq!(&JoinRequest::from_bytes(&m.to_bytes()).unwrap(), &m);
        let json = serde_json::to_string(&m).unwrap();
        prop_assert_eq!(&serde_json::from_str::<JoinRequest>(&json).unwrap(), &m);
    }

    #[test]
    fn key_shares_round_trip(
        chain_id in any::<u64>(),
        key_epoch in any::<u32>(),
        nonce in b256(),
        member in attester(),
        sealed_key in prop::collection::vec(any::<u8>(), SEALED_KEY_LEN),
        quote in quote(),
    ) {
        let m = KeyShare {
            version: VERSION,
            chain_id,
            key_epoch,
            nonce,
            member,
            sealed_key: sealed_key.into(),
            quote: quote.into(),
        };
        prop_assert_eq!(&KeyShare::from_bytes(&m.to_bytes()).unwrap(), &m);
        let json = serde_json::to_string(&m).unwrap();
        prop_assert_eq!(&serde_json::from_str::<KeyShare>(&json).unwrap(), &m);
    }
}
