//! The protocol over HTTP between workers: what a member serves (`POST
//! /cluster/key-share/challenge`, `POST /cluster/key-share/join`, JSON bodies) and how a joiner
//! takes the cluster key from one at start-up.

use crate::{
    Challenge, JoinPolicy, JoinRequest, Joiner, KeyShare, KeyShareError, Member, NonceBook,
    WorkerId,
};
use aegis_attest::{Identity, QuoteTrust};
use alloy_primitives::B256;
use std::{sync::Arc, time::Duration};

/// Path of message 1 on a member's operations endpoint.
pub const CHALLENGE_PATH: &str = "/cluster/key-share/challenge";
/// Path of messages 2 → 3.
pub const JOIN_PATH: &str = "/cluster/key-share/join";

/// What peers' quotes must chain to.
#[derive(Clone, Debug)]
pub enum TrustRoots {
    /// Development roots (simulated TEEs; a worker's root is in its `aegis keys show`).
    Dev(Vec<[u8; 64]>),
    /// Intel's root through this DCAP collateral (JSON), checked at the current time.
    Dcap(Vec<u8>),
}

impl TrustRoots {
    /// The [`QuoteTrust`] to check a quote with at unix time `now`.
    pub fn quote_trust(&self, now: u64) -> QuoteTrust<'_> {
        match self {
            Self::Dev(roots) => QuoteTrust::DevRoots(roots),
            Self::Dcap(collateral) => QuoteTrust::Dcap {
                collateral,
                at: now,
            },
        }
    }
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// A member's side: challenges and answers with this node's current mempool key.
#[derive(Debug)]
pub struct KeyShareService {
    member: Member<Arc<Identity>>,
    identity: Arc<Identity>,
    nonces: NonceBook,
    policy: JoinPolicy,
    trust: TrustRoots,
}

impl KeyShareService {
    /// Serves `identity`'s mempool key to joiners that pass `policy` under `trust`.
    pub fn new(identity: Arc<Identity>, policy: JoinPolicy, trust: TrustRoots) -> Self {
        Self {
            member: Member::new(identity.clone()),
            identity,
            nonces: NonceBook::default(),
            policy,
            trust,
        }
    }

    /// Message 1.
    pub fn challenge(&self) -> Result<Challenge, KeyShareError> {
        self.member
            .challenge(&self.nonces, &self.identity.encryption_secret())
    }

    /// Messages 2 → 3.
    pub async fn answer(&self, request: &JoinRequest) -> Result<KeyShare, KeyShareError> {
        let key = self.identity.encryption_secret();
        self.member
            .answer(
                request,
                self.trust.quote_trust(now()),
                &self.policy,
                &self.nonces,
                &key,
            )
            .await
    }
}

fn http(url: &str, reason: impl std::fmt::Display) -> KeyShareError {
    KeyShareError::Http {
        url: url.to_string(),
        reason: reason.to_string(),
    }
}

async fn post<T: serde::de::DeserializeOwned>(
    client: &reqwest::Client,
    url: &str,
    body: Option<&JoinRequest>,
) -> Result<T, KeyShareError> {
    let request = client.post(url);
    let request = match body {
        Some(body) => request.json(body),
        None => request,
    };
    let response = request.send().await.map_err(|e| http(url, e))?;
    let status = response.status();
    if !status.is_success() {
        let text = response.text().await.unwrap_or_default();
        return Err(http(url, format!("HTTP {status}: {}", text.trim())));
    }
    response.json().await.map_err(|e| http(url, e))
}

/// Takes the cluster key from the member at `base` (its operations endpoint, `http://host:port`)
/// and adopts it (sealed into `identity`'s key store): the member's quote must pass `policy`
/// under `trust`. Returns the adopted key's hash.
pub async fn join_cluster_key(
    identity: &Identity,
    worker: WorkerId,
    base: &str,
    trust: &TrustRoots,
    policy: &JoinPolicy,
) -> Result<B256, KeyShareError> {
    let base = base.trim_end_matches('/');
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .map_err(|e| http(base, e))?;
    let url = format!("{base}{CHALLENGE_PATH}");
    let challenge: Challenge = post(&client, &url, None).await?;
    let mut joiner = Joiner::new(identity.chain_id(), worker);
    let request = joiner.request(&challenge, identity).await?;
    let url = format!("{base}{JOIN_PATH}");
    let share: KeyShare = post(&client, &url, Some(&request)).await?;
    let key = joiner.accept(&share, trust.quote_trust(now()), policy)?;
    let hash = key.key_hash();
    identity
        .adopt_encryption_key(key)
        .map_err(KeyShareError::Adopt)?;
    Ok(hash)
}
