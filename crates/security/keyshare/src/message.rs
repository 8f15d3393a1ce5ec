//! The three messages, their binary encodings and their JSON forms.

use crate::{
    CHALLENGE_LEN, JOIN_BINDING_TAG, KeyShareError, MAX_JOIN_REQUEST_LEN, MAX_KEY_SHARE_LEN,
    MAX_WORKER_ID_LEN, SEALED_KEY_LEN, SHARE_BINDING_TAG, VERSION,
};
use aegis_envelope::{PUBLIC_KEY_LEN, RecipientPublicKey};
use aegis_tee::{
    MAX_QUOTE_LENGTH, MIN_QUOTE_LENGTH, ReportDataBinding, ReportDataDomain, ReportDataPurpose,
};
use alloy_primitives::{Address, B256, Bytes, keccak256};
use serde::{Deserialize, Serialize};

pub(crate) const CHALLENGE: &str = "challenge";
pub(crate) const JOIN_REQUEST: &str = "join request";
pub(crate) const KEY_SHARE: &str = "key share";

const KIND_CHALLENGE: u8 = 1;
const KIND_JOIN_REQUEST: u8 = 2;
const KIND_KEY_SHARE: u8 = 3;

// ----- worker id ---------------------------------------------------------------------------------

/// A worker's name in the cluster: 1..=[`MAX_WORKER_ID_LEN`] bytes of UTF-8 without control
/// characters (it ends up in logs). With serde, a JSON string.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct WorkerId(String);

impl WorkerId {
    /// Checks and wraps `id`.
    pub fn new(id: impl Into<String>) -> Result<Self, KeyShareError> {
        let id = id.into();
        if id.is_empty() {
            return Err(KeyShareError::InvalidWorkerId("empty"));
        }
        if id.len() > MAX_WORKER_ID_LEN {
            return Err(KeyShareError::InvalidWorkerId("longer than 64 bytes"));
        }
        if id.chars().any(char::is_control) {
            return Err(KeyShareError::InvalidWorkerId(
                "contains a control character",
            ));
        }
        Ok(Self(id))
    }

    fn from_utf8(bytes: &[u8]) -> Result<Self, KeyShareError> {
        let text =
            std::str::from_utf8(bytes).map_err(|_| KeyShareError::InvalidWorkerId("not UTF-8"))?;
        Self::new(text)
    }

    /// The id.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for WorkerId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::str::FromStr for WorkerId {
    type Err = KeyShareError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::new(s)
    }
}

impl TryFrom<String> for WorkerId {
    type Error = KeyShareError;

    fn try_from(id: String) -> Result<Self, Self::Error> {
        Self::new(id)
    }
}

impl From<WorkerId> for String {
    fn from(id: WorkerId) -> Self {
        id.0
    }
}

// ----- attester keys -----------------------------------------------------------------------------

/// The identity keys a quote binds besides the session: the attester's sequencer address and
/// the hashes of its ML-DSA-87 and SLH-DSA-256s public keys (all zero for an anonymous TEE, see
/// [`AttesterKeys::ANONYMOUS`]). The fourth key slot of the REPORTDATA binding,
/// `encryptionKeyHash`, holds the hash of the recipient key the message is about (see
/// [`JoinRequest::report_data_binding`] and [`KeyShare::report_data_binding`]).
///
/// Encoding: `sequencer (20) ‖ mldsaKeyHash (32) ‖ slhdsaKeyHash (32)`, [`AttesterKeys::LEN`]
/// bytes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AttesterKeys {
    /// The secp256k1 address (`aegis_attest::Identity::address`).
    pub sequencer: Address,
    /// keccak256 of the ML-DSA-87 public key.
    pub mldsa_key_hash: B256,
    /// keccak256 of the SLH-DSA-256s public key.
    pub slhdsa_key_hash: B256,
}

impl AttesterKeys {
    /// Length of the encoding.
    pub const LEN: usize = 20 + 32 + 32;

    /// A TEE without signing keys: only its measurements identify it.
    pub const ANONYMOUS: Self = Self {
        sequencer: Address::ZERO,
        mldsa_key_hash: B256::ZERO,
        slhdsa_key_hash: B256::ZERO,
    };

    /// The REPORTDATA binding (format v3) of these keys, `encryption_key_hash`, `binding` and
    /// the domain `(KeyShare, chain_id, 0)`.
    pub fn report_data_binding(
        &self,
        chain_id: u64,
        encryption_key_hash: B256,
        binding: B256,
    ) -> ReportDataBinding {
        ReportDataBinding {
            sequencer: self.sequencer,
            mldsa_key_hash: self.mldsa_key_hash,
            slhdsa_key_hash: self.slhdsa_key_hash,
            encryption_key_hash,
            binding,
            domain: ReportDataDomain::off_chain(ReportDataPurpose::KeyShare, chain_id),
        }
    }

