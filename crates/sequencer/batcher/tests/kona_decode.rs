//! What the batcher encodes, kona's derivation types (an independent decoder) read back.

use aegis_batcher::encode_batch;
use aegis_testing::{TestNode, erc20_block, rich_block, spec};
use alloy_eips::Encodable2718;
use kona_genesis::{HardForkConfig, RollupConfig};
use kona_protocol::{Batch, BatchReader, BlockInfo, Channel, Frame};
use op_alloy_consensus::OpBlock;
use proptest::prelude::*;

fn blocks() -> Vec<OpBlock> {
    let spec = spec(Some(4), None);
    let node = TestNode::new(spec.clone());
    let (forced, txs) = rich_block(&spec);
    let mut hashes = vec![node.build(forced, &txs).hash];
    hashes.push(node.build(vec![], &erc20_block(&spec)).hash);
    for _ in 0..3 {
        hashes.push(node.build(vec![], &[]).hash);
    }
    hashes
        .iter()
        .map(|h| node.executor.stored_block(h).unwrap().unwrap().0)
        .collect()
}

fn decode(calldata: &[alloy_primitives::Bytes]) -> Vec<Batch> {
    let frames: Vec<Frame> = calldata
        .iter()
        .flat_map(|tx| Frame::parse_frames(tx).expect("frames parse"))
        .collect();
    let mut channel = Channel::new(frames[0].id, BlockInfo::default());
    for frame in frames {
        channel
            .add_frame(frame, BlockInfo::default())
            .expect("frame accepted");
    }
    assert!(channel.is_ready());
    let config = RollupConfig {
        hardforks: HardForkConfig {
            fjord_time: Some(0),
            ..Default::default()
        },
        ..Default::default()
    };
    let mut reader = BatchReader::new(channel.frame_data().unwrap().to_vec(), 100_000_000);
    std::iter::from_fn(|| reader.next_batch(&config)).collect()
}

#[test]
fn kona_reads_back_every_block() {
    let blocks = blocks();
    for frame_size in [100_000, 300] {
        let batch = encode_batch(&blocks, [7; 16], frame_size).unwrap();
        assert_eq!(batch.id.first_block, 1);
        assert_eq!(batch.id.last_block, 5);
        if frame_size == 300 {
            assert!(batch.calldata.len() > 1, "small frames split the channel");
        }
        let decoded = decode(&batch.calldata);
        assert_eq!(decoded.len(), blocks.len());
        for (batch, block) in decoded.iter().zip(&blocks) {
            let Batch::Single(single) = batch else {
                panic!("expected singular batches")
            };
            assert_eq!(single.parent_hash, block.header.parent_hash);
            assert_eq!(single.timestamp, block.header.timestamp);
            let user_txs: Vec<_> = block
                .body
                .transactions
                .iter()
                .filter(|tx| !tx.is_deposit())
                .map(|tx| tx.encoded_2718())
                .collect();
            let decoded: Vec<_> = single.transactions.iter().map(|t| t.to_vec()).collect();
            assert_eq!(decoded, user_txs);
            assert!(single.epoch_num > 0, "epoch from the L1-attributes deposit");
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(16))]

    /// The batch identity commits to the frames: any change of id or frame size changes it.
    #[test]
    fn frames_hash_commits_to_the_frames(id in any::<[u8; 16]>(), size in 200usize..5_000) {
        let blocks = blocks();
        let a = encode_batch(&blocks, id, size).unwrap();
        let b = encode_batch(&blocks, id, size).unwrap();
        prop_assert_eq!(&a.id, &b.id, "deterministic");
        let mut other = id;
        other[0] ^= 1;
        prop_assert_ne!(encode_batch(&blocks, other, size).unwrap().id.frames_hash, a.id.frames_hash);
        prop_assert_eq!(decode(&a.calldata).len(), blocks.len());
    }
}
