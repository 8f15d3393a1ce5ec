//! `eth_subscribe` over WebSocket: `newHeads` and `logs` (with `removed: true` for logs of
//! blocks a reorg took out), fed by one task that follows the canonical head, and
//! `newPendingTransactions` (public transactions as the pool takes them).

use crate::{EthApi, error};
use alloy_primitives::B256;
use alloy_rpc_types_eth::{Filter, Header};
use jsonrpsee::{
    PendingSubscriptionSink, RpcModule, SubscriptionMessage,
    core::SubscriptionResult,
    types::{ErrorObjectOwned, Params},
};
use std::{sync::Arc, time::Duration};
use tokio::sync::broadcast;

/// How often the follower looks at the head. Blocks come every second or more; this keeps
/// notification latency well below that.
const HEAD_POLL: Duration = Duration::from_millis(50);
/// Deepest reorg walked for `removed` logs; a deeper one only announces the new blocks.
const MAX_REORG_WALK: usize = 256;
/// geth's "method not found", used for unknown subscription kinds.
const METHOD_NOT_FOUND: i32 = -32601;

/// Subscription ids as geth and reth hand them out: `0x` and 32 random hex digits (a JSON string;
/// viem, for one, only registers string ids and ignores notifications for any other).
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct HexIdProvider;

impl jsonrpsee::core::traits::IdProvider for HexIdProvider {
    fn next_id(&self) -> jsonrpsee::types::SubscriptionId<'static> {
        let mut id = [0u8; 16];
        rand_core::RngCore::fill_bytes(&mut rand_core::OsRng, &mut id);
        jsonrpsee::types::SubscriptionId::Str(alloy_primitives::hex::encode_prefixed(id).into())
    }
}

/// A change of the canonical chain, oldest first.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ChainEvent {
    /// A block became canonical.
    Added(B256),
    /// A block stopped being canonical.
    Removed(B256),
}

/// Follows the canonical head and broadcasts each change until every receiver is gone.
pub(crate) async fn follow_head(api: Arc<EthApi>) {
    let store = api.executor.store().clone();
    let mut last = store.head().ok().flatten();
    let mut ticker = tokio::time::interval(HEAD_POLL);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    loop {
        ticker.tick().await;
        let Ok(Some(head)) = store.head() else {
            continue;
        };
        let Some(previous) = last.replace(head.clone()) else {
            continue;
        };
        if previous.hash_slow() == head.hash_slow() {
            continue;
        }
        // The cached state of the old head holds a read transaction, and redb reuses no page
        // freed after the oldest open one: kept through a quiet spell (no submissions), it made
        // the database grow by every block's copied pages.
        api.forget_head_state();
        match chain_change(&store, previous, head) {
            Ok(events) => {
                for event in events {
                    // No receivers is fine: nobody subscribed yet.
                    let _ = api.events.send(event);
                }
            }
            Err(e) => tracing::warn!(target: "aegis::rpc", error = %e, "head follower"),
        }
    }
}

/// The blocks removed from and added to the canonical chain when the head moves from `old` to
/// `new`: the walk back to their common ancestor.
fn chain_change(
    store: &aegis_storage::Store,
    old: alloy_consensus::Header,
    new: alloy_consensus::Header,
) -> Result<Vec<ChainEvent>, aegis_storage::StorageError> {
    let parent = |h: &alloy_consensus::Header| store.header(&h.parent_hash);
    let (mut a, mut b) = (old, new);
    let (mut removed, mut added) = (Vec::new(), Vec::new());
    while added.len() + removed.len() < MAX_REORG_WALK {
        let (ha, hb) = (a.hash_slow(), b.hash_slow());
        if ha == hb {
            break;
        }
        if b.number >= a.number {
            added.push(hb);
            match parent(&b)? {
                Some(p) => b = p,
                None => break,
            }
        } else {
            removed.push(ha);
            match parent(&a)? {
                Some(p) => a = p,
                None => break,
            }
        }
    }
    let mut events: Vec<ChainEvent> = removed.into_iter().map(ChainEvent::Removed).collect();
    events.extend(added.into_iter().rev().map(ChainEvent::Added));
    Ok(events)
}

enum Kind {
    NewHeads,
    Logs(Box<Filter>),
    /// Public transactions as the pool takes them: hashes, or whole transactions with `true`.
    NewPendingTransactions {
        full: bool,
    },
}

fn parse_kind(params: &Params<'_>) -> Result<Kind, ErrorObjectOwned> {
    let mut seq = params.sequence();
    let kind: String = seq.next()?;
    match kind.as_str() {
        "newHeads" => Ok(Kind::NewHeads),
        "newPendingTransactions" => {
            let full: Option<bool> = seq.optional_next()?;
            Ok(Kind::NewPendingTransactions {
                full: full.unwrap_or(false),
            })
        }
        "logs" => {
            let filter: Option<Filter> = seq.optional_next()?;
            Ok(Kind::Logs(Box::new(filter.unwrap_or_default())))
        }
        other => Err(error(
            METHOD_NOT_FOUND,
            format!("no \"{other}\" subscription in eth namespace"),
        )),
    }
}

fn message(value: &impl serde::Serialize) -> Option<SubscriptionMessage> {
    serde_json::value::to_raw_value(value).ok().map(Into::into)
}

