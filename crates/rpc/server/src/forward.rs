//! A cluster follower's wallet RPC: what only the leader may take is forwarded to it (op-geth's
//! `--rollup.sequencerhttp`), and plain transactions (and encrypted ones, still sealed) are kept
//! here too, so that whichever worker leads next includes them.

use crate::{RpcResult, error};
use aegis_conductor::{Destination, LeaderRoute};
use aegis_rpc_types::errors::FORWARD_FAILED;
use jsonrpsee::{
    core::{ClientError, client::ClientT, params::ArrayParams},
    http_client::{HttpClient, HttpClientBuilder},
};
use serde::de::DeserializeOwned;
use std::{
    collections::{HashMap, VecDeque},
    sync::Mutex,
    time::{Duration, Instant},
};

/// Timeout of one forwarded request.
const FORWARD_TIMEOUT: Duration = Duration::from_secs(5);

/// How often a follower checks whether the leadership moved.
const LEADER_CHECK: Duration = Duration::from_millis(500);

/// Encrypted transactions a follower forwarded and keeps, for the next leader: at most this many
/// bytes…
const KEPT_ENVELOPE_BYTES: usize = 16 << 20;
/// …for this long (a transaction not included by then is the sender's to resend).
const ENVELOPE_KEPT_FOR: Duration = Duration::from_secs(600);

/// Forwards requests to the cluster's leader.
#[derive(Debug)]
pub struct LeaderForward {
    route: LeaderRoute,
    clients: Mutex<HashMap<String, HttpClient>>,
    /// Envelopes forwarded, still sealed: only the cluster's key opens them, which every worker
    /// holds (`aegis_keyshare`), so the next leader can include them if this one dies first.
    envelopes: Mutex<VecDeque<(Instant, alloy_primitives::Bytes)>>,
}

/// Runs on a cluster worker until the node stops: whenever another worker takes the lead, this
/// pool's transactions (the plain ones, in nonce order) are sent to it, so that what a follower
/// acknowledged is not stranded when the leader it forwarded to dies before including it; and
/// while another worker leads, this node's own transactions (its anchor registering its TEE
/// identity) go to it as soon as they are pooled.
pub async fn hand_pool_to_new_leaders(api: std::sync::Arc<crate::EthApi>) {
    let Some(forward) = &api.forward else {
        return;
    };
    let own = api.aegis.as_ref().map(|ctx| ctx.identity.address());
    let mut handed_to: Option<String> = None;
    let mut sent_own = std::collections::HashSet::new();
    loop {
        tokio::time::sleep(LEADER_CHECK).await;
        let (id, url) = match forward.route.destination().await {
            Ok(Destination::Leader { id, url }) => (id, url),
            Ok(Destination::Here) => {
                // This worker leads now: what it kept for the next leader is its own to include
                // (opened with the cluster key; those already included are refused).
                let kept = forward.take_envelopes();
                if !kept.is_empty() {
                    let count = kept.len();
                    let worker_api = api.clone();
                    let included = api
                        .workers
                        .run(move || {
                            Ok(kept
                                .iter()
                                .filter(|e| crate::aegis::open_and_submit(&worker_api, e).is_ok())
                                .count())
                        })
                        .await
                        .unwrap_or(0);
                    tracing::info!(target: "aegis::rpc", kept = count, pooled = included, "encrypted transactions kept as a follower pooled as the leader");
                }
                handed_to = None;
                continue;
            }
            Err(_) => continue,
        };
        let content = api.pool.public_content(usize::MAX);
        let mut not_ready = false;
        let whole_pool = handed_to.as_deref() != Some(id.as_str());
        let (mut sent, mut refused) = (0usize, 0usize);
        for (sender, txs) in content.pending.iter().chain(content.queued.iter()) {
            if !whole_pool && Some(*sender) != own {
                continue;
            }
            for tx in txs.values() {
                if !whole_pool && sent_own.contains(&tx.hash()) {
                    continue;
                }
                let params = jsonrpsee::rpc_params![tx.encoded().clone()];
                match forward
                    .call::<alloy_primitives::B256>(&url, "eth_sendRawTransaction", params)
                    .await
                {
                    Ok(_) => sent += 1,
                    // Mostly "already known": the leader has it.
                    Err(e) => {
                        refused += 1;
                        not_ready |= not_leading_yet(&e);
                    }
                }
                if Some(*sender) == own {
                    sent_own.insert(tx.hash());
                }
            }
        }
        sent_own.retain(|hash| api.pool.get(hash).is_some());
        if whole_pool {
            // The encrypted ones, still sealed; those already included are refused.
            for envelope in forward.kept_envelopes() {
                let params = jsonrpsee::rpc_params![envelope];
                match forward
                    .call::<alloy_primitives::B256>(&url, "aegis_sendEncryptedTransaction", params)
                    .await
                {
                    Ok(_) => sent += 1,
                    Err(e) => {
                        refused += 1;
                        not_ready |= not_leading_yet(&e);
                    }
                }
            }
            if not_ready {
                // The new leader does not act as one yet (it still forwards, to the worker that
                // is gone): the whole handover is tried again next time.
                tracing::debug!(target: "aegis::rpc", leader = %id, "the new leader is not ready; handing the pool over again");
                continue;
            }
            tracing::info!(target: "aegis::rpc", leader = %id, sent, refused, "pool handed to the new leader");
            handed_to = Some(id);
        } else if sent + refused > 0 {
            tracing::debug!(target: "aegis::rpc", leader = %id, sent, refused, "own transactions sent to the leader");
        }
    }
}