    fn write(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(self.sequencer.as_slice());
        out.extend_from_slice(self.mldsa_key_hash.as_slice());
        out.extend_from_slice(self.slhdsa_key_hash.as_slice());
    }

    fn read(r: &mut Reader<'_>) -> Result<Self, KeyShareError> {
        Ok(Self {
            sequencer: Address::from(r.array::<20>()?),
            mldsa_key_hash: B256::from(r.array::<32>()?),
            slhdsa_key_hash: B256::from(r.array::<32>()?),
        })
    }
}

// ----- challenge ---------------------------------------------------------------------------------

/// Message 1, member → joiner: a fresh nonce for one join, valid for the cluster key of
/// `key_epoch` on `chain_id`. Issued by [`crate::NonceBook::issue`].
///
/// Encoding ([`CHALLENGE_LEN`] bytes):
/// `version (0x01) ‖ kind (0x01) ‖ chainId (u64 BE) ‖ keyEpoch (u32 BE) ‖ nonce (32)`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", try_from = "ChallengeJson")]
pub struct Challenge {
    /// [`VERSION`].
    pub version: u8,
    /// The L2 chain id.
    pub chain_id: u64,
    /// The epoch of the cluster key the member will share.
    pub key_epoch: u32,
    /// 32 random bytes, good for one join request.
    pub nonce: B256,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct ChallengeJson {
    version: u8,
    chain_id: u64,
    key_epoch: u32,
    nonce: B256,
}

impl TryFrom<ChallengeJson> for Challenge {
    type Error = KeyShareError;

    fn try_from(json: ChallengeJson) -> Result<Self, Self::Error> {
        let challenge = Self {
            version: json.version,
            chain_id: json.chain_id,
            key_epoch: json.key_epoch,
            nonce: json.nonce,
        };
        challenge.validate()?;
        Ok(challenge)
    }
}

impl Challenge {
    /// The binary encoding.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(CHALLENGE_LEN);
        out.extend_from_slice(&[self.version, KIND_CHALLENGE]);
        out.extend_from_slice(&self.chain_id.to_be_bytes());
        out.extend_from_slice(&self.key_epoch.to_be_bytes());
        out.extend_from_slice(self.nonce.as_slice());
        out
    }

    /// Decodes exactly one challenge.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, KeyShareError> {
        let mut r = Reader::open(CHALLENGE, KIND_CHALLENGE, CHALLENGE_LEN, bytes)?;
        let challenge = Self {
            version: VERSION,
            chain_id: r.u64()?,
            key_epoch: r.u32()?,
            nonce: B256::from(r.array::<32>()?),
        };
        r.finish()?;
        Ok(challenge)
    }

    /// Checks what the binary decoder checks beyond framing (JSON goes through it too).
    pub fn validate(&self) -> Result<(), KeyShareError> {
        check_version(CHALLENGE, self.version)
    }
}

// ----- join request ------------------------------------------------------------------------------

/// Message 2, joiner → member: who asks, the transient key to seal the cluster key to, and a
/// quote whose REPORTDATA binds both to the challenge's nonce
/// ([`JoinRequest::report_data_binding`]). Built by [`crate::Joiner::request`].
///
/// Encoding (at most [`MAX_JOIN_REQUEST_LEN`] bytes):
///
/// ```text
/// version (0x01) ‖ kind (0x02) ‖ chainId (u64 BE) ‖ nonce (32)
/// ‖ len(workerId) (u8, 1..=64) ‖ workerId (UTF-8)
/// ‖ transientKey (1614, aegis-envelope RecipientPublicKey; its chain id = chainId)
/// ‖ attester (84, AttesterKeys)
/// ‖ len(quote) (u32 BE, 1226..=16384) ‖ quote
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", try_from = "JoinRequestJson")]
pub struct JoinRequest {
    /// [`VERSION`].
    pub version: u8,
    /// The L2 chain id.
    pub chain_id: u64,
    /// The challenge's nonce.
    pub nonce: B256,
    /// The joiner's name.
    pub worker_id: WorkerId,
    /// The joiner's fresh ML-KEM-1024 + secp256k1 key for this session (chain id and key epoch
    /// of the challenge).
    pub transient_key: RecipientPublicKey,
    /// The joiner's identity keys, as its quote binds them.
    pub attester: AttesterKeys,
    /// The joiner's TDX quote.
    pub quote: Bytes,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct JoinRequestJson {
    version: u8,
    chain_id: u64,
    nonce: B256,
    worker_id: WorkerId,
    transient_key: RecipientPublicKey,
    attester: AttesterKeys,
    quote: Bytes,
}

impl TryFrom<JoinRequestJson> for JoinRequest {
    type Error = KeyShareError;

