//! ML-DSA-87 signatures for `test/SequencerAttestation.t.sol`'s `commitBatchPq` tests.
//!
//! Forge cannot sign with ML-DSA, so the signatures are made here, with `fips204` and fixed
//! seeds, over [`pq_batch_commitment_digest`] for the registry the forge test deploys at a fixed
//! address on a fixed chain, and over the migration checkpoint the forge test records. The file
//! is `pk ‖ sig(batch 1) ‖ sig(batch 2) ‖ sig(batch 3) ‖ sig(checkpoint) ‖ sig(key handover)`.
//! This test checks the committed file is what it makes; regenerate with
//! `AEGIS_WRITE_VECTORS=1 cargo test -p aegis-bindings --test commit_pq_fixture`.

use aegis_bindings::{OnChainCommitment, pq_batch_commitment_digest};
use alloy_primitives::{Address, B256, address, keccak256};
use fips204::{
    ml_dsa_87,
    traits::{KeyGen, SerDes, Signer, Verifier},
};
use std::path::PathBuf;

/// The chain id and registry address the forge test uses (`create(0xa11c, nonce 0)`).
const CHAIN_ID: u64 = 31337;
const REGISTRY: Address = address!("0xe8A9Ab1AbC7651A5b7C2ED5B662F2f80BF5C446d");
/// `vm.addr(SEQUENCER_KEY)` of the forge fixture (secret key 0x5e9).
const SEQUENCER: Address = address!("0x78E6933E4641D36D2449c068D13eC23b519172cA");

/// Batch `id` of the forge test: blocks `10 (id - 1) + 1 ..= 10 id`, commitment
/// `keccak256("pq batch" ‖ uint64 id)`, an SLH-DSA hash for odd ids only.
fn batch(id: u64) -> OnChainCommitment {
    let tagged = |tag: &[u8]| keccak256([tag, &id.to_be_bytes()].concat());
    OnChainCommitment {
        batch_id: id,
        l2_start_block: 10 * (id - 1) + 1,
        l2_end_block: 10 * id,
        commitment: tagged(b"pq batch"),
        mldsa_sig_hash: B256::ZERO,
        slhdsa_sig_hash: if id % 2 == 1 {
            tagged(b"slh-dsa")
        } else {
            B256::ZERO
        },
    }
}

/// The checkpoint digest `recordCheckpoint` verifies (as `aegis_migration::Checkpoint::digest`
/// computes it): checkpoint 3 of block 500 with hash, state and asset roots of fixed labels.
fn checkpoint_digest() -> B256 {
    let mut buf = b"QuantumAegis checkpoint v1".to_vec();
    for word in [CHAIN_ID, 3, 500] {
        buf.extend_from_slice(&word.to_be_bytes());
    }
    for label in ["block", "state", "assets"] {
        buf.extend_from_slice(keccak256(label).as_slice());
    }
    keccak256(buf)
}

/// The key handover `updateKeys` verifies: the sequencer's keys rolled to hashes of fixed labels.
fn handover_digest() -> B256 {
    let mut buf = b"QuantumAegis key handover v1".to_vec();
    buf.extend_from_slice(&CHAIN_ID.to_be_bytes());
    buf.extend_from_slice(SEQUENCER.as_slice());
    for label in ["handover mldsa", "handover slhdsa", "handover encryption"] {
        buf.extend_from_slice(keccak256(label).as_slice());
    }
    keccak256(buf)
}

fn fixture() -> Vec<u8> {
    let (pk, sk) = ml_dsa_87::KG::keygen_from_seed(&keccak256("aegis commitBatchPq fixture key").0);
    let mut out = pk.clone().into_bytes().to_vec();
    for id in 1..=3 {
        let digest = pq_batch_commitment_digest(CHAIN_ID, REGISTRY, SEQUENCER, &batch(id));
        let seed = keccak256(
            [
                b"aegis commitBatchPq fixture sig".as_slice(),
                &id.to_be_bytes(),
            ]
            .concat(),
        );
        let sig = sk
            .try_sign_with_seed(&seed.0, digest.as_slice(), &[])
            .unwrap();
        assert!(pk.verify(digest.as_slice(), &sig, &[]));
        out.extend_from_slice(&sig);
    }
    for (label, digest) in [
        ("aegis recordCheckpoint fixture sig", checkpoint_digest()),
        ("aegis updateKeys fixture sig", handover_digest()),
    ] {
        let sig = sk
            .try_sign_with_seed(&keccak256(label).0, digest.as_slice(), &[])
            .unwrap();
        assert!(pk.verify(digest.as_slice(), &sig, &[]));
        out.extend_from_slice(&sig);
    }
    out
}

#[test]
fn the_committed_fixture_is_what_fips204_signs() {
    let path =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../test/fixtures/mldsa87/commit_pq.bin");
    let bytes = fixture();
    assert_eq!(bytes.len(), 2592 + 5 * 4627);
    if std::env::var_os("AEGIS_WRITE_VECTORS").is_some() {
        std::fs::write(&path, &bytes).unwrap();
    }
    let committed = std::fs::read(&path).expect("fixture missing: set AEGIS_WRITE_VECTORS=1");
    assert!(
        committed == bytes,
        "{} differs from what fips204 signs",
        path.display()
    );
}
