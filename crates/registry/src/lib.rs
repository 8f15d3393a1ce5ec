//! The asset registry: what applications ask the sequencer to protect when quantum risk rises.
//!
//! An application registers an asset (one of seven kinds: on-chain token, NFT or contract data;
//! off-chain database, file or stream; a cross-chain bridge) with a protection policy saying
//! which transactions touching it may still be sequenced at each risk level, and the
//! post-quantum vaults or migration contracts its holders may move it to. A registration is
//! signed by its owner (EIP-191 over [`registration_digest`]), carries a deadline (replay
//! protection), and is rate-limited per owner and overall.
//!
//! The registry is kept in one file sealed with AES-256-GCM under a key the node derives from
//! its TEE-sealed key store ([`Registry::key_from_secret`]); a write goes to a temporary file
//! that replaces the old one, so a crash leaves either the old or the new registry.

mod store;

use aegis_qrm::RiskLevel;
use alloy_primitives::{Address, B256, Signature, keccak256};
use serde::{Deserialize, Serialize};
use std::{
    collections::{BTreeMap, HashMap, HashSet, VecDeque},
    path::PathBuf,
};

/// Errors of the registry; registrations that fail change nothing.
#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    /// The registration is malformed; names the field.
    #[error("invalid registration: {field}: {reason}")]
    Invalid {
        /// The field.
        field: &'static str,
        /// Why.
        reason: String,
    },
    /// The signature does not recover to the owner.
    #[error("signature is not the owner's ({owner})")]
    BadSignature {
        /// The claimed owner.
        owner: Address,
    },
    /// The deadline has passed or is too far ahead.
    #[error("deadline {deadline} is outside [now {now}, now + {max_ahead}]")]
    Deadline {
        /// The registration's deadline.
        deadline: u64,
        /// The clock.
        now: u64,
        /// The longest accepted validity.
        max_ahead: u64,
    },
    /// An asset with this locator is registered already.
    #[error("asset {0} is already registered")]
    AlreadyRegistered(B256),
    /// Too many registrations in the last minute.
    #[error("rate limited: {0}")]
    RateLimited(String),
    /// The owner holds as many assets as allowed.
    #[error("owner {owner} already has {limit} assets")]
    Quota {
        /// The owner.
        owner: Address,
        /// The limit.
        limit: usize,
    },
    /// The sealed file cannot be read or written.
    #[error("registry file {path}: {reason}")]
    Storage {
        /// The file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
}

/// The seven asset kinds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AssetKind {
    /// An on-chain fungible token (ERC-20).
    Token,
    /// An on-chain NFT collection (ERC-721/1155).
    Nft,
    /// An on-chain contract's data.
    ContractData,
    /// An off-chain database.
    Database,
    /// An off-chain file.
    File,
    /// An off-chain data stream.
    Stream,
    /// A cross-chain bridge.
    Bridge,
}

impl AssetKind {
    /// Whether the asset lives in a contract on this chain (and transactions can touch it).
    pub fn is_on_chain(self) -> bool {
        matches!(
            self,
            Self::Token | Self::Nft | Self::ContractData | Self::Bridge
        )
    }
}

/// Where the asset is.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", tag = "type")]
pub enum Locator {
    /// A contract on this chain (token, NFT, contract data).
    Contract {
        /// Its address.
        address: Address,
    },
    /// Something off chain (database, file, stream).
    OffChain {
        /// Its URI.
        uri: String,
    },
    /// A bridge: its contract on this chain and the chain it connects to.
    Bridge {
        /// The bridge contract on this chain.
        address: Address,
        /// The remote chain id.
        remote_chain_id: u64,
    },
}

/// What may still be sequenced for transactions touching an asset.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Allowance {
    /// Everything.
    Any,
    /// Only moves to the asset's vaults or migration contracts; others are quarantined.
    VaultsOnly,
    /// Nothing: every transaction touching the asset is quarantined.
    Frozen,
}

/// An asset's allowance per risk level.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProtectionPolicy {
    /// At NORMAL.
    pub normal: Allowance,
    /// At SCHEDULED.
    pub scheduled: Allowance,
    /// At EMERGENCY.
    pub emergency: Allowance,
}

impl Default for ProtectionPolicy {
    fn default() -> Self {
        Self {
            normal: Allowance::Any,
            scheduled: Allowance::Any,
            emergency: Allowance::VaultsOnly,
        }
    }
}

impl ProtectionPolicy {
    /// The allowance at `level`.
    pub fn at(&self, level: RiskLevel) -> Allowance {
        match level {
            RiskLevel::Normal => self.normal,
            RiskLevel::Scheduled => self.scheduled,
            RiskLevel::Emergency => self.emergency,
        }
    }
}

