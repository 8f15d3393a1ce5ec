//! The handshake between simulator TEEs: the happy path, and every refusal.

mod common;

use aegis_attest::{AttestError, Identity, IdentityConfig};
use aegis_envelope::{EnvelopeError, RecipientSecretKey, Zeroizing, open, seal};
use aegis_keyshare::{
    Attester, Challenge, JoinPolicy, JoinRequest, Joiner, KeyShare, KeyShareError, Member,
    NonceBook, WorkerId,
};
use aegis_pqc::{SealingKey, SlhDsaVariant};
use aegis_tee::{AttestationProvider, Simulator, TeeError};
use alloy_primitives::{Address, B256};
use common::{CHAIN, exchange, policy, rogue_workload, root, simulator, trust};
use rand_core::OsRng;
use std::{path::Path, time::Duration};

fn identity(dir: &Path, name: &str, create: bool) -> Identity {
    Identity::open(IdentityConfig {
        chain_id: CHAIN,
        keystore: dir.join(name).join("sequencer.keystore"),
        sealing: SealingKey::Secret(Zeroizing::new([1; 32])),
        create_if_missing: create,
        slh_variant: SlhDsaVariant::Sha2,
        provider: AttestationProvider::Simulator(simulator()),
    })
    .unwrap()
}

fn worker(name: &str) -> WorkerId {
    WorkerId::new(name).unwrap()
}

fn anonymous(sim: Simulator) -> AttestationProvider {
    AttestationProvider::Simulator(sim)
}

fn json<T: serde::Serialize + serde::de::DeserializeOwned>(value: &T) -> T {
    serde_json::from_str(&serde_json::to_string(value).unwrap()).unwrap()
}

/// A member of the cluster (anonymous simulator TEE) and its state.
struct Cluster {
    root: [u8; 64],
    key: RecipientSecretKey,
    nonces: NonceBook,
    member: Member<AttestationProvider>,
}

impl Cluster {
    fn new(key_epoch: u32) -> Self {
        Self {
            root: root(),
            key: RecipientSecretKey::generate(CHAIN, key_epoch, &mut OsRng).unwrap(),
            nonces: NonceBook::default(),
            member: Member::new(anonymous(simulator())),
        }
    }

    fn challenge(&self) -> Challenge {
        self.member.challenge(&self.nonces, &self.key).unwrap()
    }

    async fn answer(&self, request: &JoinRequest) -> Result<KeyShare, KeyShareError> {
        self.member
            .answer(
                request,
                trust(&self.root),
                &policy(),
                &self.nonces,
                &self.key,
            )
            .await
    }

    /// A fresh challenge answered by `joiner` through `attester`.
    async fn request(&self, joiner: &mut Joiner, attester: &impl Attester) -> JoinRequest {
        joiner.request(&self.challenge(), attester).await.unwrap()
    }
}

// ----- happy path --------------------------------------------------------------------------------

#[tokio::test]
async fn a_joiner_receives_the_members_key_adopts_it_and_keeps_it_across_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let member_identity = identity(dir.path(), "member", true);
    let joiner_identity = identity(dir.path(), "joiner", true);
    let cluster_key = member_identity.encryption_secret();
    assert_ne!(
        joiner_identity.encryption_public_key().key_hash(),
        cluster_key.key_hash()
    );
    let (root, policy, nonces) = (root(), policy(), NonceBook::default());
    let member = Member::new(&member_identity);

    // Every message crosses the wire: JSON for the challenge and the share, bytes for the
    // request.
    let challenge = json(&member.challenge(&nonces, &cluster_key).unwrap());
    let mut joiner = Joiner::new(CHAIN, worker("worker-2"));
    let request = joiner.request(&challenge, &joiner_identity).await.unwrap();
    let request = JoinRequest::from_bytes(&request.to_bytes()).unwrap();
    assert_eq!(request.attester, joiner_identity.attester_keys());
    assert_eq!(request.attester.sequencer, joiner_identity.address());
    assert_eq!(Some(&request.transient_key), joiner.transient_key());
    let share = member
        .answer(&request, trust(&root), &policy, &nonces, &cluster_key)
        .await
        .unwrap();
    let share = json(&share);
    assert_eq!(share.member, member_identity.attester_keys());
    assert_eq!(share.key_epoch, cluster_key.epoch());
    let received = joiner.accept(&share, trust(&root), &policy).unwrap();

    assert_eq!(received.key_hash(), cluster_key.key_hash());
    assert_eq!(received.public_key(), cluster_key.public_key());
    let envelope = seal(cluster_key.public_key(), b"raw tx", &mut OsRng).unwrap();
    assert_eq!(open(&received, &envelope).unwrap().as_slice(), b"raw tx");

    joiner_identity.adopt_encryption_key(received).unwrap();
    drop(joiner_identity);
    let restarted = identity(dir.path(), "joiner", false);
    assert_eq!(
        restarted.encryption_public_key().key_hash(),
        member_identity.encryption_public_key().key_hash()
    );
    assert_eq!(
        open(&restarted.encryption_secret(), &envelope)
            .unwrap()
            .as_slice(),
        b"raw tx"
    );
}

