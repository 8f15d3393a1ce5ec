//! Shared fixtures: simulator TEEs under one development root, and a genuine exchange.

#![allow(dead_code)] // each test binary uses its own part

use aegis_attest::QuoteTrust;
use aegis_envelope::RecipientSecretKey;
use aegis_keyshare::{
    Challenge, JoinPolicy, JoinRequest, Joiner, KeyShare, Member, NonceBook, WorkerId,
};
use aegis_tee::{AttestationProvider, Measurements, Simulator};
use rand_core::OsRng;

/// The L2 chain of the cluster.
pub(crate) const CHAIN: u64 = 901;

/// The seed of the cluster's development root.
pub(crate) const ROOT_SEED: [u8; 32] = [2; 32];

/// A simulator under the cluster's development root, running the allowed workload.
pub(crate) fn simulator() -> Simulator {
    Simulator::new(ROOT_SEED).expect("simulator")
}

/// A simulator under the cluster's root running another workload.
pub(crate) fn rogue_workload() -> Simulator {
    simulator().with_measurements(Measurements {
        mrtd: [0xb0; 48],
        ..Measurements::default()
    })
}

/// The cluster's development root.
pub(crate) fn root() -> [u8; 64] {
    simulator().dev_root_public_key()
}

/// Trusts `root` (simulator quotes).
pub(crate) fn trust(root: &[u8; 64]) -> QuoteTrust<'_> {
    QuoteTrust::DevRoot(root)
}

/// The cluster's policy: the default simulator workload.
pub(crate) fn policy() -> JoinPolicy {
    JoinPolicy::new([Measurements::default().workload_id()])
}

/// One complete, genuine exchange between anonymous simulator TEEs.
pub(crate) struct Exchange {
    pub(crate) root: [u8; 64],
    pub(crate) cluster_key: RecipientSecretKey,
    pub(crate) nonces: NonceBook,
    pub(crate) member: Member<AttestationProvider>,
    pub(crate) joiner: Joiner,
    pub(crate) challenge: Challenge,
    pub(crate) request: JoinRequest,
    pub(crate) share: KeyShare,
}

pub(crate) async fn exchange(key_epoch: u32) -> Exchange {
    let root = root();
    let cluster_key = RecipientSecretKey::generate(CHAIN, key_epoch, &mut OsRng).unwrap();
    let nonces = NonceBook::default();
    let member = Member::new(AttestationProvider::Simulator(simulator()));
    let challenge = member.challenge(&nonces, &cluster_key).unwrap();
    let mut joiner = Joiner::new(CHAIN, WorkerId::new("worker-2").unwrap());
    let provider = AttestationProvider::Simulator(simulator());
    let request = joiner.request(&challenge, &provider).await.unwrap();
    let share = member
        .answer(&request, trust(&root), &policy(), &nonces, &cluster_key)
        .await
        .unwrap();
    Exchange {
        root,
        cluster_key,
        nonces,
        member,
        joiner,
        challenge,
        request,
        share,
    }
}