/// What an application signs to register an asset.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AssetRegistration {
    /// The kind.
    pub kind: AssetKind,
    /// A human-readable name (1..=64 characters).
    pub name: String,
    /// The owner, who signs.
    pub owner: Address,
    /// Where it is.
    pub locator: Locator,
    /// Its protection policy.
    #[serde(default)]
    pub policy: ProtectionPolicy,
    /// Post-quantum vaults or migration contracts it may move to (at most 16).
    #[serde(default)]
    pub vaults: Vec<Address>,
    /// Unix seconds after which the signed registration is void.
    pub deadline: u64,
}

/// A registered asset.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Asset {
    /// `keccak256(kind ‖ locator)`: one registration per asset.
    pub id: B256,
    /// The registration.
    #[serde(flatten)]
    pub registration: AssetRegistration,
    /// Unix seconds.
    pub registered_at: u64,
}

/// Limits against spam.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// Registrations per owner per minute.
    pub per_owner_per_minute: usize,
    /// Registrations per minute overall.
    pub total_per_minute: usize,
    /// Assets one owner may hold.
    pub per_owner: usize,
    /// Assets overall.
    pub total: usize,
    /// The longest validity of a signed registration (seconds).
    pub max_deadline_ahead: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            per_owner_per_minute: 10,
            total_per_minute: 120,
            per_owner: 64,
            total: 10_000,
            max_deadline_ahead: 3600,
        }
    }
}

/// The domain tag of [`registration_digest`].
pub const REGISTRATION_DOMAIN: &[u8] = b"QuantumAegis asset registration v1";

/// The 32 bytes an owner signs (EIP-191 `personal_sign`, e.g. `cast wallet sign 0x<digest>`):
/// `keccak256(REGISTRATION_DOMAIN ‖ chainId (8 bytes, big-endian) ‖ registration as JSON)`,
/// the JSON being this type's serialization (fields in declaration order, no whitespace).
pub fn registration_digest(chain_id: u64, registration: &AssetRegistration) -> B256 {
    let json = serde_json::to_vec(registration).expect("registration serializes");
    let mut preimage = Vec::with_capacity(REGISTRATION_DOMAIN.len() + 8 + json.len());
    preimage.extend_from_slice(REGISTRATION_DOMAIN);
    preimage.extend_from_slice(&chain_id.to_be_bytes());
    preimage.extend_from_slice(&json);
    keccak256(preimage)
}

/// The id of an asset: `keccak256(kind ‖ locator)` in their JSON forms.
pub fn asset_id(kind: AssetKind, locator: &Locator) -> B256 {
    let mut preimage = serde_json::to_vec(&kind).expect("kind serializes");
    preimage.extend(serde_json::to_vec(locator).expect("locator serializes"));
    keccak256(preimage)
}

/// What the ordering needs from the registry, for fast lookups while building a block.
#[derive(Clone, Debug, Default)]
pub struct ProtectionSet {
    /// Protected on-chain assets by contract address.
    pub assets: HashMap<Address, ProtectedAsset>,
    /// Every vault or migration contract of any asset.
    pub all_vaults: HashSet<Address>,
}

/// One protected contract.
#[derive(Clone, Debug)]
pub struct ProtectedAsset {
    /// The asset's id.
    pub id: B256,
    /// Its policy.
    pub policy: ProtectionPolicy,
    /// Where it may move.
    pub vaults: HashSet<Address>,
}

/// The registry.
#[derive(Debug)]
pub struct Registry {
    chain_id: u64,
    store: store::SealedFile,
    limits: Limits,
    assets: BTreeMap<B256, Asset>,
    recent: VecDeque<(u64, Address)>,
}

impl Registry {
    /// Opens (or starts) the sealed registry at `path` for chain `chain_id`.
    pub fn open(
        path: impl Into<PathBuf>,
        key: zeroize::Zeroizing<[u8; 32]>,
        chain_id: u64,
        limits: Limits,
    ) -> Result<Self, RegistryError> {
        let store = store::SealedFile::new(path.into(), key);
        let assets = store
            .load()?
            .into_iter()
            .map(|a: Asset| (a.id, a))
            .collect();
        Ok(Self {
            chain_id,
            store,
            limits,
            assets,
            recent: VecDeque::new(),
        })
    }

    /// The at-rest key for a node whose sealed key store holds `secret`
    /// (HKDF-SHA256, info `"aegis registry at rest v1"`).
    pub fn key_from_secret(secret: &[u8; 32]) -> zeroize::Zeroizing<[u8; 32]> {
        let mut key = zeroize::Zeroizing::new([0u8; 32]);
        hkdf::Hkdf::<sha2::Sha256>::new(None, secret)
            .expand(b"aegis registry at rest v1", key.as_mut())
            .expect("32 bytes is a valid HKDF-SHA256 length");
        key
    }

    /// Every asset, by id.
    pub fn assets(&self) -> impl Iterator<Item = &Asset> {
        self.assets.values()
    }

    /// One asset.
    pub fn get(&self, id: &B256) -> Option<&Asset> {
        self.assets.get(id)
    }