    fn try_from(json: JoinRequestJson) -> Result<Self, Self::Error> {
        let request = Self {
            version: json.version,
            chain_id: json.chain_id,
            nonce: json.nonce,
            worker_id: json.worker_id,
            transient_key: json.transient_key,
            attester: json.attester,
            quote: json.quote,
        };
        request.validate()?;
        Ok(request)
    }
}

/// `keccak256(JOIN_BINDING_TAG ‖ nonce ‖ transientKeyHash ‖ len(workerId) (u8) ‖ workerId)`.
fn join_binding(nonce: &B256, transient_key_hash: &B256, worker_id: &WorkerId) -> B256 {
    let id = worker_id.as_str().as_bytes();
    let mut buf = Vec::with_capacity(JOIN_BINDING_TAG.len() + 65 + id.len());
    buf.extend_from_slice(JOIN_BINDING_TAG);
    buf.extend_from_slice(nonce.as_slice());
    buf.extend_from_slice(transient_key_hash.as_slice());
    buf.push(id.len() as u8); // at most MAX_WORKER_ID_LEN, by construction
    buf.extend_from_slice(id);
    keccak256(buf)
}

impl JoinRequest {
    /// The session hash the joiner's quote binds:
    /// `keccak256("QuantumAegis key share v1 join" ‖ nonce ‖ transientKey.key_hash() ‖
    /// len(workerId) (u8) ‖ workerId)`.
    pub fn binding(&self) -> B256 {
        join_binding(&self.nonce, &self.transient_key.key_hash(), &self.worker_id)
    }

    /// What the joiner's REPORTDATA must be: `attester`'s keys, `encryptionKeyHash` = the
    /// transient key's hash, `binding` = [`JoinRequest::binding`], domain
    /// `(KeyShare, chainId, 0)`.
    pub fn report_data_binding(&self) -> ReportDataBinding {
        self.attester.report_data_binding(
            self.chain_id,
            self.transient_key.key_hash(),
            self.binding(),
        )
    }

    /// The binary encoding.
    pub fn to_bytes(&self) -> Vec<u8> {
        let id = self.worker_id.as_str().as_bytes();
        let mut out = Vec::with_capacity(
            2 + 8 + 32 + 1 + id.len() + PUBLIC_KEY_LEN + AttesterKeys::LEN + 4 + self.quote.len(),
        );
        out.extend_from_slice(&[self.version, KIND_JOIN_REQUEST]);
        out.extend_from_slice(&self.chain_id.to_be_bytes());
        out.extend_from_slice(self.nonce.as_slice());
        out.push(id.len() as u8); // at most MAX_WORKER_ID_LEN, by construction
        out.extend_from_slice(id);
        out.extend_from_slice(&self.transient_key.to_bytes());
        self.attester.write(&mut out);
        write_quote(&mut out, &self.quote);
        out
    }

    /// Decodes exactly one join request.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, KeyShareError> {
        let mut r = Reader::open(JOIN_REQUEST, KIND_JOIN_REQUEST, MAX_JOIN_REQUEST_LEN, bytes)?;
        let chain_id = r.u64()?;
        let nonce = B256::from(r.array::<32>()?);
        let id_len = usize::from(r.u8()?);
        let worker_id = WorkerId::from_utf8(r.take(id_len)?)?;
        let transient_key = RecipientPublicKey::from_bytes(r.take(PUBLIC_KEY_LEN)?)
            .map_err(KeyShareError::InvalidTransientKey)?;
        let attester = AttesterKeys::read(&mut r)?;
        let quote = read_quote(&mut r)?;
        r.finish()?;
        let request = Self {
            version: VERSION,
            chain_id,
            nonce,
            worker_id,
            transient_key,
            attester,
            quote,
        };
        request.validate()?;
        Ok(request)
    }

