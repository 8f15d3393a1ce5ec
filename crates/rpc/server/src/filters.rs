//! Polling filters, as geth serves them to HTTP clients (viem's and ethers' watchers, web3.py's
//! `w3.eth.filter`): `eth_newFilter`, `eth_newBlockFilter`, `eth_newPendingTransactionFilter`,
//! `eth_getFilterChanges`, `eth_getFilterLogs`, `eth_uninstallFilter`.
//!
//! A filter holds a receiver of the same broadcasts the WebSocket subscriptions read (canonical
//! chain changes, newly pooled public transactions), drained on each poll, so memory per filter
//! is bounded by the channels' capacity and nothing runs for it between polls. A filter not
//! polled for five minutes (geth's deadline) is removed; at most [`MAX_FILTERS`] live at once.
//! A client that polls so rarely that a channel overflows misses the oldest changes, as a slow
//! WebSocket subscriber does.

use crate::{EthApi, RpcResult, error, subscribe::ChainEvent};
use aegis_rpc_types::errors::{LIMIT_EXCEEDED, PRUNED_HISTORY, SERVER_ERROR};
use alloy_primitives::{B256, hex};
use alloy_rpc_types_eth::{Filter, Log};
use serde::Serialize;
use std::{
    collections::HashMap,
    sync::Mutex,
    time::{Duration, Instant},
};
use tokio::sync::broadcast::{self, error::TryRecvError};

/// geth's filter deadline: a filter nobody polled for this long is removed.
pub(crate) const FILTER_IDLE: Duration = Duration::from_secs(5 * 60);
/// Filters live at once; installing another is refused.
pub(crate) const MAX_FILTERS: usize = 10_000;

/// What `eth_getFilterChanges` returns: block or transaction hashes, or logs.
#[derive(Clone, Debug, Serialize)]
#[serde(untagged)]
pub(crate) enum FilterChanges {
    Hashes(Vec<B256>),
    Logs(Vec<Log>),
}

enum Kind {
    Blocks(broadcast::Receiver<ChainEvent>),
    /// The filter, its receiver, and the chain changes drained but not delivered yet (a poll
    /// that failed keeps them for the next one).
    Logs(
        Box<Filter>,
        broadcast::Receiver<ChainEvent>,
        Vec<ChainEvent>,
    ),
    PendingTransactions(broadcast::Receiver<B256>),
}

/// Undelivered chain changes a log filter keeps across failed polls; the oldest go first, as
/// when a channel overflows.
const MAX_UNDELIVERED: usize = 1024;

struct Installed {
    kind: Kind,
    polled: Instant,
}

/// The live polling filters of one API.
#[derive(Default)]
pub(crate) struct Filters {
    live: Mutex<HashMap<String, Installed>>,
}

impl std::fmt::Debug for Filters {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let live = self.live.lock().map(|l| l.len()).unwrap_or_default();
        f.debug_struct("Filters").field("live", &live).finish()
    }
}

fn not_found() -> jsonrpsee::types::ErrorObjectOwned {
    error(SERVER_ERROR, "filter not found")
}

/// What is still unread in `receiver` (what overflowed is skipped).
fn drain<T: Clone>(receiver: &mut broadcast::Receiver<T>) -> Vec<T> {
    let mut out = Vec::new();
    loop {
        match receiver.try_recv() {
            Ok(item) => out.push(item),
            Err(TryRecvError::Lagged(_)) => continue,
            Err(TryRecvError::Empty | TryRecvError::Closed) => return out,
        }
    }
}

impl Filters {
    fn install(&self, kind: Kind, now: Instant) -> RpcResult<String> {
        let mut live = self.live.lock().unwrap_or_else(|e| e.into_inner());
        live.retain(|_, f| now.duration_since(f.polled) < FILTER_IDLE);
        if live.len() >= MAX_FILTERS {
            return Err(error(
                LIMIT_EXCEEDED,
                format!("too many filters (at most {MAX_FILTERS} at once)"),
            ));
        }
        let mut id = [0u8; 16];
        rand_core::RngCore::fill_bytes(&mut rand_core::OsRng, &mut id);
        let id = hex::encode_prefixed(id);
        live.insert(id.clone(), Installed { kind, polled: now });
        Ok(id)
    }

    /// `eth_uninstallFilter`: whether a filter `id` was live.
    pub(crate) fn uninstall(&self, id: &str) -> bool {
        let mut live = self.live.lock().unwrap_or_else(|e| e.into_inner());
        live.remove(&id.to_ascii_lowercase()).is_some()
    }

    /// Takes the filter `id` out while it is read (a poll may read blocks), refreshing its
    /// deadline; `None` when it is unknown or expired.
    fn take(&self, id: &str, now: Instant) -> Option<Installed> {
        let mut live = self.live.lock().unwrap_or_else(|e| e.into_inner());
        live.retain(|_, f| now.duration_since(f.polled) < FILTER_IDLE);
        let mut installed = live.remove(&id.to_ascii_lowercase())?;
        installed.polled = now;
        Some(installed)
    }

    fn put_back(&self, id: &str, installed: Installed) {
        let mut live = self.live.lock().unwrap_or_else(|e| e.into_inner());
        live.insert(id.to_ascii_lowercase(), installed);
    }
}

