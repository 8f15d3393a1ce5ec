//! Deterministic test vectors (seeded ChaCha20Rng), checked against
//! `tests/vectors/v1.json` and against fixed envelope hashes.
//!
//! Regenerate the JSON file (only when the format deliberately changes) with
//! `AEGIS_REGENERATE_VECTORS=1 cargo test -p aegis-envelope --test vectors`.

use std::path::PathBuf;

use aegis_envelope::{Envelope, RecipientSecretKey, open, seal};
use alloy_primitives::{B256, b256, keccak256};
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use serde_json::{Value, json};

const CHAIN_ID: u64 = 901;
const EPOCH: u32 = 1;

/// `00 01 02 … 1f`
fn key_seed() -> [u8; 32] {
    core::array::from_fn(|i| i as u8)
}

struct VectorSpec {
    name: &'static str,
    seal_seed: [u8; 32],
    payload: Vec<u8>,
    expected_id: B256,
    expected_prefix: &'static str,
}

fn specs() -> Vec<VectorSpec> {
    vec![
        VectorSpec {
            name: "ascii",
            // `20 21 … 3f`
            seal_seed: core::array::from_fn(|i| 0x20 + i as u8),
            payload: b"QuantumAegis envelope v1 test vector".to_vec(),
            expected_id: b256!(
                "0xa98d629c5e41e8f543b53984ec2b47f1db60d1b59c44b547f16a6994b173180d"
            ),
            expected_prefix: "01000000000000038500000001bcad2882c11217c42a2325698e2ed6600d2a63",
        },
        VectorSpec {
            name: "counter-300",
            // `40 41 … 5f`
            seal_seed: core::array::from_fn(|i| 0x40 + i as u8),
            payload: (0..300u32).map(|i| i as u8).collect(),
            expected_id: b256!(
                "0xe84b6b9709ac35b05b5ff08335a095f68ff85818996f088d925561a5c71594f0"
            ),
            expected_prefix: "010000000000000385000000012ad30df80e8a29bc8ab4d3d9f409ae86fb6c26",
        },
    ]
}

fn vectors_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/vectors/v1.json")
}

fn build() -> (Value, Vec<(VectorSpec, Vec<u8>)>) {
    let secret =
        RecipientSecretKey::generate(CHAIN_ID, EPOCH, &mut ChaCha20Rng::from_seed(key_seed()))
            .expect("keygen");
    let public = secret.public_key();
    let secret_bytes = secret.to_bytes();
    let dk = &secret_bytes[13..13 + 3168];
    let scalar = &secret_bytes[13 + 3168..];

    let mut built = Vec::new();
    let mut vectors = Vec::new();
    for spec in specs() {
        let envelope = seal(
            public,
            &spec.payload,
            &mut ChaCha20Rng::from_seed(spec.seal_seed),
        )
        .expect("seal");
        vectors.push(json!({
            "name": spec.name,
            "seal_seed": hex::encode(spec.seal_seed),
            "payload": hex::encode(&spec.payload),
            "envelope_len": envelope.len(),
            "envelope_id": format!("{}", keccak256(&envelope)),
            "envelope": hex::encode(&envelope),
        }));
        built.push((spec, envelope));
    }
    let value = json!({
        "format": "QuantumAegis envelope v1 (see crates/envelope/README.md)",
        "rng": "rand_chacha 0.3 ChaCha20Rng::from_seed(seed): the ChaCha20 keystream with key = seed, nonce = 0, block counter from 0, read in 32-byte draws",
        "key": {
            "seed": hex::encode(key_seed()),
            "chain_id": CHAIN_ID,
            "epoch": EPOCH,
            "public_key": hex::encode(public.to_bytes()),
            "public_key_hash": format!("{}", public.key_hash()),
            "ml_kem_1024_decapsulation_key": hex::encode(dk),
            "secp256k1_secret": hex::encode(scalar),
            "secret_key": hex::encode(secret_bytes.as_slice()),
        },
        "vectors": vectors,
    });
    (value, built)
}

#[test]
fn test_vectors_match_the_checked_in_file_and_fixed_hashes() {
    let (value, built) = build();
    let path = vectors_path();
    if std::env::var_os("AEGIS_REGENERATE_VECTORS").is_some() {
        let mut text = serde_json::to_string_pretty(&value).expect("json");
        text.push('\n');
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(&path, text).expect("write vectors");
        for (spec, envelope) in &built {
            eprintln!(
                "{}: id {} prefix {}",
                spec.name,
                keccak256(envelope),
                hex::encode(&envelope[..32])
            );
        }
    }
    let text = std::fs::read_to_string(&path).expect("read tests/vectors/v1.json");
    let stored: Value = serde_json::from_str(&text).expect("parse vectors json");
    assert_eq!(stored, value, "tests/vectors/v1.json is out of date");

    for (spec, envelope) in &built {
        assert_eq!(keccak256(envelope), spec.expected_id, "{}", spec.name);
        assert!(
            hex::encode(envelope).starts_with(spec.expected_prefix),
            "{}",
            spec.name
        );
        assert_eq!(
            Envelope::parse(envelope).expect("parse").id(),
            spec.expected_id
        );
    }
}

#[test]
fn test_vectors_open_from_the_exported_secret_key() {
    let text = std::fs::read_to_string(vectors_path()).expect("read tests/vectors/v1.json");
    let stored: Value = serde_json::from_str(&text).expect("parse vectors json");
    let secret_hex = stored["key"]["secret_key"].as_str().expect("secret_key");
    let secret =
        RecipientSecretKey::from_bytes(&hex::decode(secret_hex).expect("hex")).expect("secret key");
    assert_eq!(
        format!("{}", secret.key_hash()),
        stored["key"]["public_key_hash"].as_str().expect("hash")
    );
    let vectors = stored["vectors"].as_array().expect("vectors");
    assert_eq!(vectors.len(), 2);
    for vector in vectors {
        let envelope = hex::decode(vector["envelope"].as_str().expect("envelope")).expect("hex");
        let payload = hex::decode(vector["payload"].as_str().expect("payload")).expect("hex");
        assert_eq!(
            open(&secret, &envelope).expect("open").as_slice(),
            payload.as_slice()
        );
    }
}