    /// Checks what the binary decoder checks beyond framing (JSON goes through it too): the
    /// version, the quote's length, and that the transient key serves `chain_id`.
    pub fn validate(&self) -> Result<(), KeyShareError> {
        check_version(JOIN_REQUEST, self.version)?;
        check_quote_len(self.quote.len())?;
        if self.transient_key.chain_id() != self.chain_id {
            return Err(KeyShareError::TransientKeyMismatch {
                chain: self.chain_id,
                epoch: self.transient_key.epoch(),
                key_chain: self.transient_key.chain_id(),
                key_epoch: self.transient_key.epoch(),
            });
        }
        Ok(())
    }
}

// ----- key share ---------------------------------------------------------------------------------

/// Message 3, member → joiner: the cluster key, sealed to the joiner's transient key, and the
/// member's quote binding the sealed bytes to the session and the shared key's hash
/// ([`KeyShare::report_data_binding`]). Built by [`crate::Member::answer`].
///
/// Encoding (at most [`MAX_KEY_SHARE_LEN`] bytes):
///
/// ```text
/// version (0x01) ‖ kind (0x03) ‖ chainId (u64 BE) ‖ keyEpoch (u32 BE) ‖ nonce (32)
/// ‖ member (84, AttesterKeys)
/// ‖ sealedKey (4875: an aegis-envelope v1 envelope to the transient key of
///              nonce (32) ‖ RecipientSecretKey encoding (3213))
/// ‖ len(quote) (u32 BE, 1226..=16384) ‖ quote
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", try_from = "KeyShareJson")]
pub struct KeyShare {
    /// [`VERSION`].
    pub version: u8,
    /// The L2 chain id.
    pub chain_id: u64,
    /// The shared key's epoch.
    pub key_epoch: u32,
    /// The challenge's nonce.
    pub nonce: B256,
    /// The member's identity keys, as its quote binds them.
    pub member: AttesterKeys,
    /// The envelope carrying `nonce ‖ cluster secret key`, [`SEALED_KEY_LEN`] bytes.
    pub sealed_key: Bytes,
    /// The member's TDX quote.
    pub quote: Bytes,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct KeyShareJson {
    version: u8,
    chain_id: u64,
    key_epoch: u32,
    nonce: B256,
    member: AttesterKeys,
    sealed_key: Bytes,
    quote: Bytes,
}

impl TryFrom<KeyShareJson> for KeyShare {
    type Error = KeyShareError;

    fn try_from(json: KeyShareJson) -> Result<Self, Self::Error> {
        let share = Self {
            version: json.version,
            chain_id: json.chain_id,
            key_epoch: json.key_epoch,
            nonce: json.nonce,
            member: json.member,
            sealed_key: json.sealed_key,
            quote: json.quote,
        };
        share.validate()?;
        Ok(share)
    }
}

impl KeyShare {
    /// The session hash the member's quote binds:
    /// `keccak256("QuantumAegis key share v1 share" ‖ nonce ‖ transientKeyHash ‖
    /// keccak256(sealedKey))`.
    pub fn binding(&self, transient_key_hash: &B256) -> B256 {
        let mut buf = Vec::with_capacity(SHARE_BINDING_TAG.len() + 96);
        buf.extend_from_slice(SHARE_BINDING_TAG);
        buf.extend_from_slice(self.nonce.as_slice());
        buf.extend_from_slice(transient_key_hash.as_slice());
        buf.extend_from_slice(keccak256(&self.sealed_key).as_slice());
        keccak256(buf)
    }

    /// What the member's REPORTDATA must be: `member`'s keys, `encryptionKeyHash` = the shared
    /// key's hash, `binding` = [`KeyShare::binding`], domain `(KeyShare, chainId, 0)`.
    pub fn report_data_binding(
        &self,
        transient_key_hash: &B256,
        shared_key_hash: B256,
    ) -> ReportDataBinding {
        self.member.report_data_binding(
            self.chain_id,
            shared_key_hash,
            self.binding(transient_key_hash),
        )
    }