#[tokio::test]
async fn anonymous_tees_share_a_key_of_any_epoch() {
    let x = exchange(7).await;
    let received = x
        .joiner
        .accept(&x.share, trust(&x.root), &policy())
        .unwrap();
    assert_eq!(received.key_hash(), x.cluster_key.key_hash());
    assert_eq!(received.epoch(), 7);
    assert_eq!(x.challenge.key_epoch, 7);
    assert_eq!(x.request.transient_key.epoch(), 7);
    assert_eq!(x.share.member, aegis_keyshare::AttesterKeys::ANONYMOUS);
    assert_eq!(x.nonces.outstanding(), 0);
}

// ----- the member refuses ------------------------------------------------------------------------

#[tokio::test]
async fn a_quote_under_another_development_root_is_refused() {
    let cluster = Cluster::new(0);
    let mut joiner = Joiner::new(CHAIN, worker("worker-2"));
    let foreign = anonymous(Simulator::new([9; 32]).unwrap());
    let request = cluster.request(&mut joiner, &foreign).await;
    let err = cluster.answer(&request).await.unwrap_err();
    assert!(
        matches!(
            err,
            KeyShareError::QuoteRefused {
                role: "joiner",
                source: AttestError::Tee(TeeError::DevRootMismatch { .. })
            }
        ),
        "{err}"
    );
    // The nonce was used up by the refused request.
    assert!(matches!(
        cluster.answer(&request).await,
        Err(KeyShareError::NonceReplayed(_))
    ));
}

#[tokio::test]
async fn a_workload_outside_the_allow_list_is_refused() {
    let cluster = Cluster::new(0);
    let mut joiner = Joiner::new(CHAIN, worker("worker-2"));
    let rogue = rogue_workload();
    let request = cluster
        .request(&mut joiner, &anonymous(rogue.clone()))
        .await;
    let err = cluster.answer(&request).await.unwrap_err();
    assert!(
        matches!(
            err,
            KeyShareError::WorkloadNotAllowed { role: "joiner", workload_id }
                if workload_id == rogue.measurements().workload_id()
        ),
        "{err}"
    );

    // An empty allow-list admits nobody; a TCB status outside the policy is refused too.
    let request = cluster.request(&mut joiner, &anonymous(simulator())).await;
    let nobody = JoinPolicy::new([]);
    let err = cluster
        .member
        .answer(
            &request,
            trust(&cluster.root),
            &nobody,
            &cluster.nonces,
            &cluster.key,
        )
        .await
        .unwrap_err();
    assert!(
        matches!(err, KeyShareError::WorkloadNotAllowed { .. }),
        "{err}"
    );
    let request = cluster.request(&mut joiner, &anonymous(simulator())).await;
    let up_to_date_only = policy().with_tcb_statuses(["UpToDate"]);
    let err = cluster
        .member
        .answer(
            &request,
            trust(&cluster.root),
            &up_to_date_only,
            &cluster.nonces,
            &cluster.key,
        )
        .await
        .unwrap_err();
    assert!(
        matches!(&err, KeyShareError::TcbStatusNotAccepted { role: "joiner", status } if status == "development"),
        "{err}"
    );
}

