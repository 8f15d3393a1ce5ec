//! One worker's conductor: its lease and leadership, its operator switches, and the fenced
//! commit the rollup node calls.

use crate::{ClusterStore, ConductorError, Leadership, ServerInfo, Suffrage};
use op_alloy_rpc_types_engine::OpExecutionPayloadEnvelope;
use std::{
    sync::atomic::{AtomicBool, Ordering},
    time::{Duration, Instant},
};
use tokio::sync::Mutex;

/// A worker's conductor state, shared by its control loop and its JSON-RPC server.
#[derive(Debug)]
pub struct Conductor {
    store: ClusterStore,
    ttl: Duration,
    /// The current lease; replaced when it lapses.
    leadership: Mutex<Option<Leadership>>,
    /// No campaigning before this (after handing leadership over).
    quiet_until: Mutex<Option<Instant>>,
    paused: AtomicBool,
    stopped: AtomicBool,
    overridden: AtomicBool,
    healthy: AtomicBool,
}

impl Conductor {
    /// A conductor over `store` whose leadership lives on leases of `ttl`.
    pub fn new(store: ClusterStore, ttl: Duration) -> Self {
        Self {
            store,
            ttl,
            leadership: Mutex::new(None),
            quiet_until: Mutex::new(None),
            paused: AtomicBool::new(false),
            stopped: AtomicBool::new(false),
            overridden: AtomicBool::new(false),
            healthy: AtomicBool::new(false),
        }
    }

    /// The cluster store.
    pub fn store(&self) -> &ClusterStore {
        &self.store
    }

    /// One election round: renews the lease if it lapsed and campaigns for the leader key
    /// (unless paused, stopped, or quiet after a transfer). True if this worker leads now.
    pub async fn campaign(&self) -> Result<bool, ConductorError> {
        let mut leadership = self.leadership.lock().await;
        if leadership.as_ref().is_none_or(Leadership::lapsed) {
            *leadership = Some(self.store.grant(self.ttl).await?);
        }
        let lease = leadership.as_ref().expect("granted above");
        let quiet = self
            .quiet_until
            .lock()
            .await
            .is_some_and(|until| Instant::now() < until);
        let id = self.store.id();
        let members = self.store.membership().await?;
        // Non-voters, and workers an operator removed, only follow; so does everyone but the
        // nominee of a transfer while it stands.
        let voter = members.servers.is_empty()
            || members
                .servers
                .iter()
                .any(|s| s.id == id && s.suffrage == Suffrage::Voter);
        let passed_over = self.store.nominee().await?.is_some_and(|n| n != id);
        if !self.active() || quiet || !voter || passed_over {
            return self.store.holds_leadership(lease).await;
        }
        self.store.campaign(lease).await
    }

    /// Hands leadership to voter `id`: names it the nominee (for two TTLs) and resigns.
    pub async fn transfer_leadership_to(&self, id: &str) -> Result<(), ConductorError> {
        let members = self.store.membership().await?;
        if !members
            .servers
            .iter()
            .any(|s| s.id == id && s.suffrage == Suffrage::Voter)
        {
            return Err(ConductorError::Config(format!(
                "{id:?} is not a voting member"
            )));
        }
        let leadership = self.leadership.lock().await;
        let lease = leadership.as_ref().ok_or(ConductorError::NotLeader)?;
        self.store.nominate(lease, id, self.ttl * 2).await?;
        if !self.store.resign(lease).await? {
            return Err(ConductorError::NotLeader);
        }
        *self.quiet_until.lock().await = Some(Instant::now() + self.ttl * 2);
        Ok(())
    }

    /// Adds or updates a member (the leader only, at membership `version`).
    pub async fn add_member(
        &self,
        server: &ServerInfo,
        version: u64,
    ) -> Result<(), ConductorError> {
        let leadership = self.leadership.lock().await;
        let lease = leadership
            .as_ref()
            .filter(|l| !l.lapsed())
            .ok_or(ConductorError::NotLeader)?;
        self.store.put_member(server, Some((lease, version))).await
    }

    /// Removes a member (the leader only, at membership `version`).
    pub async fn remove_member(&self, id: &str, version: u64) -> Result<(), ConductorError> {
        let leadership = self.leadership.lock().await;
        let lease = leadership
            .as_ref()
            .filter(|l| !l.lapsed())
            .ok_or(ConductorError::NotLeader)?;
        self.store.remove_member(id, lease, version).await
    }

