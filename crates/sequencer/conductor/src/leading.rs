//! Whether this worker leads, as a value the single writers (the batcher posting to L1, the
//! anchor committing on chain) follow: only the leader's write, so a failover never leaves two
//! batchers racing for the same nonces or two anchors for the same batch ids.

use crate::ClusterStore;
use std::time::Duration;
use tokio::sync::watch;

/// Follows the leader key every `interval` (false while etcd cannot be reached: a worker
/// that cannot tell must not write) until every receiver is dropped.
pub fn watch_leadership(store: ClusterStore, interval: Duration) -> watch::Receiver<bool> {
    let (tx, rx) = watch::channel(false);
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(interval);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = tick.tick() => {}
                _ = tx.closed() => return,
            }
            let leads = store
                .leader()
                .await
                .is_ok_and(|leader| leader.as_deref() == Some(store.id()));
            tx.send_if_modified(|current| std::mem::replace(current, leads) != leads);
        }
    });
    rx
}