#[tokio::test]
async fn a_replayed_request_is_refused() {
    let cluster = Cluster::new(0);
    let mut joiner = Joiner::new(CHAIN, worker("worker-2"));
    let request = cluster.request(&mut joiner, &anonymous(simulator())).await;
    cluster.answer(&request).await.unwrap();
    let err = cluster.answer(&request).await.unwrap_err();
    assert!(
        matches!(err, KeyShareError::NonceReplayed(n) if n == request.nonce),
        "{err}"
    );
}

#[tokio::test]
async fn unknown_and_expired_nonces_are_refused() {
    let cluster = Cluster::new(0);
    let mut joiner = Joiner::new(CHAIN, worker("worker-2"));
    // A challenge this member never issued (another member's, or made up).
    let elsewhere = NonceBook::default().issue(CHAIN, 0).unwrap();
    let request = joiner
        .request(&elsewhere, &anonymous(simulator()))
        .await
        .unwrap();
    let err = cluster.answer(&request).await.unwrap_err();
    assert!(
        matches!(err, KeyShareError::UnknownNonce(n) if n == elsewhere.nonce),
        "{err}"
    );

    let short_lived = NonceBook::new(8, Duration::from_millis(1));
    let challenge = cluster
        .member
        .challenge(&short_lived, &cluster.key)
        .unwrap();
    let request = joiner
        .request(&challenge, &anonymous(simulator()))
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(20)).await;
    let err = cluster
        .member
        .answer(
            &request,
            trust(&cluster.root),
            &policy(),
            &short_lived,
            &cluster.key,
        )
        .await
        .unwrap_err();
    assert!(matches!(err, KeyShareError::NonceExpired(_)), "{err}");
}

#[tokio::test]
async fn a_substituted_transient_key_worker_id_or_identity_is_refused() {
    let cluster = Cluster::new(0);
    let mut joiner = Joiner::new(CHAIN, worker("worker-2"));
    let attester = anonymous(simulator());
    let mismatch = |err: &KeyShareError| {
        matches!(
            err,
            KeyShareError::ReportDataMismatch {
                role: "joiner",
                message: "join request"
            }
        )
    };

    // A man in the middle swaps in a transient key of their own (right chain and epoch).
    let mut request = cluster.request(&mut joiner, &attester).await;
    let theirs = RecipientSecretKey::generate(CHAIN, 0, &mut OsRng).unwrap();
    request.transient_key = theirs.public_key().clone();
    let err = cluster.answer(&request).await.unwrap_err();
    assert!(mismatch(&err), "{err}");

    let mut request = cluster.request(&mut joiner, &attester).await;
    request.worker_id = worker("worker-3");
    let err = cluster.answer(&request).await.unwrap_err();
    assert!(mismatch(&err), "{err}");

    let mut request = cluster.request(&mut joiner, &attester).await;
    request.attester.sequencer = Address::repeat_byte(1);
    let err = cluster.answer(&request).await.unwrap_err();
    assert!(mismatch(&err), "{err}");

    // A genuine quote of one session carried into another.
    let first = cluster.request(&mut joiner, &attester).await;
    let mut second = cluster.request(&mut joiner, &attester).await;
    second.quote = first.quote.clone();
    let err = cluster.answer(&second).await.unwrap_err();
    assert!(mismatch(&err), "{err}");
    cluster.answer(&first).await.unwrap();
}

