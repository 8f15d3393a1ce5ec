//! `verify_signer` against a node whose `SequencerAttestation` answers are scripted: a joining
//! worker trusts a snapshot's checkpoint only if an active sequencer's registered ML-DSA-87 key
//! signed it, for the node's chain.

use aegis_bindings::sequencer_attestation::SequencerAttestation;
use aegis_migration::{ChainNode, Checkpoint, MigrationError, verify_signer};
use aegis_pqc::{MlDsa87Signer, Signer};
use alloy_primitives::{Address, B256, Bytes, keccak256};
use alloy_sol_types::SolCall;
use jsonrpsee::{RpcModule, server::ServerBuilder};
use serde_json::Value;

/// What the scripted node answers.
#[derive(Clone)]
struct Chain {
    chain_id: u64,
    active: bool,
    registered_key: B256,
}

async fn node(chain: Chain) -> (ChainNode, jsonrpsee::server::ServerHandle) {
    let mut module = RpcModule::new(chain);
    module
        .register_method("eth_chainId", |_, c, _| format!("{:#x}", c.chain_id))
        .unwrap();
    module
        .register_method("eth_call", |params, c, _| {
            let call: Value = params.sequence().next().unwrap();
            let input: Bytes = serde_json::from_value(call["input"].clone()).unwrap();
            let out = if input.starts_with(&SequencerAttestation::isActiveSequencerCall::SELECTOR) {
                SequencerAttestation::isActiveSequencerCall::abi_encode_returns(&c.active)
            } else {
                let mut sequencer =
                    SequencerAttestation::sequencerCall::abi_decode_returns(&[0u8; 192]).unwrap();
                sequencer.mldsaKeyHash = c.registered_key;
                sequencer.registeredAt = 1;
                SequencerAttestation::sequencerCall::abi_encode_returns(&sequencer)
            };
            Bytes::from(out).to_string()
        })
        .unwrap();
    let server = ServerBuilder::default().build("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", server.local_addr().unwrap());
    (ChainNode::new(&url).unwrap(), server.start(module))
}

fn checkpoint(signer: &MlDsa87Signer) -> Checkpoint {
    let mut c = Checkpoint {
        id: 20,
        chain_id: 901,
        block_number: 20,
        block_hash: B256::repeat_byte(5),
        state_root: B256::repeat_byte(6),
        asset_snapshot_root: Checkpoint::snapshot_root(&[]),
        assets: vec![],
        targets: vec![],
        key_epoch: 0,
        mldsa_public_key: signer.public_key().to_vec().into(),
        mldsa_signature: Bytes::new(),
        created_at: 1,
    };
    c.mldsa_signature = signer.sign(&c.digest()).unwrap().into();
    c
}

#[tokio::test]
async fn only_an_active_sequencers_registered_key_is_trusted() {
    let signer = MlDsa87Signer::from_seed(&[9; 32]);
    let c = checkpoint(&signer);
    let registered = keccak256(&c.mldsa_public_key);
    let (attestation, sequencer) = (Address::repeat_byte(0xa7), Address::repeat_byte(0x5e));
    let honest = Chain {
        chain_id: 901,
        active: true,
        registered_key: registered,
    };

    let (ok, _h) = node(honest.clone()).await;
    verify_signer(&c, &ok, attestation, sequencer)
        .await
        .unwrap();

    // A revoked (or never registered) signer.
    let (revoked, _h) = node(Chain {
        active: false,
        ..honest.clone()
    })
    .await;
    let error = verify_signer(&c, &revoked, attestation, sequencer)
        .await
        .unwrap_err();
    assert!(
        error.to_string().contains("not an active sequencer"),
        "{error}"
    );

    // Signed by a key that is not the one the sequencer registered (a quantum attacker holding
    // only its secp256k1 key, or an old epoch's key).
    let (other_key, _h) = node(Chain {
        registered_key: B256::repeat_byte(1),
        ..honest.clone()
    })
    .await;
    let error = verify_signer(&c, &other_key, attestation, sequencer)
        .await
        .unwrap_err();
    assert!(error.to_string().contains("registered"), "{error}");

    // Another chain's node.
    let (other_chain, _h) = node(Chain {
        chain_id: 10,
        ..honest.clone()
    })
    .await;
    assert!(matches!(
        verify_signer(&c, &other_chain, attestation, sequencer).await,
        Err(MigrationError::Mismatch { .. })
    ));

    // The checkpoint's block or root changed after signing.
    let mut forged = c.clone();
    forged.block_hash = B256::repeat_byte(0x66);
    assert!(
        verify_signer(&forged, &ok, attestation, sequencer)
            .await
            .is_err()
    );
    // A checkpoint re-signed by another key, claiming the same signer.
    let forged = checkpoint(&MlDsa87Signer::from_seed(&[7; 32]));
    let error = verify_signer(&forged, &ok, attestation, sequencer)
        .await
        .unwrap_err();
    assert!(error.to_string().contains("registered"), "{error}");
}
