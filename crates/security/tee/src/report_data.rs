//! The REPORTDATA a sequencer puts in its quotes (format v3).

use alloy_primitives::{Address, B256, keccak256};
use serde::{Deserialize, Serialize};

/// What a quote is for: the purpose tag of its [`ReportDataDomain`]. The numbers are those of
/// `ISequencerAttestation.ReportDataPurpose` (`uint8` in the domain preimage).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[repr(u8)]
pub enum ReportDataPurpose {
    /// `SequencerAttestation.registerSequencer` (binding: the registration nonce).
    Registration = 1,
    /// `SequencerAttestation.updateKeys` (binding: the update nonce).
    KeyUpdate = 2,
    /// A batch attestation (binding: the batch commitment hash), served off chain.
    Batch = 3,
    /// The mempool encryption key served by `aegis_getEncryptionKey` (binding: the caller's nonce).
    MempoolKey = 4,
    /// The identity quote of `aegis_getAttestation` (binding: the caller's nonce).
    Identity = 5,
    /// A cluster worker's half of the attested mempool-key handshake (`aegis-keyshare`; binding:
    /// the session hash of the join request or of the key share). Off chain only: it has no
    /// counterpart in `ISequencerAttestation.ReportDataPurpose`.
    KeyShare = 6,
}

impl ReportDataPurpose {
    /// The tag as it appears in the domain preimage.
    pub fn tag(self) -> u8 {
        self as u8
    }
}

/// Where and for what a quote is valid:
/// `domain = keccak256(uint256(purpose) ‖ uint256(chainId) ‖ uint256(uint160(verifyingContract)))`
/// (96 bytes, Solidity's `abi.encode(uint8, uint256, address)`).
///
/// Quotes checked by a contract name it and the chain it lives on (registration and key update:
/// `SequencerAttestation` and `block.chainid`); quotes served off chain (batch, mempool key,
/// identity) bind the L2 chain id and `verifying_contract = 0`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReportDataDomain {
    /// What the quote is for.
    pub purpose: ReportDataPurpose,
    /// The chain id (of the verifying contract, or the L2 for off-chain quotes).
    pub chain_id: u64,
    /// The contract that checks the quote, or zero.
    pub verifying_contract: Address,
}

impl ReportDataDomain {
    /// A domain checked by `verifying_contract` on chain `chain_id`.
    pub fn on_chain(
        purpose: ReportDataPurpose,
        chain_id: u64,
        verifying_contract: Address,
    ) -> Self {
        Self {
            purpose,
            chain_id,
            verifying_contract,
        }
    }

    /// A domain for a quote served off chain (no verifying contract).
    pub fn off_chain(purpose: ReportDataPurpose, chain_id: u64) -> Self {
        Self::on_chain(purpose, chain_id, Address::ZERO)
    }

    /// `keccak256(uint256(purpose) ‖ uint256(chainId) ‖ uint256(uint160(verifyingContract)))`,
    /// as `SequencerAttestation.reportDataDomain` computes it.
    pub fn hash(&self) -> B256 {
        let mut buf = [0u8; 96];
        buf[31] = self.purpose.tag();
        buf[56..64].copy_from_slice(&self.chain_id.to_be_bytes());
        buf[76..96].copy_from_slice(self.verifying_contract.as_slice());
        keccak256(buf)
    }
}

/// What a sequencer binds into the 64-byte REPORTDATA of a quote (format v3):
///
/// ```text
/// reportData[0:20]  = sequencer (secp256k1 address)
/// reportData[20:52] = keccak256(mldsaKeyHash ‖ slhdsaKeyHash ‖ encryptionKeyHash ‖ binding ‖ domain)
/// reportData[52:64] = 0
/// ```
///
/// The key hashes are `keccak256` of the raw public keys (computed by the caller); `binding` is
/// a nonce or a batch commitment; `domain` is [`ReportDataDomain::hash`], so a quote made for one
/// purpose, chain or contract matches nowhere else.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReportDataBinding {
    /// The sequencer's secp256k1 address.
    pub sequencer: Address,
    /// `keccak256` of the ML-DSA-87 public key.
    pub mldsa_key_hash: B256,
    /// `keccak256` of the SLH-DSA public key.
    pub slhdsa_key_hash: B256,
    /// `keccak256` of the encryption (ML-KEM) public key.
    pub encryption_key_hash: B256,
    /// A nonce or a batch commitment.
    pub binding: B256,
    /// What the quote is for, on which chain, for which contract.
    pub domain: ReportDataDomain,
}

impl ReportDataBinding {
    /// `keccak256(mldsaKeyHash ‖ slhdsaKeyHash ‖ encryptionKeyHash ‖ binding ‖ domain)`,
    /// REPORTDATA bytes [20, 52).
    pub fn commitment(&self) -> B256 {
        let mut buf = [0u8; 160];
        for (chunk, part) in buf.chunks_exact_mut(32).zip([
            &self.mldsa_key_hash,
            &self.slhdsa_key_hash,
            &self.encryption_key_hash,
            &self.binding,
            &self.domain.hash(),
        ]) {
            chunk.copy_from_slice(part.as_slice());
        }
        keccak256(buf)
    }

    /// The 64-byte REPORTDATA: `sequencer ‖ commitment() ‖ 0^12`.
    pub fn report_data(&self) -> [u8; 64] {
        let mut out = [0u8; 64];
        let (address, rest) = out.split_at_mut(20);
        address.copy_from_slice(self.sequencer.as_slice());
        let (commitment, _zero) = rest.split_at_mut(32);
        commitment.copy_from_slice(self.commitment().as_slice());
        out
    }

