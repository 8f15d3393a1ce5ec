//! The two roles: the member that holds the cluster key and the joiner that asks for it.

use crate::{
    AttesterKeys, Challenge, JoinPolicy, JoinRequest, KeyShare, KeyShareError, NonceBook,
    SHARE_PAYLOAD_LEN, VERSION, WorkerId,
    message::{CHALLENGE, JOIN_REQUEST, KEY_SHARE},
};
use aegis_attest::{Identity, QuoteTrust, verify_quote};
use aegis_envelope::{RecipientPublicKey, RecipientSecretKey, Zeroizing};
use aegis_tee::{AttestationProvider, ReportDataBinding, TeeError, VerifiedQuote};
use alloy_primitives::B256;
use rand_core::OsRng;
use std::{future::Future, sync::Arc};

/// A TEE that quotes for this side of the handshake: the keys its quotes bind and the quotes
/// themselves.
///
/// Implemented by [`Identity`] (its sequencer address and current ML-DSA-87 / SLH-DSA-256s key
/// hashes, quotes from its provider) and by a bare [`AttestationProvider`]
/// ([`AttesterKeys::ANONYMOUS`]).
pub trait Attester {
    /// The identity keys its quotes bind.
    fn attester_keys(&self) -> AttesterKeys;

    /// A quote whose REPORTDATA is `report_data`.
    fn quote(
        &self,
        report_data: [u8; 64],
    ) -> impl Future<Output = Result<Vec<u8>, TeeError>> + Send;
}

impl Attester for Identity {
    fn attester_keys(&self) -> AttesterKeys {
        let (mldsa_key_hash, slhdsa_key_hash, _) = self.snapshot().key_hashes();
        AttesterKeys {
            sequencer: self.address(),
            mldsa_key_hash,
            slhdsa_key_hash,
        }
    }

    fn quote(
        &self,
        report_data: [u8; 64],
    ) -> impl Future<Output = Result<Vec<u8>, TeeError>> + Send {
        self.provider().quote(report_data)
    }
}

impl Attester for AttestationProvider {
    fn attester_keys(&self) -> AttesterKeys {
        AttesterKeys::ANONYMOUS
    }

    fn quote(
        &self,
        report_data: [u8; 64],
    ) -> impl Future<Output = Result<Vec<u8>, TeeError>> + Send {
        AttestationProvider::quote(self, report_data)
    }
}

impl<T: Attester + ?Sized + Sync> Attester for &T {
    fn attester_keys(&self) -> AttesterKeys {
        (**self).attester_keys()
    }

    fn quote(
        &self,
        report_data: [u8; 64],
    ) -> impl Future<Output = Result<Vec<u8>, TeeError>> + Send {
        (**self).quote(report_data)
    }
}

impl<T: Attester + ?Sized + Send + Sync> Attester for Arc<T> {
    fn attester_keys(&self) -> AttesterKeys {
        (**self).attester_keys()
    }

    fn quote(
        &self,
        report_data: [u8; 64],
    ) -> impl Future<Output = Result<Vec<u8>, TeeError>> + Send {
        (**self).quote(report_data)
    }
}

/// Verifies a peer's quote under `trust` and `policy`, and that its REPORTDATA is `expected`.
fn verify_peer(
    role: &'static str,
    message: &'static str,
    quote: &[u8],
    trust: QuoteTrust<'_>,
    policy: &JoinPolicy,
    expected: &ReportDataBinding,
) -> Result<VerifiedQuote, KeyShareError> {
    let verified = verify_quote(quote, trust)
        .map_err(|source| KeyShareError::QuoteRefused { role, source })?;
    if !policy.allows_workload(&verified.workload_id) {
        return Err(KeyShareError::WorkloadNotAllowed {
            role,
            workload_id: verified.workload_id,
        });
    }
    if !policy.accepts_tcb_status(&verified.tcb_status) {
        return Err(KeyShareError::TcbStatusNotAccepted {
            role,
            status: verified.tcb_status,
        });
    }
    if !expected.matches(&verified.report_data) {
        return Err(KeyShareError::ReportDataMismatch { role, message });
    }
    Ok(verified)
}

// ----- member ------------------------------------------------------------------------------------

/// A worker that holds the cluster key and hands it to attested joiners.
#[derive(Debug)]
pub struct Member<A> {
    attester: A,
}

impl<A: Attester> Member<A> {
    /// A member whose own quotes (binding each key share) come from `attester`.
    pub fn new(attester: A) -> Self {
        Self { attester }
    }

    /// Its attester.
    pub fn attester(&self) -> &A {
        &self.attester
    }

