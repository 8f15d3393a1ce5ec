//! The L1-attributes deposit that opens every OP block (what a rollup node inserts).
//!
//! The one home of its layout: encoded by development sequencing and tests, decoded by the
//! batcher (a batch's epoch) and checked against the predeploys. Layout per the OP specs
//! (`protocol/deposits.md`, Ecotone/Isthmus/Jovian `l1-attributes`): packed big-endian fields
//! after a 4-byte selector.

use crate::{ChainSpec, OpFork, predeploys::L1_BLOCK};
use alloy_primitives::{Address, B256, Bytes, TxKind, U256, address};
use op_alloy_consensus::{DepositSourceDomain, L1InfoDepositSource, TxDeposit};

/// Sender of the L1-attributes deposit.
pub const L1_INFO_DEPOSITOR: Address = address!("0xDeaDDEaDDeAdDeAdDEAdDEaddeAddEAdDEAd0001");

/// Calldata format of the L1-attributes deposit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum L1InfoFormat {
    /// `setL1BlockValuesEcotone` (164 bytes).
    Ecotone,
    /// `setL1BlockValuesIsthmus` (176 bytes).
    Isthmus,
    /// `setL1BlockValuesJovian` (178 bytes).
    Jovian,
}

impl L1InfoFormat {
    /// Every format, oldest first.
    pub const ALL: [Self; 3] = [Self::Ecotone, Self::Isthmus, Self::Jovian];

    /// The `L1Block` function selector (`setL1BlockValuesEcotone()` …).
    pub const fn selector(self) -> [u8; 4] {
        match self {
            Self::Ecotone => [0x44, 0x0a, 0x5e, 0x20],
            Self::Isthmus => [0x09, 0x89, 0x99, 0xbe],
            Self::Jovian => [0x3d, 0xb6, 0xbe, 0x2b],
        }
    }

    /// The `L1Block` function name.
    pub const fn function(self) -> &'static str {
        match self {
            Self::Ecotone => "setL1BlockValuesEcotone",
            Self::Isthmus => "setL1BlockValuesIsthmus",
            Self::Jovian => "setL1BlockValuesJovian",
        }
    }

    /// Calldata length, selector included.
    pub const fn calldata_len(self) -> usize {
        match self {
            Self::Ecotone => 164,
            Self::Isthmus => 176,
            Self::Jovian => 178,
        }
    }

    /// The fork that introduced the format.
    pub const fn fork(self) -> OpFork {
        match self {
            Self::Ecotone => OpFork::Ecotone,
            Self::Isthmus => OpFork::Isthmus,
            Self::Jovian => OpFork::Jovian,
        }
    }

    /// The format for a block at `timestamp` whose parent is at `parent_timestamp`: a fork's
    /// activation block still uses the previous fork's format. `None` before Ecotone is fully
    /// active (the Bedrock format is not supported here).
    pub fn for_block(spec: &ChainSpec, parent_timestamp: u64, timestamp: u64) -> Option<Self> {
        let active_after_activation = |fork| {
            spec.forks.is_active(fork, timestamp) && spec.forks.is_active(fork, parent_timestamp)
        };
        if active_after_activation(OpFork::Jovian) {
            Some(Self::Jovian)
        } else if active_after_activation(OpFork::Isthmus) {
            Some(Self::Isthmus)
        } else if active_after_activation(OpFork::Ecotone) {
            Some(Self::Ecotone)
        } else {
            None
        }
    }
}

/// The values an L1-attributes deposit carries.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct L1Info {
    /// L1 origin number.
    pub number: u64,
    /// L1 origin timestamp.
    pub timestamp: u64,
    /// L1 origin base fee.
    pub base_fee: U256,
    /// L1 origin blob base fee.
    pub blob_base_fee: U256,
    /// L1 origin hash.
    pub hash: B256,
    /// Position of the L2 block within its epoch.
    pub sequence_number: u64,
    /// Batcher address (system config).
    pub batcher: Address,
    /// Base fee scalar (system config).
    pub base_fee_scalar: u32,
    /// Blob base fee scalar (system config).
    pub blob_base_fee_scalar: u32,
    /// Operator fee scalar (Isthmus).
    pub operator_fee_scalar: u32,
    /// Operator fee constant (Isthmus).
    pub operator_fee_constant: u64,
    /// DA footprint gas scalar (Jovian).
    pub da_footprint_gas_scalar: u16,
}

impl L1Info {
    /// The calldata in `format`.
    pub fn calldata(&self, format: L1InfoFormat) -> Bytes {
        let mut out = Vec::with_capacity(format.calldata_len());
        out.extend_from_slice(&format.selector());
        out.extend_from_slice(&self.base_fee_scalar.to_be_bytes());
        out.extend_from_slice(&self.blob_base_fee_scalar.to_be_bytes());
        out.extend_from_slice(&self.sequence_number.to_be_bytes());
        out.extend_from_slice(&self.timestamp.to_be_bytes());
        out.extend_from_slice(&self.number.to_be_bytes());
        out.extend_from_slice(&self.base_fee.to_be_bytes::<32>());
        out.extend_from_slice(&self.blob_base_fee.to_be_bytes::<32>());
        out.extend_from_slice(self.hash.as_slice());
        out.extend_from_slice(self.batcher.into_word().as_slice());
        if format != L1InfoFormat::Ecotone {
            out.extend_from_slice(&self.operator_fee_scalar.to_be_bytes());
            out.extend_from_slice(&self.operator_fee_constant.to_be_bytes());
        }
        if format == L1InfoFormat::Jovian {
            out.extend_from_slice(&self.da_footprint_gas_scalar.to_be_bytes());
        }
        out.into()
    }

