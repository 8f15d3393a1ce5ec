//! alloy bindings of the QuantumAegis contracts and the formats the node shares with them.
//!
//! The bindings come from the ABIs in `abi/`, which `scripts/gen-abi.sh` writes from the Foundry
//! build (a test fails when they drift from the contracts). [`batch_commitment_digest`] is the
//! EIP-712 digest `SequencerAttestation.commitBatch` recovers the sequencer's ECDSA signature
//! from; a test vector shared with the Foundry tests pins it.

use alloy_primitives::{Address, B256};
use alloy_sol_types::{SolStruct, eip712_domain};

/// `SequencerAttestation`: TEE sequencer registry, batch commitments, checkpoints.
pub mod sequencer_attestation {
    #![allow(missing_docs)] // generated from the ABI
    alloy_sol_types::sol!(
        #[allow(missing_docs)]
        #[sol(all_derives)]
        SequencerAttestation,
        "abi/SequencerAttestation.json"
    );
}

/// `QRMSOracle`: the quantum-risk score, its level and the per-algorithm policy.
pub mod qrms_oracle {
    #![allow(missing_docs)] // generated from the ABI
    alloy_sol_types::sol!(
        #[allow(missing_docs)]
        #[sol(all_derives)]
        QRMSOracle,
        "abi/QRMSOracle.json"
    );
}

/// `DevPckVerifier`: the development PCK allow-list.
pub mod dev_pck_verifier {
    #![allow(missing_docs)] // generated from the ABI
    alloy_sol_types::sol!(
        #[allow(missing_docs)]
        #[sol(all_derives)]
        DevPckVerifier,
        "abi/DevPckVerifier.json"
    );
}

/// `MlDsa87Verifier`: FIPS 204 ML-DSA-87 verification on chain, and key expansion.
pub mod ml_dsa87_verifier {
    #![allow(missing_docs)] // generated from the ABI
    alloy_sol_types::sol!(
        #[allow(missing_docs)]
        #[sol(all_derives)]
        MlDsa87Verifier,
        "abi/MlDsa87Verifier.json"
    );
}

mod eip712 {
    alloy_sol_types::sol! {
        /// The struct `commitBatch` signatures are over.
        struct BatchCommitment {
            uint64 batchId;
            uint64 l2StartBlock;
            uint64 l2EndBlock;
            bytes32 commitment;
            bytes32 mldsaSigHash;
            bytes32 slhdsaSigHash;
        }
        /// The struct `commitBatchPq`'s ML-DSA-87 signatures are over.
        struct PqBatchCommitment {
            address sequencer;
            uint64 batchId;
            uint64 l2StartBlock;
            uint64 l2EndBlock;
            bytes32 commitment;
            bytes32 slhdsaSigHash;
        }
    }
}

/// EIP-712 domain name of `SequencerAttestation`.
pub const EIP712_NAME: &str = "QuantumAegis SequencerAttestation";
/// EIP-712 domain version of `SequencerAttestation`.
pub const EIP712_VERSION: &str = "1";

/// What `commitBatch` records for one batch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OnChainCommitment {
    /// Batch id (strictly increasing).
    pub batch_id: u64,
    /// First L2 block.
    pub l2_start_block: u64,
    /// Last L2 block.
    pub l2_end_block: u64,
    /// The batch commitment (the hash the signature bundle signs).
    pub commitment: B256,
    /// keccak256 of the ML-DSA-87 signature (zero when absent).
    pub mldsa_sig_hash: B256,
    /// keccak256 of the SLH-DSA-256s signature (zero when absent).
    pub slhdsa_sig_hash: B256,
}

/// The digest the sequencer signs with ECDSA for `commitBatch` on the contract at
/// `contract` on chain `chain_id`.
pub fn batch_commitment_digest(chain_id: u64, contract: Address, c: &OnChainCommitment) -> B256 {
    let domain = eip712_domain! {
        name: EIP712_NAME,
        version: EIP712_VERSION,
        chain_id: chain_id,
        verifying_contract: contract,
    };
    eip712::BatchCommitment {
        batchId: c.batch_id,
        l2StartBlock: c.l2_start_block,
        l2EndBlock: c.l2_end_block,
        commitment: c.commitment,
        mldsaSigHash: c.mldsa_sig_hash,
        slhdsaSigHash: c.slhdsa_sig_hash,
    }
    .eip712_signing_hash(&domain)
}