#[tokio::test]
async fn wrong_chains_are_refused_on_both_sides() {
    let cluster = Cluster::new(0);
    // A joiner of chain 10 answering a chain-10 challenge: consistent, but not this cluster's.
    let mut other_chain = Joiner::new(10, worker("worker-2"));
    let challenge = cluster.nonces.issue(10, 0).unwrap();
    let request = other_chain
        .request(&challenge, &anonymous(simulator()))
        .await
        .unwrap();
    let err = cluster.answer(&request).await.unwrap_err();
    assert!(
        matches!(
            err,
            KeyShareError::WrongChain {
                message: "join request",
                expected: CHAIN,
                found: 10
            }
        ),
        "{err}"
    );
    // The chain field alone changed: the transient key no longer matches it.
    let mut joiner = Joiner::new(CHAIN, worker("worker-2"));
    let mut request = cluster.request(&mut joiner, &anonymous(simulator())).await;
    request.chain_id = 10;
    let err = cluster.answer(&request).await.unwrap_err();
    assert!(
        matches!(
            err,
            KeyShareError::TransientKeyMismatch {
                chain: 10,
                key_chain: CHAIN,
                ..
            }
        ),
        "{err}"
    );
    // The joiner refuses a challenge of another chain.
    let err = joiner
        .request(&challenge, &anonymous(simulator()))
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            KeyShareError::WrongChain {
                message: "challenge",
                expected: CHAIN,
                found: 10
            }
        ),
        "{err}"
    );
}

#[tokio::test]
async fn a_rotation_between_challenge_and_request_is_refused() {
    let cluster = Cluster::new(0);
    let mut joiner = Joiner::new(CHAIN, worker("worker-2"));
    let request = cluster.request(&mut joiner, &anonymous(simulator())).await;
    let rotated = RecipientSecretKey::generate(CHAIN, 1, &mut OsRng).unwrap();
    let err = cluster
        .member
        .answer(
            &request,
            trust(&cluster.root),
            &policy(),
            &cluster.nonces,
            &rotated,
        )
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            KeyShareError::KeyEpochChanged {
                challenged: 0,
                current: 1
            }
        ),
        "{err}"
    );

    // A transient key for another epoch than the challenge's, properly quoted.
    let attester = anonymous(simulator());
    let mut request = cluster.request(&mut joiner, &attester).await;
    request.transient_key = RecipientSecretKey::generate(CHAIN, 5, &mut OsRng)
        .unwrap()
        .public_key()
        .clone();
    request.quote = attester
        .quote(request.report_data_binding().report_data())
        .await
        .unwrap()
        .into();
    let err = cluster.answer(&request).await.unwrap_err();
    assert!(
        matches!(
            err,
            KeyShareError::TransientKeyMismatch {
                epoch: 0,
                key_epoch: 5,
                ..
            }
        ),
        "{err}"
    );
}

#[tokio::test]
async fn a_request_with_another_version_is_refused() {
    let cluster = Cluster::new(0);
    let mut joiner = Joiner::new(CHAIN, worker("worker-2"));
    let mut request = cluster.request(&mut joiner, &anonymous(simulator())).await;
    request.version = 2;
    let err = cluster.answer(&request).await.unwrap_err();
    assert!(
        matches!(err, KeyShareError::UnsupportedVersion { found: 2, .. }),
        "{err}"
    );
    // Refused before the nonce was looked at: the genuine request still goes through.
    request.version = 1;
    cluster.answer(&request).await.unwrap();

    let mut challenge = cluster.challenge();
    challenge.version = 0;
    let err = joiner
        .request(&challenge, &anonymous(simulator()))
        .await
        .unwrap_err();
    assert!(
        matches!(err, KeyShareError::UnsupportedVersion { found: 0, .. }),
        "{err}"
    );
}

// ----- the joiner refuses ------------------------------------------------------------------------

#[tokio::test]
async fn any_tampered_byte_of_the_sealed_key_is_refused() {
    let x = exchange(0).await;
    let (root, policy) = (x.root, policy());
    let sealed = x.share.sealed_key.to_vec();
    // Every byte: the envelope header, the ML-KEM ciphertext, the ephemeral key, the AES-GCM
    // body and its tag.
    for i in 0..sealed.len() {
        let mut share = x.share.clone();
        let mut bytes = sealed.clone();
        bytes[i] ^= 1 << (i % 8);
        share.sealed_key = bytes.into();
        let err = x.joiner.accept(&share, trust(&root), &policy).unwrap_err();
        assert!(
            matches!(err, KeyShareError::ShareDecryption(_)),
            "byte {i}: {err}"
        );
    }
    // The genuine share still opens.
    x.joiner.accept(&x.share, trust(&root), &policy).unwrap();
}