async fn serve_subscription(
    params: Params<'static>,
    pending: PendingSubscriptionSink,
    api: Arc<EthApi>,
) -> SubscriptionResult {
    let kind = match parse_kind(&params) {
        Ok(kind) => kind,
        Err(e) => {
            pending.reject(e).await;
            return Ok(());
        }
    };
    if let Kind::NewPendingTransactions { full } = kind {
        return serve_pending(full, pending, api).await;
    }
    let mut events = api.events.subscribe();
    let sink = pending.accept().await?;
    loop {
        let event = tokio::select! {
            _ = sink.closed() => return Ok(()),
            event = events.recv() => event,
        };
        let event = match event {
            Ok(event) => event,
            // A slow client misses events rather than holding the node's memory.
            Err(broadcast::error::RecvError::Lagged(_)) => continue,
            Err(broadcast::error::RecvError::Closed) => return Ok(()),
        };
        let mut messages = Vec::new();
        match (&kind, event) {
            (Kind::NewHeads, ChainEvent::Added(hash)) => {
                if let Ok(Some(header)) = api.executor.store().header(&hash) {
                    messages.extend(message(&Header {
                        hash,
                        inner: header,
                        total_difficulty: None,
                        size: None,
                    }));
                }
            }
            (Kind::NewHeads, ChainEvent::Removed(_)) | (Kind::NewPendingTransactions { .. }, _) => {
            }
            (Kind::Logs(filter), ChainEvent::Added(hash) | ChainEvent::Removed(hash)) => {
                let removed = matches!(event, ChainEvent::Removed(_));
                if let Ok(Some(logs)) = api.matching_logs(hash, filter) {
                    for mut log in logs {
                        log.removed = removed;
                        messages.extend(message(&log));
                    }
                }
            }
        }
        for message in messages {
            if sink.send(message).await.is_err() {
                return Ok(());
            }
        }
    }
}

/// `newPendingTransactions`: each public transaction the pool takes, as its hash or (`full`)
/// the transaction. Encrypted transactions are never announced: they are private until
/// included.
async fn serve_pending(
    full: bool,
    pending: PendingSubscriptionSink,
    api: Arc<EthApi>,
) -> SubscriptionResult {
    let mut pooled = api.pooled.subscribe();
    let sink = pending.accept().await?;
    loop {
        let hash = tokio::select! {
            _ = sink.closed() => return Ok(()),
            hash = pooled.recv() => match hash {
                Ok(hash) => hash,
                Err(broadcast::error::RecvError::Lagged(_)) => continue,
                Err(broadcast::error::RecvError::Closed) => return Ok(()),
            },
        };
        let message = if full {
            // Gone already (included or replaced): nothing to show.
            let Some(tx) = api.pool.get_public(&hash) else {
                continue;
            };
            message(&crate::pooled_transaction(&tx))
        } else {
            message(&hash)
        };
        if let Some(message) = message
            && sink.send(message).await.is_err()
        {
            return Ok(());
        }
    }
}

/// Registers `eth_subscribe` / `eth_unsubscribe`.
pub(crate) fn register(module: &mut RpcModule<Arc<EthApi>>) {
    module
        .register_subscription(
            "eth_subscribe",
            "eth_subscription",
            "eth_unsubscribe",
            |params, pending, api, _| serve_subscription(params, pending, Arc::clone(&*api)),
        )
        .expect("subscription names are unique");
}

#[cfg(test)]
mod tests {
    use crate::{EthApi, RpcConfig};
    use aegis_executor::{Executor, TxPool};
    use aegis_mempool::{Pool, PoolConfig};
    use aegis_testing::{TxType, rpc::call, signer, spec, transfer};
    use alloy_primitives::Address;
    use serde_json::json;
    use std::{sync::Arc, time::Duration};

    /// The cached head state holds a redb read transaction; kept after the head moved, it
    /// would stop redb reusing any page freed since (the database then grows by every block).
    #[tokio::test(flavor = "multi_thread")]
    async fn the_head_state_cache_is_let_go_when_the_head_moves() {
        let dir = tempfile::tempdir().unwrap();
        let spec = spec(None, None);
        let store = Arc::new(aegis_storage::Store::open(dir.path().join("c.redb")).unwrap());
        let executor = Arc::new(Executor::new(spec.clone(), store).unwrap());
        let pool = Arc::new(Pool::new(PoolConfig::default()));
        let api = Arc::new(EthApi::new(
            executor.clone(),
            pool.clone(),
            RpcConfig::default(),
        ));
        let (addr, _server) = api
            .clone()
            .serve("127.0.0.1:0".parse().unwrap())
            .await
            .unwrap();
        // A transaction queued behind a nonce gap: it stays in the pool, nothing else arrives.
        let raw = transfer(
            TxType::Eip1559,
            &signer(0),
            spec.chain_id,
            5,
            Address::ZERO,
            1,
        );
        let response = call(
            &format!("http://{addr}"),
            "eth_sendRawTransaction",
            json!([raw]),
        )
        .await;
        assert!(response.get("error").is_none(), "{response}");
        assert!(
            api.head_state.lock().unwrap().is_some(),
            "cached for the next one"
        );

        aegis_engine::DevSealer::new(
            executor,
            pool as Arc<dyn TxPool>,
            std::time::Duration::from_secs(1),
        )
        .with_limit(1)
        .run(std::future::pending())
        .await
        .unwrap();
        let started = std::time::Instant::now();
        while api.head_state.lock().unwrap().is_some() {
            assert!(
                started.elapsed() < Duration::from_secs(5),
                "the old head's state (and its read transaction) is still held"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}