    /// Whether this worker leads: it holds the leader key with a lease that has not lapsed, or
    /// an operator overrode leadership ([`Conductor::override_leader`]).
    pub async fn leader(&self) -> Result<bool, ConductorError> {
        if self.overridden.load(Ordering::Acquire) {
            return Ok(true);
        }
        let leadership = self.leadership.lock().await;
        let Some(lease) = leadership.as_ref().filter(|l| !l.lapsed()) else {
            return Ok(false);
        };
        self.store.holds_leadership(lease).await
    }

    /// Commits `envelope` as the cluster's unsafe head; refused unless this worker leads (see
    /// [`ClusterStore::commit`]). With leadership overridden it is accepted without etcd: the
    /// operator took over because the cluster is down.
    pub async fn commit(
        &self,
        envelope: &OpExecutionPayloadEnvelope,
    ) -> Result<(), ConductorError> {
        if self.overridden.load(Ordering::Acquire) {
            return Ok(());
        }
        let started = Instant::now();
        let leadership = self.leadership.lock().await;
        let outcome = match leadership.as_ref().filter(|l| !l.lapsed()) {
            Some(lease) => self.store.commit(lease, envelope).await,
            None => Err(ConductorError::NotLeader),
        };
        let result = match &outcome {
            Ok(()) => "ok",
            Err(ConductorError::NotLeader) => "not_leader",
            Err(ConductorError::DoesNotExtend { .. }) => "does_not_extend",
            Err(_) => "error",
        };
        metrics::counter!("aegis_conductor_commits_total", "result" => result).increment(1);
        if outcome.is_ok() {
            metrics::histogram!("aegis_conductor_commit_seconds")
                .record(started.elapsed().as_secs_f64());
        }
        outcome
    }

    /// Whether this worker holds no lease that is surely still alive (none, or not renewed
    /// within its TTL): then another worker may lead.
    pub async fn lease_lapsed(&self) -> bool {
        self.leadership
            .lock()
            .await
            .as_ref()
            .is_none_or(Leadership::lapsed)
    }

    /// Seconds since the current lease's last confirmed renewal (`None` without a lease).
    pub async fn lease_age(&self) -> Option<Duration> {
        self.leadership
            .lock()
            .await
            .as_ref()
            .and_then(Leadership::age)
    }

    /// Gives the leader key up and stays out of the next elections for two TTLs, so another
    /// worker takes over. False if this worker did not lead.
    pub async fn transfer_leadership(&self) -> Result<bool, ConductorError> {
        let leadership = self.leadership.lock().await;
        let Some(lease) = leadership.as_ref() else {
            return Ok(false);
        };
        let resigned = self.store.resign(lease).await?;
        if resigned {
            *self.quiet_until.lock().await = Some(Instant::now() + self.ttl * 2);
        }
        Ok(resigned)
    }

    /// Not paused and not stopped.
    pub fn active(&self) -> bool {
        !self.paused() && !self.stopped()
    }

    /// Paused by the operator: the control loop takes no action.
    pub fn paused(&self) -> bool {
        self.paused.load(Ordering::Acquire)
    }

    /// Stopped by the operator (for good, until restarted).
    pub fn stopped(&self) -> bool {
        self.stopped.load(Ordering::Acquire)
    }

    /// Pauses or resumes the control loop.
    pub fn set_paused(&self, paused: bool) {
        self.paused.store(paused, Ordering::Release);
    }

    /// Stops the control loop.
    pub fn stop(&self) {
        self.stopped.store(true, Ordering::Release);
    }

    /// Forces this worker to report itself leader (disaster recovery, op-conductor's
    /// `overrideLeader`), or ends the override.
    pub fn override_leader(&self, overridden: bool) {
        self.overridden.store(overridden, Ordering::Release);
    }

    /// Whether leadership is overridden.
    pub fn leader_overridden(&self) -> bool {
        self.overridden.load(Ordering::Acquire)
    }

    /// The last health verdict of the control loop.
    pub fn sequencer_healthy(&self) -> bool {
        self.healthy.load(Ordering::Acquire)
    }

    /// Records the control loop's health verdict.
    pub fn set_sequencer_healthy(&self, healthy: bool) {
        self.healthy.store(healthy, Ordering::Release);
    }
}
