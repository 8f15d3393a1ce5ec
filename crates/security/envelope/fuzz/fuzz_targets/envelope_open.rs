//! Parses and opens arbitrary bytes with a fixed recipient key; also decodes
//! them as key encodings. Nothing may panic.
//!
//! `cargo +nightly fuzz run envelope_open` (from `crates/envelope`).

#![no_main]

use std::sync::OnceLock;

use aegis_envelope::{Envelope, HEADER_LEN, RecipientPublicKey, RecipientSecretKey, open, seal};
use libfuzzer_sys::fuzz_target;
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;

const CHAIN_ID: u64 = 901;
const EPOCH: u32 = 1;

fn key() -> &'static RecipientSecretKey {
    static KEY: OnceLock<RecipientSecretKey> = OnceLock::new();
    KEY.get_or_init(|| {
        RecipientSecretKey::generate(CHAIN_ID, EPOCH, &mut ChaCha20Rng::from_seed([7; 32]))
            .expect("keygen with a seeded rng")
    })
}

fuzz_target!(|data: &[u8]| {
    let key = key();

    if let Ok(envelope) = Envelope::parse(data) {
        let _ = envelope.id();
        let _ = envelope.open(key);
    }
    let _ = open(key, data);

    // The same bytes addressed to the fixed key, so the fuzzer also reaches
    // point decoding, decapsulation and the AEAD instead of stopping at the
    // chain / epoch check.
    if data.len() > HEADER_LEN {
        let mut addressed = data.to_vec();
        addressed[0] = aegis_envelope::VERSION;
        addressed[1..9].copy_from_slice(&CHAIN_ID.to_be_bytes());
        addressed[9..HEADER_LEN].copy_from_slice(&EPOCH.to_be_bytes());
        assert!(open(key, &addressed).is_err(), "forged envelope opened");
    }

    let _ = RecipientPublicKey::from_bytes(data);
    let _ = RecipientSecretKey::from_bytes(data);

    // Sealing arbitrary payloads must roundtrip (or refuse by length).
    if let Ok(sealed) = seal(key.public_key(), data, &mut ChaCha20Rng::from_seed([8; 32])) {
        let opened = open(key, &sealed).expect("own envelope opens");
        assert_eq!(opened.as_slice(), data);
    }
});
