//! Payload envelopes for the conductor tests.

#![allow(dead_code, unreachable_pub)]

use alloy_primitives::{Address, B256, Bloom, Bytes, U256, keccak256};
use alloy_rpc_types_engine::{ExecutionPayloadV1, ExecutionPayloadV2, ExecutionPayloadV3};
use op_alloy_rpc_types_engine::{OpExecutionPayload, OpExecutionPayloadEnvelope};

/// The hash of block `number` on fork `fork`.
pub fn hash(number: u64, fork: u8) -> B256 {
    keccak256([&number.to_be_bytes()[..], &[fork]].concat())
}

/// Block `number` of fork `fork` (its parent is block `number - 1` of fork 0).
pub fn payload(number: u64, fork: u8) -> OpExecutionPayloadEnvelope {
    let v1 = ExecutionPayloadV1 {
        parent_hash: hash(number.wrapping_sub(1), 0),
        fee_recipient: Address::ZERO,
        state_root: B256::ZERO,
        receipts_root: B256::ZERO,
        logs_bloom: Bloom::ZERO,
        prev_randao: B256::ZERO,
        block_number: number,
        gas_limit: 30_000_000,
        gas_used: 0,
        timestamp: 1_700_000_000 + number,
        extra_data: Bytes::new(),
        base_fee_per_gas: U256::from(1),
        block_hash: hash(number, fork),
        transactions: vec![],
    };
    OpExecutionPayloadEnvelope {
        parent_beacon_block_root: Some(B256::ZERO),
        execution_payload: OpExecutionPayload::V3(ExecutionPayloadV3 {
            payload_inner: ExecutionPayloadV2 {
                payload_inner: v1,
                withdrawals: vec![],
            },
            blob_gas_used: 0,
            excess_blob_gas: 0,
        }),
    }
}