#[tokio::test]
async fn tampered_fields_and_quotes_of_a_share_are_refused() {
    let x = exchange(0).await;
    let (root, policy) = (x.root, policy());
    let accept = |share: &KeyShare| x.joiner.accept(share, trust(&root), &policy).unwrap_err();

    let mut share = x.share.clone();
    share.nonce = B256::repeat_byte(5);
    assert!(matches!(
        accept(&share),
        KeyShareError::NonceMismatch { .. }
    ));
    let mut share = x.share.clone();
    share.key_epoch = 1;
    assert!(matches!(
        accept(&share),
        KeyShareError::WrongEpoch {
            expected: 0,
            found: 1
        }
    ));
    let mut share = x.share.clone();
    share.chain_id = 10;
    assert!(matches!(
        accept(&share),
        KeyShareError::WrongChain {
            message: "key share",
            ..
        }
    ));
    let mut share = x.share.clone();
    share.version = 2;
    assert!(matches!(
        accept(&share),
        KeyShareError::UnsupportedVersion { found: 2, .. }
    ));
    // The member's identity keys as bound by its quote.
    let mut share = x.share.clone();
    share.member.mldsa_key_hash = B256::repeat_byte(1);
    assert!(matches!(
        accept(&share),
        KeyShareError::ReportDataMismatch {
            role: "member",
            message: "key share"
        }
    ));
    // A flipped quote byte (its REPORTDATA, then its signature).
    for i in [600, 640] {
        let mut share = x.share.clone();
        let mut quote = share.quote.to_vec();
        quote[i] ^= 1;
        share.quote = quote.into();
        assert!(
            matches!(
                accept(&share),
                KeyShareError::QuoteRefused { role: "member", .. }
            ),
            "quote byte {i}"
        );
    }
    // Dropped quote.
    let mut share = x.share.clone();
    share.quote = Default::default();
    assert!(matches!(
        accept(&share),
        KeyShareError::FieldLength { field: "quote", .. }
    ));
}

/// Builds a share as an impostor would: a key of their own, sealed to the joiner's (public)
/// transient key with the session's nonce, and a quote from `attester` binding it.
async fn impostor_share(
    joiner: &Joiner,
    request: &JoinRequest,
    attester: &impl Attester,
) -> (KeyShare, RecipientSecretKey) {
    let theirs = RecipientSecretKey::generate(CHAIN, 0, &mut OsRng).unwrap();
    let mut payload = request.nonce.to_vec();
    payload.extend_from_slice(&theirs.to_bytes());
    let transient = joiner.transient_key().unwrap();
    let sealed = seal(transient, &payload, &mut OsRng).unwrap();
    let mut share = KeyShare {
        version: 1,
        chain_id: CHAIN,
        key_epoch: 0,
        nonce: request.nonce,
        member: attester.attester_keys(),
        sealed_key: sealed.into(),
        quote: Default::default(),
    };
    let binding = share.report_data_binding(&transient.key_hash(), theirs.key_hash());
    share.quote = attester.quote(binding.report_data()).await.unwrap().into();
    (share, theirs)
}

#[tokio::test]
async fn a_key_sealed_by_anyone_but_an_attested_member_is_refused() {
    let x = exchange(0).await;
    let (root, policy) = (x.root, policy());

    let foreign_root = anonymous(Simulator::new([9; 32]).unwrap());
    let (share, _) = impostor_share(&x.joiner, &x.request, &foreign_root).await;
    let err = x.joiner.accept(&share, trust(&root), &policy).unwrap_err();
    assert!(
        matches!(
            err,
            KeyShareError::QuoteRefused {
                role: "member",
                source: AttestError::Tee(TeeError::DevRootMismatch { .. })
            }
        ),
        "{err}"
    );

    let (share, _) = impostor_share(&x.joiner, &x.request, &anonymous(rogue_workload())).await;
    let err = x.joiner.accept(&share, trust(&root), &policy).unwrap_err();
    assert!(
        matches!(
            err,
            KeyShareError::WorkloadNotAllowed { role: "member", .. }
        ),
        "{err}"
    );

    // An allowed TEE's quote over the genuine share, reused for the impostor's sealed key.
    let (mut share, _) = impostor_share(&x.joiner, &x.request, &anonymous(simulator())).await;
    share.quote = x.share.quote.clone();
    let err = x.joiner.accept(&share, trust(&root), &policy).unwrap_err();
    assert!(
        matches!(
            err,
            KeyShareError::ReportDataMismatch { role: "member", .. }
        ),
        "{err}"
    );
    // For completeness: an allowed TEE that does quote over its own key is a member.
    let (share, theirs) = impostor_share(&x.joiner, &x.request, &anonymous(simulator())).await;
    let received = x.joiner.accept(&share, trust(&root), &policy).unwrap();
    assert_eq!(received.key_hash(), theirs.key_hash());
}

