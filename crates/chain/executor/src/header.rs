//! Fork-dependent header rules: base fee, `extraData`, receipts root, import checks.

use crate::{BuildAttributes, ExecutorError};
use aegis_chainspec::{ChainSpec, OpFork};
use alloy_consensus::{Header, proofs};
use alloy_eips::eip1559::{BaseFeeParams, calc_next_block_base_fee};
use alloy_primitives::{B256, Bytes};
use op_alloy_consensus::{
    OpReceiptEnvelope, decode_eip_1559_params, decode_holocene_extra_data,
    decode_jovian_extra_data, encode_holocene_extra_data, encode_jovian_extra_data,
};

/// The chain's configured EIP-1559 parameters at `timestamp` (Canyon changes the denominator).
fn default_params(spec: &ChainSpec, timestamp: u64) -> BaseFeeParams {
    let denominator = if spec.forks.is_active(OpFork::Canyon, timestamp) {
        spec.eip1559.denominator_canyon
    } else {
        spec.eip1559.denominator
    };
    BaseFeeParams::new(denominator as u128, spec.eip1559.elasticity as u128)
}

/// Parameters from a header's `extraData`, falling back to the chain's when both are zero.
fn params_or_default(elasticity: u32, denominator: u32, default: BaseFeeParams) -> BaseFeeParams {
    if elasticity == 0 && denominator == 0 {
        default
    } else {
        BaseFeeParams::new(denominator as u128, elasticity as u128)
    }
}

/// The base fee of a child of `parent` at `timestamp`: Holocene and Jovian take the EIP-1559
/// parameters from the parent's `extraData`; Jovian also counts the parent's DA footprint and
/// clamps to its minimum base fee.
pub fn next_base_fee(
    spec: &ChainSpec,
    parent: &Header,
    timestamp: u64,
) -> Result<u64, ExecutorError> {
    let default = default_params(spec, timestamp);
    let bad = |e: op_alloy_consensus::EIP1559ParamError| {
        ExecutorError::InvalidAttributes(format!("parent extraData: {e}"))
    };
    let parent_base_fee = parent.base_fee_per_gas.unwrap_or_default();
    if spec.forks.is_active(OpFork::Jovian, parent.timestamp) {
        let (elasticity, denominator, min_base_fee) =
            decode_jovian_extra_data(&parent.extra_data).map_err(bad)?;
        let used = parent
            .gas_used
            .max(parent.blob_gas_used.unwrap_or_default());
        let params = params_or_default(elasticity, denominator, default);
        let fee = calc_next_block_base_fee(used, parent.gas_limit, parent_base_fee, params);
        return Ok(fee.max(min_base_fee));
    }
    let params = if spec.forks.is_active(OpFork::Holocene, parent.timestamp) {
        let (elasticity, denominator) =
            decode_holocene_extra_data(&parent.extra_data).map_err(bad)?;
        params_or_default(elasticity, denominator, default)
    } else {
        default
    };
    Ok(calc_next_block_base_fee(
        parent.gas_used,
        parent.gas_limit,
        parent_base_fee,
        params,
    ))
}

/// The `extraData` of a block built from `attrs`: empty before Holocene, version 0 with the
/// EIP-1559 parameters from Holocene, version 1 with the minimum base fee from Jovian.
pub(crate) fn extra_data_for(
    spec: &ChainSpec,
    timestamp: u64,
    attrs: &BuildAttributes,
) -> Result<Bytes, ExecutorError> {
    let invalid = |m: String| ExecutorError::InvalidAttributes(m);
    let holocene = spec.forks.is_active(OpFork::Holocene, timestamp);
    let jovian = spec.forks.is_active(OpFork::Jovian, timestamp);
    if !holocene {
        if attrs.eip1559_params.is_some() {
            return Err(invalid(
                "eip1559Params must be absent before Holocene".into(),
            ));
        }
        return Ok(Bytes::new());
    }
    let params = attrs
        .eip1559_params
        .ok_or_else(|| invalid("eip1559Params is required from Holocene".into()))?;
    let (elasticity, denominator) = decode_eip_1559_params(params);
    if denominator == 0 && elasticity != 0 {
        return Err(invalid("eip1559Params denominator is zero".into()));
    }
    let default = default_params(spec, timestamp);
    let encoded = if jovian {
        let min_base_fee = attrs
            .min_base_fee
            .ok_or_else(|| invalid("minBaseFee is required from Jovian".into()))?;
        encode_jovian_extra_data(params, default, min_base_fee)
    } else {
        if attrs.min_base_fee.is_some() {
            return Err(invalid("minBaseFee must be absent before Jovian".into()));
        }
        encode_holocene_extra_data(params, default)
    };
    encoded.map_err(|e| invalid(format!("eip1559Params: {e}")))
}

