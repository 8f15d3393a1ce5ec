//! Bundles verified by independent implementations (pure-Python ML-DSA, SLH-DSA, ECDSA and
//! keccak, `tests/verify_bundle.py`), written from the README's format description alone.
//! The Python environment comes from `scripts/bootstrap.sh` (`.tools/bin/aegis-python`).

use aegis_pqc::{
    Algorithm, BatchCommitment, EcdsaSigner, MlDsa87Signer, SignatureBundle, Signer as _,
    SlhDsaSigner, SlhDsaVariant,
};
use alloy_primitives::{B256, b256, hex};
use std::{path::PathBuf, process::Command};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../..")
}

fn python() -> PathBuf {
    let path = std::env::var_os("AEGIS_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join(".tools/bin/aegis-python"));
    assert!(
        path.exists(),
        "{} missing: run scripts/bootstrap.sh to install the Python test environment",
        path.display()
    );
    path
}

/// Runs the Python verifier on `bundles`; returns its verdict line per bundle.
fn python_verdicts(bundles: &[Vec<u8>]) -> Vec<String> {
    let dir = tempfile::tempdir().unwrap();
    let files: Vec<PathBuf> = bundles
        .iter()
        .enumerate()
        .map(|(i, b)| {
            let path = dir.path().join(format!("{i}.hex"));
            std::fs::write(&path, hex::encode(b)).unwrap();
            path
        })
        .collect();
    let output = Command::new(python())
        .arg(root().join("crates/security/pqc/tests/verify_bundle.py"))
        .args(&files)
        .output()
        .expect("python runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.stderr.is_empty(),
        "verifier crashed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let lines: Vec<String> = stdout.lines().map(str::to_string).collect();
    assert_eq!(lines.len(), bundles.len(), "{stdout}");
    lines
}

#[test]
fn checked_in_vector_verifies_here_and_independently() {
    let text =
        std::fs::read_to_string(root().join("crates/security/pqc/tests/vectors/bundle-v1.hex"))
            .unwrap();
    let bytes = hex::decode(text.trim()).unwrap();
    let bundle = SignatureBundle::decode(&bytes).unwrap();
    // The commitment written in the README.
    assert_eq!(
        bundle.commitment.hash(),
        b256!("0x3447163d0e61014d3cca3d2b79be329e26baec1c0f94bb2a2c5c33b8765df80d")
    );
    assert_eq!(
        bundle.verify().unwrap(),
        vec![
            Algorithm::Secp256k1,
            Algorithm::MlDsa87,
            Algorithm::SlhDsaSha2_256s
        ]
    );
    let verdicts = python_verdicts(&[bytes]);
    assert!(
        verdicts[0].ends_with("ok secp256k1,ML-DSA-87,SLH-DSA-SHA2-256s"),
        "{verdicts:?}"
    );
}

#[test]
fn fresh_bundles_verify_independently_and_every_tampered_field_fails() {
    let mut bundle = SignatureBundle::new(BatchCommitment {
        chain_id: 10,
        batch_id: 42,
        first_block: 1000,
        last_block: 1099,
        block_hashes_hash: B256::repeat_byte(7),
        frames_hash: B256::repeat_byte(8),
        key_epoch: 3,
    });
    let mut rng = rand_core::OsRng;
    bundle
        .sign_with(&EcdsaSigner::generate(&mut rng), 3)
        .unwrap();
    bundle
        .sign_with(&MlDsa87Signer::generate(&mut rng), 3)
        .unwrap();
    let slh = SlhDsaSigner::generate(SlhDsaVariant::Sha2, &mut rng).unwrap();
    bundle.sign_with(&slh, 3).unwrap();

    let mut tampered: Vec<(String, SignatureBundle)> = Vec::new();
    let edit = |what: &str, f: &dyn Fn(&mut SignatureBundle)| {
        let mut b = bundle.clone();
        f(&mut b);
        (what.to_string(), b)
    };
    tampered.push(edit("chain id", &|b| b.commitment.chain_id ^= 1));
    tampered.push(edit("batch id", &|b| b.commitment.batch_id ^= 1));
    tampered.push(edit("first block", &|b| b.commitment.first_block ^= 1));
    tampered.push(edit("last block", &|b| b.commitment.last_block ^= 1));
    tampered.push(edit("block hashes", &|b| {
        b.commitment.block_hashes_hash.0[31] ^= 1
    }));
    tampered.push(edit("frames hash", &|b| b.commitment.frames_hash.0[0] ^= 1));
    tampered.push(edit("key epoch", &|b| {
        b.commitment.key_epoch += 1;
        for s in &mut b.signatures {
            s.key_epoch += 1;
        }
    }));
    for i in 0..bundle.signatures.len() {
        let name = bundle.signatures[i].algorithm.name();
        tampered.push(edit(&format!("{name} signature"), &|b| {
            let sig = &mut b.signatures[i].signature;
            let mid = sig.len() / 2;
            sig[mid] ^= 0x10;
        }));
        tampered.push(edit(&format!("{name} epoch"), &|b| {
            b.signatures[i].key_epoch += 1
        }));
        tampered.push(edit(&format!("{name} key"), &|b| {
            // Another valid key of the same scheme.
            let other = match b.signatures[i].algorithm {
                Algorithm::Secp256k1 => EcdsaSigner::generate(&mut rand_core::OsRng)
                    .public_key()
                    .to_vec(),
                Algorithm::MlDsa87 => MlDsa87Signer::from_seed(&[9; 32]).public_key().to_vec(),
                _ => {
                    let mut pk = b.signatures[i].public_key.clone();
                    pk[40] ^= 1;
                    pk
                }
            };
            b.signatures[i].public_key = other;
        }));
    }

    let mut encoded = vec![bundle.encode()];
    encoded.extend(tampered.iter().map(|(_, b)| b.encode()));
    let verdicts = python_verdicts(&encoded);
    assert!(
        verdicts[0].ends_with(" ok secp256k1,ML-DSA-87,SLH-DSA-SHA2-256s"),
        "{}",
        verdicts[0]
    );
    for ((what, b), verdict) in tampered.iter().zip(&verdicts[1..]) {
        assert!(
            verdict.contains(" FAIL "),
            "tampered {what} passed Python: {verdict}"
        );
        assert!(b.verify().is_err(), "tampered {what} passed Rust");
    }
}