    /// Message 1: a challenge for `cluster_key`'s chain and epoch, recorded in `nonces`.
    pub fn challenge(
        &self,
        nonces: &NonceBook,
        cluster_key: &RecipientSecretKey,
    ) -> Result<Challenge, KeyShareError> {
        nonces.issue(cluster_key.chain_id(), cluster_key.epoch())
    }

    /// Message 3: `cluster_key` sealed to the joiner's transient key, with this member's quote
    /// over the sealed bytes — only if `request` passes, in this order: its version and
    /// encoding rules ([`JoinRequest::validate`]); its chain id is the cluster key's; its nonce
    /// is in `nonces`, unused and unexpired (it is used up now, whatever follows); the cluster
    /// key has not rotated since the challenge; the transient key is for the challenged epoch;
    /// the quote verifies under `trust`; its workload id and TCB status pass `policy`; its
    /// REPORTDATA is [`JoinRequest::report_data_binding`]. On any refusal nothing is sealed.
    pub async fn answer(
        &self,
        request: &JoinRequest,
        trust: QuoteTrust<'_>,
        policy: &JoinPolicy,
        nonces: &NonceBook,
        cluster_key: &RecipientSecretKey,
    ) -> Result<KeyShare, KeyShareError> {
        request.validate()?;
        let (chain_id, key_epoch) = (cluster_key.chain_id(), cluster_key.epoch());
        if request.chain_id != chain_id {
            return Err(KeyShareError::WrongChain {
                message: JOIN_REQUEST,
                expected: chain_id,
                found: request.chain_id,
            });
        }
        let challenge = nonces.consume(&request.nonce)?;
        if challenge.chain_id != chain_id {
            return Err(KeyShareError::WrongChain {
                message: CHALLENGE,
                expected: chain_id,
                found: challenge.chain_id,
            });
        }
        if challenge.key_epoch != key_epoch {
            return Err(KeyShareError::KeyEpochChanged {
                challenged: challenge.key_epoch,
                current: key_epoch,
            });
        }
        let transient = &request.transient_key;
        if transient.epoch() != key_epoch {
            return Err(KeyShareError::TransientKeyMismatch {
                chain: chain_id,
                epoch: key_epoch,
                key_chain: transient.chain_id(),
                key_epoch: transient.epoch(),
            });
        }
        let verified = verify_peer(
            "joiner",
            JOIN_REQUEST,
            &request.quote,
            trust,
            policy,
            &request.report_data_binding(),
        )?;

        let mut payload = Zeroizing::new(Vec::with_capacity(SHARE_PAYLOAD_LEN));
        payload.extend_from_slice(request.nonce.as_slice());
        payload.extend_from_slice(&cluster_key.to_bytes());
        let sealed =
            aegis_envelope::seal(transient, &payload, &mut OsRng).map_err(KeyShareError::Seal)?;
        let mut share = KeyShare {
            version: VERSION,
            chain_id,
            key_epoch,
            nonce: request.nonce,
            member: self.attester.attester_keys(),
            sealed_key: sealed.into(),
            quote: Default::default(),
        };
        let binding = share.report_data_binding(&transient.key_hash(), cluster_key.key_hash());
        share.quote = self
            .attester
            .quote(binding.report_data())
            .await
            .map_err(KeyShareError::QuoteUnavailable)?
            .into();
        share.validate()?;
        tracing::info!(
            target: "aegis::keyshare",
            worker = %request.worker_id,
            joiner = %request.attester.sequencer,
            workload = %verified.workload_id,
            key_epoch,
            key_hash = %cluster_key.key_hash(),
            "shared the cluster mempool key with an attested joiner"
        );
        Ok(share)
    }
}

// ----- joiner ------------------------------------------------------------------------------------

#[derive(Debug)]
struct Session {
    nonce: B256,
    key_epoch: u32,
    transient: RecipientSecretKey,
}

/// A worker that asks a member for the cluster key.
///
/// One session at a time: [`Joiner::request`] answers a challenge with a fresh transient key
/// (replacing any earlier session), [`Joiner::accept`] takes the member's answer to it. The
/// transient secret never leaves this value and is zeroized with it.
#[derive(Debug)]
pub struct Joiner {
    chain_id: u64,
    worker_id: WorkerId,
    session: Option<Session>,
}

impl Joiner {
    /// A joiner named `worker_id` on `chain_id`.
    pub fn new(chain_id: u64, worker_id: WorkerId) -> Self {
        Self {
            chain_id,
            worker_id,
            session: None,
        }
    }

    /// The chain id.
    pub fn chain_id(&self) -> u64 {
        self.chain_id
    }

    /// The worker id.
    pub fn worker_id(&self) -> &WorkerId {
        &self.worker_id
    }