    /// The binary encoding.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(
            2 + 8 + 4 + 32 + AttesterKeys::LEN + self.sealed_key.len() + 4 + self.quote.len(),
        );
        out.extend_from_slice(&[self.version, KIND_KEY_SHARE]);
        out.extend_from_slice(&self.chain_id.to_be_bytes());
        out.extend_from_slice(&self.key_epoch.to_be_bytes());
        out.extend_from_slice(self.nonce.as_slice());
        self.member.write(&mut out);
        out.extend_from_slice(&self.sealed_key);
        write_quote(&mut out, &self.quote);
        out
    }

    /// Decodes exactly one key share.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, KeyShareError> {
        let mut r = Reader::open(KEY_SHARE, KIND_KEY_SHARE, MAX_KEY_SHARE_LEN, bytes)?;
        let chain_id = r.u64()?;
        let key_epoch = r.u32()?;
        let nonce = B256::from(r.array::<32>()?);
        let member = AttesterKeys::read(&mut r)?;
        let sealed_key = Bytes::copy_from_slice(r.take(SEALED_KEY_LEN)?);
        let quote = read_quote(&mut r)?;
        r.finish()?;
        let share = Self {
            version: VERSION,
            chain_id,
            key_epoch,
            nonce,
            member,
            sealed_key,
            quote,
        };
        share.validate()?;
        Ok(share)
    }

    /// Checks what the binary decoder checks beyond framing (JSON goes through it too): the
    /// version and the lengths of the sealed key and the quote.
    pub fn validate(&self) -> Result<(), KeyShareError> {
        check_version(KEY_SHARE, self.version)?;
        if self.sealed_key.len() != SEALED_KEY_LEN {
            return Err(KeyShareError::FieldLength {
                field: "sealed key",
                len: self.sealed_key.len(),
                min: SEALED_KEY_LEN,
                max: SEALED_KEY_LEN,
            });
        }
        check_quote_len(self.quote.len())
    }
}

// ----- helpers -----------------------------------------------------------------------------------

fn check_version(message: &'static str, found: u8) -> Result<(), KeyShareError> {
    if found != VERSION {
        return Err(KeyShareError::UnsupportedVersion { message, found });
    }
    Ok(())
}

fn check_quote_len(len: usize) -> Result<(), KeyShareError> {
    if !(MIN_QUOTE_LENGTH..=MAX_QUOTE_LENGTH).contains(&len) {
        return Err(KeyShareError::FieldLength {
            field: "quote",
            len,
            min: MIN_QUOTE_LENGTH,
            max: MAX_QUOTE_LENGTH,
        });
    }
    Ok(())
}

fn write_quote(out: &mut Vec<u8>, quote: &[u8]) {
    // Quotes longer than u32::MAX cannot be built (validate refuses anything above 16 KiB);
    // saturating keeps this total.
    let len = u32::try_from(quote.len()).unwrap_or(u32::MAX);
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(quote);
}

fn read_quote(r: &mut Reader<'_>) -> Result<Bytes, KeyShareError> {
    let len = usize::try_from(r.u32()?).unwrap_or(usize::MAX);
    check_quote_len(len)?;
    Ok(Bytes::copy_from_slice(r.take(len)?))
}

/// A cursor over an encoding that reports every shortfall as [`KeyShareError::Truncated`].
struct Reader<'a> {
    message: &'static str,
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    /// Checks `version ‖ kind` and the maximum length, and positions after the two bytes.
    fn open(
        message: &'static str,
        kind: u8,
        max: usize,
        bytes: &'a [u8],
    ) -> Result<Self, KeyShareError> {
        let mut r = Self {
            message,
            bytes,
            pos: 0,
        };
        check_version(message, r.u8()?)?;
        let found = r.u8()?;
        if found != kind {
            return Err(KeyShareError::WrongMessageKind {
                expected: message,
                expected_kind: kind,
                found,
            });
        }
        if bytes.len() > max {
            return Err(KeyShareError::TooLarge {
                message,
                len: bytes.len(),
                max,
            });
        }
        Ok(r)
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], KeyShareError> {
        let end = self.pos.checked_add(n);
        match end.and_then(|end| self.bytes.get(self.pos..end)) {
            Some(slice) => {
                self.pos += n;
                Ok(slice)
            }
            None => Err(KeyShareError::Truncated {
                message: self.message,
                needed: end.unwrap_or(usize::MAX),
                got: self.bytes.len(),
            }),
        }
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], KeyShareError> {
        let slice = self.take(N)?;
        <[u8; N]>::try_from(slice).map_err(|_| KeyShareError::Truncated {
            message: self.message,
            needed: self.pos,
            got: self.bytes.len(),
        })
    }

    fn u8(&mut self) -> Result<u8, KeyShareError> {
        self.array::<1>().map(|[b]| b)
    }

    fn u32(&mut self) -> Result<u32, KeyShareError> {
        self.array().map(u32::from_be_bytes)
    }

    fn u64(&mut self) -> Result<u64, KeyShareError> {
        self.array().map(u64::from_be_bytes)
    }

    fn finish(self) -> Result<(), KeyShareError> {
        match self.bytes.len().saturating_sub(self.pos) {
            0 => Ok(()),
            extra => Err(KeyShareError::TrailingBytes {
                message: self.message,
                extra,
            }),
        }
    }
}