/// Checks of a header against its parent that need no execution.
pub(crate) fn check_against_parent(
    spec: &ChainSpec,
    parent: &Header,
    header: &Header,
) -> Result<(), String> {
    let ts = header.timestamp;
    if header.number != parent.number + 1 {
        return Err(format!(
            "number {} does not follow parent {}",
            header.number, parent.number
        ));
    }
    if ts <= parent.timestamp {
        return Err(format!(
            "timestamp {ts} is not after parent's {}",
            parent.timestamp
        ));
    }
    if header.extra_data.len() > 32 {
        return Err("extraData longer than 32 bytes".into());
    }
    if spec.forks.is_active(OpFork::Jovian, ts) {
        decode_jovian_extra_data(&header.extra_data).map_err(|e| format!("extraData: {e}"))?;
    } else if spec.forks.is_active(OpFork::Holocene, ts) {
        let (elasticity, denominator) = decode_holocene_extra_data(&header.extra_data)
            .map_err(|e| format!("extraData: {e}"))?;
        if denominator == 0 {
            return Err(format!(
                "extraData: zero denominator (elasticity {elasticity})"
            ));
        }
    }
    if spec.forks.is_active(OpFork::Ecotone, ts) != header.parent_beacon_block_root.is_some() {
        return Err("parentBeaconBlockRoot presence does not match the fork".into());
    }
    Ok(())
}

/// The receipts root; between Regolith and Canyon op-geth left the deposit nonce out of it.
pub(crate) fn receipts_root(
    spec: &ChainSpec,
    timestamp: u64,
    receipts: &[OpReceiptEnvelope],
) -> B256 {
    if spec.forks.is_active(OpFork::Regolith, timestamp)
        && !spec.forks.is_active(OpFork::Canyon, timestamp)
    {
        let stripped: Vec<_> = receipts
            .iter()
            .cloned()
            .map(|receipt| match receipt {
                OpReceiptEnvelope::Deposit(mut deposit) => {
                    deposit.receipt.deposit_nonce = None;
                    OpReceiptEnvelope::Deposit(deposit)
                }
                other => other,
            })
            .collect();
        return proofs::calculate_receipt_root(&stripped);
    }
    proofs::calculate_receipt_root(receipts)
}

/// The first header field where `built` and `given` differ, if any.
pub(crate) fn first_difference(built: &Header, given: &Header) -> Option<&'static str> {
    let fields: [(&'static str, bool); 12] = [
        ("stateRoot", built.state_root == given.state_root),
        ("receiptsRoot", built.receipts_root == given.receipts_root),
        (
            "transactionsRoot",
            built.transactions_root == given.transactions_root,
        ),
        ("logsBloom", built.logs_bloom == given.logs_bloom),
        ("gasUsed", built.gas_used == given.gas_used),
        (
            "baseFeePerGas",
            built.base_fee_per_gas == given.base_fee_per_gas,
        ),
        (
            "withdrawalsRoot",
            built.withdrawals_root == given.withdrawals_root,
        ),
        ("blobGasUsed", built.blob_gas_used == given.blob_gas_used),
        (
            "excessBlobGas",
            built.excess_blob_gas == given.excess_blob_gas,
        ),
        ("requestsHash", built.requests_hash == given.requests_hash),
        ("ommersHash", built.ommers_hash == given.ommers_hash),
        (
            "difficulty/nonce",
            built.difficulty == given.difficulty && built.nonce == given.nonce,
        ),
    ];
    if let Some((name, _)) = fields.iter().find(|(_, same)| !same) {
        return Some(name);
    }
    (built.hash_slow() != given.hash_slow()).then_some("blockHash")
}
