//! Where a worker's wallet RPC sends what only the leader may take (op-geth's
//! `--rollup.sequencerhttp`, but following the leadership as it moves).

use crate::{ClusterStore, ConductorError};
use std::{
    sync::Mutex,
    time::{Duration, Instant},
};

/// How long a looked-up leader is trusted before etcd is asked again; a failed forward forgets
/// it at once.
const LEADER_CACHE: Duration = Duration::from_millis(500);

/// Where the current leader's wallet RPC is, as seen by one worker.
#[derive(Debug)]
pub struct LeaderRoute {
    store: ClusterStore,
    cached: Mutex<Option<(Instant, Destination)>>,
}

/// Where a request for the leader goes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Destination {
    /// This worker leads: handle it here.
    Here,
    /// The leader's wallet RPC URL.
    Leader {
        /// The leader's worker id.
        id: String,
        /// Its advertised wallet RPC.
        url: String,
    },
}

impl LeaderRoute {
    /// The route of the worker `store` is connected as.
    pub fn new(store: ClusterStore) -> Self {
        Self {
            store,
            cached: Mutex::new(None),
        }
    }

    /// Where to send a transaction now. Fails while no worker leads (a failover is under way)
    /// or the leader advertised no RPC.
    pub async fn destination(&self) -> Result<Destination, ConductorError> {
        if let Some((at, destination)) = &*self.cached.lock().expect("route cache")
            && at.elapsed() < LEADER_CACHE
        {
            return Ok(destination.clone());
        }
        let destination = match self.store.leader().await? {
            None => return Err(ConductorError::NoLeader),
            Some(id) if id == self.store.id() => Destination::Here,
            Some(id) => {
                let url = self.store.rpc_of(&id).await?.ok_or_else(|| {
                    ConductorError::Config(format!("leader {id} advertised no wallet RPC"))
                })?;
                Destination::Leader { id, url }
            }
        };
        *self.cached.lock().expect("route cache") = Some((Instant::now(), destination.clone()));
        Ok(destination)
    }

    /// Forgets the cached leader (a forward to it failed).
    pub fn forget(&self) {
        *self.cached.lock().expect("route cache") = None;
    }
}