    /// The transient public key of the pending session.
    pub fn transient_key(&self) -> Option<&RecipientPublicKey> {
        self.session.as_ref().map(|s| s.transient.public_key())
    }

    /// Message 2: answers `challenge` (its version and chain checked) with a fresh transient
    /// key for the challenged epoch and a quote from `attester` binding it
    /// ([`JoinRequest::report_data_binding`]).
    pub async fn request(
        &mut self,
        challenge: &Challenge,
        attester: &impl Attester,
    ) -> Result<JoinRequest, KeyShareError> {
        challenge.validate()?;
        if challenge.chain_id != self.chain_id {
            return Err(KeyShareError::WrongChain {
                message: CHALLENGE,
                expected: self.chain_id,
                found: challenge.chain_id,
            });
        }
        let transient =
            RecipientSecretKey::generate(self.chain_id, challenge.key_epoch, &mut OsRng)
                .map_err(|_| KeyShareError::Randomness("could not generate the transient key"))?;
        let mut request = JoinRequest {
            version: VERSION,
            chain_id: self.chain_id,
            nonce: challenge.nonce,
            worker_id: self.worker_id.clone(),
            transient_key: transient.public_key().clone(),
            attester: attester.attester_keys(),
            quote: Default::default(),
        };
        request.quote = attester
            .quote(request.report_data_binding().report_data())
            .await
            .map_err(KeyShareError::QuoteUnavailable)?
            .into();
        request.validate()?;
        self.session = Some(Session {
            nonce: challenge.nonce,
            key_epoch: challenge.key_epoch,
            transient,
        });
        Ok(request)
    }

    /// The cluster key out of `share`, only if it passes, in this order: version and encoding
    /// rules ([`KeyShare::validate`]); chain id; nonce and key epoch of the pending session;
    /// the sealed key opens with the transient key (any tampered byte fails here); it carries
    /// the session's nonce and a key of the share's chain and epoch; the member's quote verifies
    /// under `trust`, its workload id and TCB status pass `policy`, and its REPORTDATA is
    /// [`KeyShare::report_data_binding`] for this transient key and the received key.
    ///
    /// The last step is what keeps a man in the middle out: anyone can seal a key of their own
    /// to the transient public key, only an attested member can quote over it.
    pub fn accept(
        &self,
        share: &KeyShare,
        trust: QuoteTrust<'_>,
        policy: &JoinPolicy,
    ) -> Result<RecipientSecretKey, KeyShareError> {
        let session = self
            .session
            .as_ref()
            .ok_or(KeyShareError::NoPendingRequest)?;
        share.validate()?;
        if share.chain_id != self.chain_id {
            return Err(KeyShareError::WrongChain {
                message: KEY_SHARE,
                expected: self.chain_id,
                found: share.chain_id,
            });
        }
        if share.nonce != session.nonce {
            return Err(KeyShareError::NonceMismatch {
                expected: session.nonce,
                found: share.nonce,
            });
        }
        if share.key_epoch != session.key_epoch {
            return Err(KeyShareError::WrongEpoch {
                expected: session.key_epoch,
                found: share.key_epoch,
            });
        }
        let payload = aegis_envelope::open(&session.transient, &share.sealed_key)
            .map_err(KeyShareError::ShareDecryption)?;
        let (nonce, key) = payload
            .split_first_chunk::<32>()
            .filter(|_| payload.len() == SHARE_PAYLOAD_LEN)
            .ok_or(KeyShareError::MalformedShare(
                "not a 32-byte nonce and a recipient secret key",
            ))?;
        if nonce != session.nonce.as_slice() {
            return Err(KeyShareError::MalformedShare(
                "the sealed nonce is not this session's",
            ));
        }
        let key = RecipientSecretKey::from_bytes(key).map_err(KeyShareError::InvalidSharedKey)?;
        if key.chain_id() != share.chain_id || key.epoch() != share.key_epoch {
            return Err(KeyShareError::SharedKeyMismatch {
                chain: share.chain_id,
                epoch: share.key_epoch,
                key_chain: key.chain_id(),
                key_epoch: key.epoch(),
            });
        }
        let expected =
            share.report_data_binding(&session.transient.public_key().key_hash(), key.key_hash());
        let verified = verify_peer("member", KEY_SHARE, &share.quote, trust, policy, &expected)?;
        tracing::info!(
            target: "aegis::keyshare",
            worker = %self.worker_id,
            member = %share.member.sequencer,
            workload = %verified.workload_id,
            key_epoch = key.epoch(),
            key_hash = %key.key_hash(),
            "received the cluster mempool key from an attested member"
        );
        Ok(key)
    }
}
