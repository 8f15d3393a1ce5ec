//! The OP derivation format: singular batches, a brotli channel (Fjord's `0x01` version), frames
//! and batcher-transaction calldata.

use crate::BatcherError;
use aegis_chainspec::l1_info::L1Info;
use alloy_eips::Encodable2718;
use alloy_primitives::{B256, Bytes, keccak256};
use op_alloy_consensus::{OpBlock, OpTxEnvelope};

/// Largest frame payload per L1 transaction (calldata stays under the 128 KiB tx limit).
pub const MAX_FRAME_DATA: usize = 100_000;
/// Blocks per channel at most.
pub const MAX_BLOCKS_PER_CHANNEL: u64 = 300;

/// The identity of one posted batch.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BatchId {
    /// The channel id.
    pub channel_id: [u8; 16],
    /// First L2 block number in the batch.
    pub first_block: u64,
    /// Last L2 block number in the batch.
    pub last_block: u64,
    /// keccak256 of the concatenated batcher-transaction calldata.
    pub frames_hash: B256,
}

/// A batch ready to post: its identity and one calldata blob per L1 transaction.
#[derive(Clone, Debug)]
pub struct EncodedBatch {
    /// The batch identity.
    pub id: BatchId,
    /// Batcher-transaction calldata, in frame order.
    pub calldata: Vec<Bytes>,
}

/// The L1 origin (epoch) recorded in a block's L1-attributes deposit.
fn epoch_of(block: &OpBlock) -> Result<(u64, B256), BatcherError> {
    let number = block.header.number;
    let Some(OpTxEnvelope::Deposit(deposit)) = block.body.transactions.first() else {
        return Err(BatcherError::NoL1Info(number));
    };
    let (info, _) = L1Info::decode(&deposit.input).ok_or(BatcherError::NoL1Info(number))?;
    Ok((info.number, info.hash))
}

/// The singular batch of `block`, version byte included.
fn singular_batch(block: &OpBlock) -> Result<Vec<u8>, BatcherError> {
    use alloy_rlp::Encodable;
    let (epoch_num, epoch_hash) = epoch_of(block)?;
    let txs: Vec<Bytes> = block
        .body
        .transactions
        .iter()
        .filter(|tx| !tx.is_deposit())
        .map(|tx| tx.encoded_2718().into())
        .collect();
    let header = &block.header;
    let payload_length = header.parent_hash.length()
        + epoch_num.length()
        + epoch_hash.length()
        + header.timestamp.length()
        + txs.length();
    let mut out = vec![0x00];
    alloy_rlp::Header {
        list: true,
        payload_length,
    }
    .encode(&mut out);
    header.parent_hash.encode(&mut out);
    epoch_num.encode(&mut out);
    epoch_hash.encode(&mut out);
    header.timestamp.encode(&mut out);
    txs.encode(&mut out);
    Ok(out)
}

/// Encodes `blocks` (consecutive, oldest first) as one channel in frames of at most
/// `max_frame_data` bytes.
pub fn encode_batch(
    blocks: &[OpBlock],
    channel_id: [u8; 16],
    max_frame_data: usize,
) -> Result<EncodedBatch, BatcherError> {
    let (Some(first), Some(last)) = (blocks.first(), blocks.last()) else {
        return Err(BatcherError::L2("no blocks to batch".into()));
    };
    let mut stream = Vec::new();
    for block in blocks {
        alloy_rlp::Encodable::encode(&Bytes::from(singular_batch(block)?), &mut stream);
    }
    // Fjord channel format: version byte 0x01, then a brotli stream.
    let mut compressed = vec![0x01];
    let params = brotli::enc::BrotliEncoderParams {
        quality: 10,
        lgwin: 22,
        ..Default::default()
    };
    brotli::BrotliCompress(&mut stream.as_slice(), &mut compressed, &params)
        .map_err(|e| BatcherError::Compression(e.to_string()))?;
    let chunks: Vec<&[u8]> = compressed.chunks(max_frame_data.max(1)).collect();
    let calldata: Vec<Bytes> = chunks
        .iter()
        .enumerate()
        .map(|(number, data)| {
            let mut tx = Vec::with_capacity(data.len() + 24);
            tx.push(0x00); // derivation version
            tx.extend_from_slice(&channel_id);
            tx.extend_from_slice(&(number as u16).to_be_bytes());
            tx.extend_from_slice(&(data.len() as u32).to_be_bytes());
            tx.extend_from_slice(data);
            tx.push((number + 1 == chunks.len()) as u8);
            tx.into()
        })
        .collect();
    let frames_hash = keccak256(calldata.concat());
    Ok(EncodedBatch {
        id: BatchId {
            channel_id,
            first_block: first.header.number,
            last_block: last.header.number,
            frames_hash,
        },
        calldata,
    })
}
