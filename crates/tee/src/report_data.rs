//! The REPORTDATA a sequencer puts in its quotes.

use alloy_primitives::{Address, B256, keccak256};
use serde::{Deserialize, Serialize};

/// What a sequencer binds into the 64-byte REPORTDATA of a quote:
///
/// ```text
/// reportData[0:20]  = sequencer (secp256k1 address)
/// reportData[20:52] = keccak256(mldsaKeyHash ‖ slhdsaKeyHash ‖ encryptionKeyHash ‖ binding)
/// reportData[52:64] = 0
/// ```
///
/// The key hashes are `keccak256` of the raw public keys (computed by the caller); `binding` is
/// a registration nonce or a batch commitment.
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
    /// A registration nonce or a batch commitment.
    pub binding: B256,
}

impl ReportDataBinding {
    /// `keccak256(mldsaKeyHash ‖ slhdsaKeyHash ‖ encryptionKeyHash ‖ binding)`,
    /// REPORTDATA bytes [20, 52).
    pub fn commitment(&self) -> B256 {
        let mut buf = [0u8; 128];
        for (chunk, part) in buf.chunks_exact_mut(32).zip([
            &self.mldsa_key_hash,
            &self.slhdsa_key_hash,
            &self.encryption_key_hash,
            &self.binding,
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

    #[test]
    fn layout() {
        let b = ReportDataBinding {
            sequencer: address!("0x00112233445566778899aabbccddeeff00112233"),
            mldsa_key_hash: B256::repeat_byte(1),
            slhdsa_key_hash: B256::repeat_byte(2),
            encryption_key_hash: B256::repeat_byte(3),
            binding: B256::repeat_byte(4),
        };
        let rd = b.report_data();
        assert_eq!(&rd[..20], b.sequencer.as_slice());
        let mut preimage = Vec::new();
        for byte in 1..=4u8 {
            preimage.extend_from_slice(&[byte; 32]);
        }
        assert_eq!(&rd[20..52], keccak256(&preimage).as_slice());
        assert_eq!(&rd[52..], &[0u8; 12]);
        assert!(b.matches(&rd));
        let mut other = rd;
        other[63] = 1;
        assert!(!b.matches(&other));
        // Fixed vector (checked with `cast keccak`), for other implementations to compare.
        assert_eq!(
            B256::from_slice(&rd[20..52]),
            b256!("0x3fdc9032c16d440f6c96be209c36d3d0e1aed61a2531490fe0ca475eb615c40a")
        );
    }
}