impl EthApi {
    /// `eth_newBlockFilter`.
    pub(crate) fn new_block_filter(&self) -> RpcResult<String> {
        let kind = Kind::Blocks(self.events.subscribe());
        self.filters.install(kind, Instant::now())
    }

    /// `eth_newFilter`.
    pub(crate) fn new_log_filter(&self, filter: Filter) -> RpcResult<String> {
        let kind = Kind::Logs(Box::new(filter), self.events.subscribe(), Vec::new());
        self.filters.install(kind, Instant::now())
    }

    /// `eth_newPendingTransactionFilter`: public transactions pooled from now on (encrypted
    /// ones are never announced before inclusion).
    pub(crate) fn new_pending_transaction_filter(&self) -> RpcResult<String> {
        let kind = Kind::PendingTransactions(self.pooled.subscribe());
        self.filters.install(kind, Instant::now())
    }

    /// `eth_getFilterChanges`: what happened since the last poll. A log filter reports the
    /// logs of blocks a reorg removed again, with `removed: true`.
    pub(crate) fn filter_changes(&self, id: &str) -> RpcResult<FilterChanges> {
        let mut installed = self
            .filters
            .take(id, Instant::now())
            .ok_or_else(not_found)?;
        let changes = match &mut installed.kind {
            Kind::Blocks(events) => Ok(FilterChanges::Hashes(
                drain(events)
                    .into_iter()
                    .filter_map(|e| match e {
                        ChainEvent::Added(hash) => Some(hash),
                        ChainEvent::Removed(_) => None,
                    })
                    .collect(),
            )),
            Kind::PendingTransactions(pooled) => Ok(FilterChanges::Hashes(drain(pooled))),
            Kind::Logs(filter, events, undelivered) => {
                undelivered.extend(drain(events));
                let excess = undelivered.len().saturating_sub(MAX_UNDELIVERED);
                undelivered.drain(..excess);
                let mut logs = Vec::new();
                let mut failed = None;
                // A block whose history was pruned fails for good: reported once, then dropped.
                undelivered.retain(|event| {
                    let (ChainEvent::Added(hash) | ChainEvent::Removed(hash)) = *event;
                    match self.matching_logs(hash, filter) {
                        Ok(found) => {
                            logs.extend(found.unwrap_or_default().into_iter().map(|mut log| {
                                log.removed = matches!(event, ChainEvent::Removed(_));
                                log
                            }));
                            true
                        }
                        Err(e) => {
                            let gone = e.code() == PRUNED_HISTORY;
                            failed = Some(e);
                            !gone
                        }
                    }
                });
                match failed {
                    // Nothing was delivered: everything else waits for the next poll.
                    Some(e) => Err(e),
                    None => {
                        undelivered.clear();
                        Ok(FilterChanges::Logs(logs))
                    }
                }
            }
        };
        self.filters.put_back(id, installed);
        changes
    }

    /// `eth_getFilterLogs`: every log the log filter `id` matches, as `eth_getLogs` would
    /// answer for it.
    pub(crate) fn filter_logs(&self, id: &str) -> RpcResult<Vec<Log>> {
        let installed = self
            .filters
            .take(id, Instant::now())
            .ok_or_else(not_found)?;
        let filter = match &installed.kind {
            Kind::Logs(filter, _, _) => Some((**filter).clone()),
            _ => None,
        };
        self.filters.put_back(id, installed);
        self.get_logs(filter.ok_or_else(not_found)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn idle_filters_expire_and_the_count_is_bounded() {
        let filters = Filters::default();
        let (events, _) = broadcast::channel(4);
        let start = Instant::now();
        let id = filters
            .install(Kind::Blocks(events.subscribe()), start)
            .unwrap();
        assert!(id.starts_with("0x") && id.len() == 34, "{id}");
        // Polled just before the deadline: kept, and the deadline moves.
        let almost = start + FILTER_IDLE - Duration::from_secs(1);
        let taken = filters.take(&id, almost).expect("live");
        filters.put_back(&id, taken);
        // Ids are hex: any case finds the filter.
        let upper = format!("0x{}", id[2..].to_uppercase());
        assert!(filters.take(&upper, almost).is_some());
        filters.put_back(
            &id,
            Installed {
                kind: Kind::Blocks(events.subscribe()),
                polled: almost,
            },
        );
        assert!(filters.take(&id, almost + FILTER_IDLE).is_none(), "expired");
        assert!(!filters.uninstall(&id));

        for _ in 0..MAX_FILTERS {
            filters
                .install(Kind::Blocks(events.subscribe()), start)
                .unwrap();
        }
        let refused = filters
            .install(Kind::Blocks(events.subscribe()), start)
            .unwrap_err();
        assert_eq!(refused.code(), LIMIT_EXCEEDED);
        // Expired ones make room.
        filters
            .install(Kind::Blocks(events.subscribe()), start + FILTER_IDLE)
            .unwrap();
    }

    #[test]
    fn a_lagging_receiver_skips_what_overflowed() {
        let (events, _) = broadcast::channel(2);
        let mut receiver = events.subscribe();
        for n in 0..5u8 {
            events.send(B256::repeat_byte(n)).unwrap();
        }
        assert_eq!(
            drain(&mut receiver),
            vec![B256::repeat_byte(3), B256::repeat_byte(4)]
        );
        assert!(drain(&mut receiver).is_empty());
    }
}