    /// Whether `report_data` is exactly this binding's REPORTDATA.
    pub fn matches(&self, report_data: &[u8; 64]) -> bool {
        self.report_data() == *report_data
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy_primitives::{address, b256};

    /// The verifying contract of the shared vectors (`test_expectedReportData_rustVector` in
    /// `test/SequencerAttestation.t.sol`): anvil's first deployment address.
    const VECTOR_CONTRACT: Address = address!("0x5FbDB2315678afecb367f032d93F642f64180aa3");

    fn vector(domain: ReportDataDomain) -> ReportDataBinding {
        ReportDataBinding {
            sequencer: address!("0x00112233445566778899aabbccddeeff00112233"),
            mldsa_key_hash: B256::repeat_byte(1),
            slhdsa_key_hash: B256::repeat_byte(2),
            encryption_key_hash: B256::repeat_byte(3),
            binding: B256::repeat_byte(4),
            domain,
        }
    }

    #[test]
    fn layout() {
        let domain =
            ReportDataDomain::on_chain(ReportDataPurpose::Registration, 901, VECTOR_CONTRACT);
        let b = vector(domain);
        let rd = b.report_data();
        assert_eq!(&rd[..20], b.sequencer.as_slice());
        let mut domain_preimage = [0u8; 96];
        domain_preimage[31] = 1;
        domain_preimage[62..64].copy_from_slice(&901u16.to_be_bytes());
        domain_preimage[76..].copy_from_slice(VECTOR_CONTRACT.as_slice());
        assert_eq!(domain.hash(), keccak256(domain_preimage));
        let mut preimage = Vec::new();
        for byte in 1..=4u8 {
            preimage.extend_from_slice(&[byte; 32]);
        }
        preimage.extend_from_slice(domain.hash().as_slice());
        assert_eq!(&rd[20..52], keccak256(&preimage).as_slice());
        assert_eq!(&rd[52..], &[0u8; 12]);
        assert!(b.matches(&rd));
        let mut other = rd;
        other[63] = 1;
        assert!(!b.matches(&other));
    }

    /// The vectors `SequencerAttestation` reproduces (`test_expectedReportData_rustVector`),
    /// also in `crates/security/tee/README.md` and `contracts/README.md`.
    #[test]
    fn vectors() {
        let registration =
            ReportDataDomain::on_chain(ReportDataPurpose::Registration, 901, VECTOR_CONTRACT);
        assert_eq!(
            registration.hash(),
            b256!("0x07df586cf35dca2ba29685aaeeb58855d6bdf0ce554d6543514dc677e1dd4844")
        );
        assert_eq!(
            vector(registration).commitment(),
            b256!("0xc7105a005d197b86fb0a366efed28b325b4431541bdb944ea3ac8fe78c7f50f9")
        );
        let batch = ReportDataDomain::off_chain(ReportDataPurpose::Batch, 901);
        assert_eq!(
            batch.hash(),
            b256!("0xe037231b64f7040f572042471ede2de4b45c10a88d4a50c674d88b4775a62691")
        );
        assert_eq!(
            vector(batch).commitment(),
            b256!("0x18e21c5bad074e5a91ccdea0c6fadeb1ba6bec396802d92e354128de90f22199")
        );
    }

    /// A quote for one purpose, chain or contract does not match another.
    #[test]
    fn domains_separate() {
        let base =
            ReportDataDomain::on_chain(ReportDataPurpose::Registration, 901, VECTOR_CONTRACT);
        let variants = [
            ReportDataDomain {
                purpose: ReportDataPurpose::KeyUpdate,
                ..base
            },
            ReportDataDomain {
                purpose: ReportDataPurpose::Batch,
                ..base
            },
            ReportDataDomain {
                purpose: ReportDataPurpose::MempoolKey,
                ..base
            },
            ReportDataDomain {
                purpose: ReportDataPurpose::Identity,
                ..base
            },
            ReportDataDomain {
                purpose: ReportDataPurpose::KeyShare,
                ..base
            },
            ReportDataDomain {
                chain_id: 902,
                ..base
            },
            ReportDataDomain {
                verifying_contract: Address::ZERO,
                ..base
            },
        ];
        let rd = vector(base).report_data();
        for domain in variants {
            assert_ne!(domain.hash(), base.hash(), "{domain:?}");
            assert!(!vector(domain).matches(&rd), "{domain:?}");
        }
    }

    #[test]
    fn key_share_purpose_is_tag_6() {
        assert_eq!(ReportDataPurpose::KeyShare.tag(), 6);
        let domain = ReportDataDomain::off_chain(ReportDataPurpose::KeyShare, 901);
        let mut preimage = [0u8; 96];
        preimage[31] = 6;
        preimage[56..64].copy_from_slice(&901u64.to_be_bytes());
        assert_eq!(domain.hash(), keccak256(preimage));
        assert_eq!(
            serde_json::to_value(ReportDataPurpose::KeyShare).unwrap(),
            "keyShare"
        );
    }

    #[test]
    fn serde_names() {
        let b = vector(ReportDataDomain::off_chain(
            ReportDataPurpose::MempoolKey,
            901,
        ));
        let json = serde_json::to_value(b).unwrap();
        assert_eq!(json["domain"]["purpose"], "mempoolKey");
        assert_eq!(json["domain"]["chainId"], 901);
        assert_eq!(
            json["domain"]["verifyingContract"],
            "0x0000000000000000000000000000000000000000"
        );
        assert_eq!(
            serde_json::from_value::<ReportDataBinding>(json).unwrap(),
            b
        );
    }
}