    /// Reads L1-attributes calldata of any supported format; `None` for anything else
    /// (another selector, or not that format's exact length).
    pub fn decode(input: &[u8]) -> Option<(Self, L1InfoFormat)> {
        let format = L1InfoFormat::ALL
            .into_iter()
            .find(|f| input.get(..4) == Some(&f.selector()[..]))?;
        if input.len() != format.calldata_len() {
            return None;
        }
        let u32_at = |at: usize| u32::from_be_bytes(input[at..at + 4].try_into().expect("4 bytes"));
        let u64_at = |at: usize| u64::from_be_bytes(input[at..at + 8].try_into().expect("8 bytes"));
        let word = |at: usize| B256::from_slice(&input[at..at + 32]);
        let isthmus = format != L1InfoFormat::Ecotone;
        let info = Self {
            base_fee_scalar: u32_at(4),
            blob_base_fee_scalar: u32_at(8),
            sequence_number: u64_at(12),
            timestamp: u64_at(20),
            number: u64_at(28),
            base_fee: word(36).into(),
            blob_base_fee: word(68).into(),
            hash: word(100),
            batcher: Address::from_word(word(132)),
            operator_fee_scalar: if isthmus { u32_at(164) } else { 0 },
            operator_fee_constant: if isthmus { u64_at(168) } else { 0 },
            da_footprint_gas_scalar: if format == L1InfoFormat::Jovian {
                u16::from_be_bytes([input[176], input[177]])
            } else {
                0
            },
        };
        Some((info, format))
    }

    /// The deposit transaction carrying this information.
    pub fn deposit(&self, format: L1InfoFormat) -> TxDeposit {
        let source = L1InfoDepositSource::new(self.hash, self.sequence_number);
        TxDeposit {
            source_hash: DepositSourceDomain::L1Info(source).source_hash(),
            from: L1_INFO_DEPOSITOR,
            to: TxKind::Call(L1_BLOCK),
            mint: 0,
            value: U256::ZERO,
            gas_limit: 1_000_000,
            is_system_transaction: false,
            input: self.calldata(format),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn calldata_lengths_match_the_spec() {
        let info = L1Info {
            number: 1,
            timestamp: 2,
            base_fee: U256::from(3),
            blob_base_fee: U256::from(4),
            hash: B256::repeat_byte(5),
            sequence_number: 6,
            batcher: Address::repeat_byte(7),
            base_fee_scalar: 8,
            blob_base_fee_scalar: 9,
            operator_fee_scalar: 10,
            operator_fee_constant: 11,
            da_footprint_gas_scalar: 400,
        };
        assert_eq!(info.calldata(L1InfoFormat::Ecotone).len(), 164);
        assert_eq!(info.calldata(L1InfoFormat::Isthmus).len(), 176);
        assert_eq!(info.calldata(L1InfoFormat::Jovian).len(), 178);
        let data = info.calldata(L1InfoFormat::Ecotone);
        assert_eq!(&data[..4], &[0x44, 0x0a, 0x5e, 0x20]);
        // sequence number sits at [12, 20), the batcher is left-padded at [132, 164).
        assert_eq!(&data[12..20], &6u64.to_be_bytes());
        assert_eq!(&data[144..164], Address::repeat_byte(7).as_slice());
    }

    fn arbitrary_info() -> impl Strategy<Value = L1Info> {
        (
            (
                any::<u64>(),
                any::<u64>(),
                any::<[u8; 32]>(),
                any::<[u8; 32]>(),
            ),
            (any::<[u8; 32]>(), any::<u64>(), any::<[u8; 20]>()),
            (
                any::<u32>(),
                any::<u32>(),
                any::<u32>(),
                any::<u64>(),
                any::<u16>(),
            ),
        )
            .prop_map(|(a, b, c)| L1Info {
                number: a.0,
                timestamp: a.1,
                base_fee: U256::from_be_bytes(a.2),
                blob_base_fee: U256::from_be_bytes(a.3),
                hash: B256::from(b.0),
                sequence_number: b.1,
                batcher: Address::from(b.2),
                base_fee_scalar: c.0,
                blob_base_fee_scalar: c.1,
                operator_fee_scalar: c.2,
                operator_fee_constant: c.3,
                da_footprint_gas_scalar: c.4,
            })
    }

    proptest! {
        /// Decoding gives back what was encoded, in every format (fields a format lacks read 0).
        #[test]
        fn decode_inverts_calldata(info in arbitrary_info(), format in 0usize..3) {
            let format = L1InfoFormat::ALL[format];
            let mut expected = info.clone();
            if format == L1InfoFormat::Ecotone {
                expected.operator_fee_scalar = 0;
                expected.operator_fee_constant = 0;
            }
            if format != L1InfoFormat::Jovian {
                expected.da_footprint_gas_scalar = 0;
            }
            prop_assert_eq!(L1Info::decode(&info.calldata(format)), Some((expected, format)));
        }

        /// Any bytes decode or are refused, never a panic; a wrong length is always refused.
        #[test]
        fn decode_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..200)) {
            if let Some((_, format)) = L1Info::decode(&bytes) {
                prop_assert_eq!(bytes.len(), format.calldata_len());
            }
        }
    }
}