/// The digest `sequencer` signs with ML-DSA-87 (empty context) for `commitBatchPq` on the
/// contract at `contract` on chain `chain_id` (`mldsa_sig_hash` is not part of it).
pub fn pq_batch_commitment_digest(
    chain_id: u64,
    contract: Address,
    sequencer: Address,
    c: &OnChainCommitment,
) -> B256 {
    let domain = eip712_domain! {
        name: EIP712_NAME,
        version: EIP712_VERSION,
        chain_id: chain_id,
        verifying_contract: contract,
    };
    eip712::PqBatchCommitment {
        sequencer,
        batchId: c.batch_id,
        l2StartBlock: c.l2_start_block,
        l2EndBlock: c.l2_end_block,
        commitment: c.commitment,
        slhdsaSigHash: c.slhdsa_sig_hash,
    }
    .eip712_signing_hash(&domain)
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy_primitives::{address, b256, keccak256};
    use alloy_sol_types::SolCall;

    #[test]
    fn bindings_encode_the_contract_calls() {
        use sequencer_attestation::SequencerAttestation::commitBatchCall;
        // Selector of commitBatch(uint64,uint64,uint64,bytes32,bytes,bytes32,bytes32).
        let expected =
            &keccak256("commitBatch(uint64,uint64,uint64,bytes32,bytes,bytes32,bytes32)")[..4];
        assert_eq!(commitBatchCall::SELECTOR, expected);
        use sequencer_attestation::SequencerAttestation::registerSequencerCall;
        let expected =
            &keccak256("registerSequencer(bytes,address,bytes32,bytes32,bytes32,bytes32,bytes)")
                [..4];
        assert_eq!(registerSequencerCall::SELECTOR, expected);
        use qrms_oracle::QRMSOracle::submitReportCall;
        assert_eq!(
            submitReportCall::SELECTOR,
            &keccak256("submitReport(uint32,uint16)")[..4]
        );
    }

    /// The contracts with bindings (as `scripts/gen-abi.sh` lists them).
    const CONTRACTS: [&str; 4] = [
        "SequencerAttestation",
        "QRMSOracle",
        "DevPckVerifier",
        "MlDsa87Verifier",
    ];

    /// The checked-in ABIs are what `forge inspect` produces from the contracts now.
    #[test]
    fn abis_match_the_contracts() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let forge = root.join(".tools/bin/forge");
        assert!(forge.exists(), "forge missing: run scripts/bootstrap.sh");
        for contract in CONTRACTS {
            let out = std::process::Command::new(&forge)
                .current_dir(&root)
                .env(
                    "PATH",
                    format!(
                        "{}:{}",
                        root.join(".tools/bin").display(),
                        std::env::var("PATH").unwrap_or_default()
                    ),
                )
                .args(["inspect", contract, "abi", "--json"])
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
            let built: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
            let path = root.join(format!("crates/bindings/abi/{contract}.json"));
            let checked_in: serde_json::Value =
                serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
            assert_eq!(
                built, checked_in,
                "{contract} ABI drifted: run scripts/gen-abi.sh"
            );
        }
    }

    /// Each contract's `@custom:semver` tag is what its `version()` returns.
    #[test]
    fn semver_tags_match_version() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        for contract in CONTRACTS {
            let path = root.join(format!("contracts/{contract}.sol"));
            let source = std::fs::read_to_string(&path).unwrap();
            let tag = source
                .lines()
                .find_map(|l| l.trim().strip_prefix("/// @custom:semver "))
                .unwrap_or_else(|| panic!("{contract}: no @custom:semver tag"));
            let body = source
                .split("function version()")
                .nth(1)
                .unwrap_or_else(|| panic!("{contract}: no version()"));
            let returned = body
                .split('"')
                .nth(1)
                .unwrap_or_else(|| panic!("{contract}: version() returns no literal"));
            assert_eq!(
                tag.trim(),
                returned,
                "{contract}: @custom:semver and version() differ"
            );
        }
    }

    /// The vector `test/SequencerAttestation.t.sol` checks against the contract.
    #[test]
    fn digest_matches_the_shared_vector() {
        let c = OnChainCommitment {
            batch_id: 7,
            l2_start_block: 100,
            l2_end_block: 160,
            commitment: keccak256("commitment"),
            mldsa_sig_hash: keccak256("mldsa"),
            slhdsa_sig_hash: B256::ZERO,
        };
        let contract = address!("0x5FbDB2315678afecb367f032d93F642f64180aa3");
        let digest = batch_commitment_digest(901, contract, &c);
        assert_eq!(
            digest,
            b256!("0xf73ce9fa4107041ca47a2ada13f4fe3751adc6eca920c4eb047484557e72e57e")
        );
    }
}