#[tokio::test]
async fn a_share_for_another_session_is_refused() {
    let x = exchange(0).await;
    let y = exchange(0).await;
    let (root, policy) = (x.root, policy());
    let err = x
        .joiner
        .accept(&y.share, trust(&root), &policy)
        .unwrap_err();
    assert!(
        matches!(err, KeyShareError::NonceMismatch { expected, found }
            if expected == x.request.nonce && found == y.request.nonce),
        "{err}"
    );
    // Relabelled with this session's nonce, it is still sealed to the other transient key.
    let mut share = y.share.clone();
    share.nonce = x.request.nonce;
    let err = x.joiner.accept(&share, trust(&root), &policy).unwrap_err();
    assert!(
        matches!(
            err,
            KeyShareError::ShareDecryption(EnvelopeError::DecryptionFailed)
        ),
        "{err}"
    );

    // A new request replaces the session: the old share no longer fits.
    let mut joiner = x.joiner;
    let cluster_nonces = NonceBook::default();
    let challenge = x.member.challenge(&cluster_nonces, &x.cluster_key).unwrap();
    joiner
        .request(&challenge, &anonymous(simulator()))
        .await
        .unwrap();
    assert!(matches!(
        joiner.accept(&x.share, trust(&root), &policy),
        Err(KeyShareError::NonceMismatch { .. })
    ));

    let fresh = Joiner::new(CHAIN, worker("worker-9"));
    assert!(matches!(
        fresh.accept(&x.share, trust(&root), &policy),
        Err(KeyShareError::NoPendingRequest)
    ));
}

#[tokio::test]
async fn a_sealed_share_with_the_wrong_content_is_refused() {
    let x = exchange(3).await;
    let (root, policy) = (x.root, policy());
    let transient = x.joiner.transient_key().unwrap();
    let reseal = |payload: &[u8]| {
        let mut share = x.share.clone();
        share.sealed_key = seal(transient, payload, &mut OsRng).unwrap().into();
        share
    };
    // Another nonce inside.
    let mut payload = B256::repeat_byte(4).to_vec();
    payload.extend_from_slice(&x.cluster_key.to_bytes());
    let err = x
        .joiner
        .accept(&reseal(&payload), trust(&root), &policy)
        .unwrap_err();
    assert!(matches!(err, KeyShareError::MalformedShare(_)), "{err}");
    // A key of another epoch than the share says.
    let other = RecipientSecretKey::generate(CHAIN, 4, &mut OsRng).unwrap();
    let mut payload = x.request.nonce.to_vec();
    payload.extend_from_slice(&other.to_bytes());
    let err = x
        .joiner
        .accept(&reseal(&payload), trust(&root), &policy)
        .unwrap_err();
    assert!(
        matches!(
            err,
            KeyShareError::SharedKeyMismatch {
                epoch: 3,
                key_epoch: 4,
                ..
            }
        ),
        "{err}"
    );
    // Not a key at all (the right length: the sealed size is fixed).
    let mut payload = x.request.nonce.to_vec();
    payload.extend_from_slice(&[0xee; aegis_envelope::SECRET_KEY_LEN]);
    let err = x
        .joiner
        .accept(&reseal(&payload), trust(&root), &policy)
        .unwrap_err();
    assert!(matches!(err, KeyShareError::InvalidSharedKey(_)), "{err}");
}