/// A refusal that says the worker asked could not forward or be reached ([`FORWARD_FAILED`],
/// from it or from this worker's own forwarding): not a verdict on the transaction, so it is
/// offered again.
fn not_leading_yet(error: &jsonrpsee::types::ErrorObjectOwned) -> bool {
    error.code() == FORWARD_FAILED
}

impl LeaderForward {
    /// Forwards along `route`.
    pub fn new(route: LeaderRoute) -> Self {
        Self {
            route,
            clients: Mutex::default(),
            envelopes: Mutex::default(),
        }
    }

    /// Keeps a forwarded envelope for the next leader.
    pub(crate) fn keep_envelope(&self, envelope: alloy_primitives::Bytes) {
        let mut kept = self.envelopes.lock().unwrap_or_else(|e| e.into_inner());
        let mut bytes: usize = kept.iter().map(|(_, e)| e.len()).sum::<usize>() + envelope.len();
        while bytes > KEPT_ENVELOPE_BYTES
            && let Some((_, oldest)) = kept.pop_front()
        {
            bytes -= oldest.len();
        }
        kept.push_back((Instant::now(), envelope));
    }

    /// The envelopes kept and not yet expired, no longer kept.
    fn take_envelopes(&self) -> Vec<alloy_primitives::Bytes> {
        let envelopes = self.kept_envelopes();
        self.envelopes
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
        envelopes
    }

    /// The envelopes kept and not yet expired.
    fn kept_envelopes(&self) -> Vec<alloy_primitives::Bytes> {
        let mut kept = self.envelopes.lock().unwrap_or_else(|e| e.into_inner());
        while kept
            .front()
            .is_some_and(|(at, _)| at.elapsed() > ENVELOPE_KEPT_FOR)
        {
            kept.pop_front();
        }
        kept.iter().map(|(_, envelope)| envelope.clone()).collect()
    }

    /// The leader's URL, or `None` when this worker leads.
    pub(crate) async fn leader(&self) -> RpcResult<Option<String>> {
        match self.route.destination().await {
            Ok(Destination::Here) => Ok(None),
            Ok(Destination::Leader { url, .. }) => Ok(Some(url)),
            Err(e) => Err(error(
                FORWARD_FAILED,
                format!("cannot forward to the sequencer: {e}"),
            )),
        }
    }

    /// Calls `method` on the leader at `url`. The leader's own refusals (nonce too low, …) reach
    /// the caller unchanged; a leader that cannot be reached is forgotten.
    pub(crate) async fn call<R: DeserializeOwned>(
        &self,
        url: &str,
        method: &str,
        params: ArrayParams,
    ) -> RpcResult<R> {
        let client = self.client(url)?;
        client.request(method, params).await.map_err(|e| match e {
            ClientError::Call(refusal) => refusal,
            other => {
                self.route.forget();
                error(
                    FORWARD_FAILED,
                    format!("forwarding to the sequencer failed: {other}"),
                )
            }
        })
    }

    fn client(&self, url: &str) -> RpcResult<HttpClient> {
        let mut clients = self.clients.lock().expect("forward clients");
        if let Some(client) = clients.get(url) {
            return Ok(client.clone());
        }
        let client = HttpClientBuilder::default()
            .request_timeout(FORWARD_TIMEOUT)
            .build(url)
            .map_err(|e| error(FORWARD_FAILED, format!("sequencer URL {url}: {e}")))?;
        clients.insert(url.to_owned(), client.clone());
        Ok(client)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_forwarding_failure_is_no_verdict() {
        assert!(not_leading_yet(&error(
            FORWARD_FAILED,
            "forwarding to the sequencer failed: connection refused"
        )));
        assert!(not_leading_yet(&error(
            FORWARD_FAILED,
            "cannot forward to the sequencer: no leader"
        )));
        // The leader's own refusals are verdicts, whatever their wording.
        for refusal in ["already known", "nonce too low", "forwarded too late"] {
            assert!(!not_leading_yet(&error(crate::SERVER_ERROR, refusal)));
        }
    }
}