    /// Checks and stores a signed registration at time `now`; returns the asset id. Nothing
    /// changes when it fails (a failed write is rolled back).
    pub fn register(
        &mut self,
        registration: AssetRegistration,
        signature: &Signature,
        now: u64,
    ) -> Result<B256, RegistryError> {
        validate(&registration)?;
        let max_ahead = self.limits.max_deadline_ahead;
        if registration.deadline < now || registration.deadline > now + max_ahead {
            return Err(RegistryError::Deadline {
                deadline: registration.deadline,
                now,
                max_ahead,
            });
        }
        let digest = registration_digest(self.chain_id, &registration);
        let signer = signature.recover_address_from_msg(digest).map_err(|_| {
            RegistryError::BadSignature {
                owner: registration.owner,
            }
        })?;
        if signer != registration.owner {
            return Err(RegistryError::BadSignature {
                owner: registration.owner,
            });
        }
        self.rate_limit(registration.owner, now)?;
        let id = asset_id(registration.kind, &registration.locator);
        if self.assets.contains_key(&id) {
            return Err(RegistryError::AlreadyRegistered(id));
        }
        let owned = self
            .assets
            .values()
            .filter(|a| a.registration.owner == registration.owner)
            .count();
        if owned >= self.limits.per_owner {
            return Err(RegistryError::Quota {
                owner: registration.owner,
                limit: self.limits.per_owner,
            });
        }
        if self.assets.len() >= self.limits.total {
            return Err(RegistryError::RateLimited(format!(
                "the registry holds its maximum of {} assets",
                self.limits.total
            )));
        }
        self.recent.push_back((now, registration.owner));
        let asset = Asset {
            id,
            registration,
            registered_at: now,
        };
        self.assets.insert(id, asset);
        if let Err(error) = self.store.save(self.assets.values()) {
            self.assets.remove(&id);
            return Err(error);
        }
        Ok(id)
    }

    fn rate_limit(&mut self, owner: Address, now: u64) -> Result<(), RegistryError> {
        while self
            .recent
            .front()
            .is_some_and(|(at, _)| now.saturating_sub(*at) >= 60)
        {
            self.recent.pop_front();
        }
        if self.recent.len() >= self.limits.total_per_minute {
            return Err(RegistryError::RateLimited(format!(
                "more than {} registrations in the last minute",
                self.limits.total_per_minute
            )));
        }
        let by_owner = self.recent.iter().filter(|(_, o)| *o == owner).count();
        if by_owner >= self.limits.per_owner_per_minute {
            return Err(RegistryError::RateLimited(format!(
                "owner {owner} made {by_owner} registrations in the last minute"
            )));
        }
        Ok(())
    }

    /// The lookup tables the ordering uses.
    pub fn protection_set(&self) -> ProtectionSet {
        let mut set = ProtectionSet::default();
        for asset in self.assets.values() {
            let r = &asset.registration;
            set.all_vaults.extend(r.vaults.iter().copied());
            let address = match r.locator {
                Locator::Contract { address } | Locator::Bridge { address, .. } => address,
                Locator::OffChain { .. } => continue,
            };
            set.assets.insert(
                address,
                ProtectedAsset {
                    id: asset.id,
                    policy: r.policy,
                    vaults: r.vaults.iter().copied().collect(),
                },
            );
        }
        set
    }
}

fn validate(r: &AssetRegistration) -> Result<(), RegistryError> {
    let invalid = |field, reason: &str| {
        Err(RegistryError::Invalid {
            field,
            reason: reason.to_owned(),
        })
    };
    let chars = r.name.chars().count();
    if chars == 0 || chars > 64 || r.name.chars().any(char::is_control) {
        return invalid("name", "must be 1..=64 printable characters");
    }
    if r.owner == Address::ZERO {
        return invalid("owner", "must not be the zero address");
    }
    match (&r.locator, r.kind) {
        (
            Locator::Contract { address },
            AssetKind::Token | AssetKind::Nft | AssetKind::ContractData,
        ) => {
            if *address == Address::ZERO {
                return invalid("locator.address", "must not be the zero address");
            }
        }
        (Locator::OffChain { uri }, AssetKind::Database | AssetKind::File | AssetKind::Stream) => {
            if uri.is_empty() || uri.len() > 512 || !uri.contains(':') {
                return invalid("locator.uri", "must be a URI of at most 512 bytes");
            }
        }
        (Locator::Bridge { address, .. }, AssetKind::Bridge) => {
            if *address == Address::ZERO {
                return invalid("locator.address", "must not be the zero address");
            }
        }
        _ => return invalid("locator", "does not fit the asset kind"),
    }
    if r.vaults.len() > 16 {
        return invalid("vaults", "at most 16");
    }
    if r.vaults.contains(&Address::ZERO) {
        return invalid("vaults", "must not contain the zero address");
    }
    let needs_vaults =
        [r.policy.normal, r.policy.scheduled, r.policy.emergency].contains(&Allowance::VaultsOnly);
    if needs_vaults && r.vaults.is_empty() && r.kind.is_on_chain() {
        return invalid("vaults", "a vaults-only policy needs at least one vault");
    }
    Ok(())
}

#[cfg(test)]
mod tests;
