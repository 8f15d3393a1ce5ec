//! The L1-attributes deposit that opens every OP block (what a rollup node inserts).
//!
//! Used by tests and by development modes that sequence without a rollup node. Layout per the
//! OP specs (`protocol/deposits.md`, Ecotone/Isthmus/Jovian `l1-attributes`): packed big-endian
//! fields after a 4-byte selector.

use aegis_chainspec::{ChainSpec, OpFork};
use alloy_primitives::{Address, B256, Bytes, TxKind, U256, address};
use op_alloy_consensus::{DepositSourceDomain, L1InfoDepositSource, TxDeposit};

/// Sender of the L1-attributes deposit.
pub const L1_INFO_DEPOSITOR: Address = address!("0xDeaDDEaDDeAdDeAdDEAdDEaddeAddEAdDEAd0001");
/// The L1Block predeploy.
pub const L1_BLOCK: Address = address!("0x4200000000000000000000000000000000000015");

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
        let selector: [u8; 4] = match format {
            L1InfoFormat::Ecotone => [0x44, 0x0a, 0x5e, 0x20],
            L1InfoFormat::Isthmus => [0x09, 0x89, 0x99, 0xbe],
            L1InfoFormat::Jovian => [0x3d, 0xb6, 0xbe, 0x2b],
        };
        let mut out = Vec::with_capacity(178);
        out.extend_from_slice(&selector);
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
}
