//! The asset registry: what applications ask the sequencer to protect when quantum risk rises.
//!
//! An application registers an asset (one of seven kinds: on-chain token, NFT or contract data;
//! off-chain database, file or stream; a cross-chain bridge) with a protection policy saying
//! which transactions touching it may still be sequenced at SCHEDULED and EMERGENCY risk, and
//! the post-quantum vaults or migration contracts its holders may move it to. A registration is
//! signed by its owner (EIP-191 over [`registration_digest`], or EIP-1271 when the owner is a
//! contract), carries a deadline, is used once (replays are refused) and is rate-limited and
//! capped per owner only, so no one can exhaust the registry for others.
//!
//! The registry cannot be used to censor:
//!
//! - an on-chain asset needs its controller: the registrant is the contract's EIP-173
//!   `owner()` at the head, or the registrant *is* the contract and it approves the
//!   registration through EIP-1271 `isValidSignature`, or governance approves it
//!   ([`Registry::approve`], the operator's engine port). The chain is read through
//!   [`ChainView`], which the node implements, so this crate stays pure;
//! - off-chain assets are namespaced by their registrant (their id includes the owner);
//! - an address is registered once: the first registration stands until its registrant updates
//!   or removes it ([`Registry::remove`]) or governance revokes it;
//! - [`ProtectedAddresses`] (precompiles, OP predeploys and system accounts, the sequencer's own
//!   contracts and key) can never be registered, and never reach the ordering even if present
//!   in the sealed file; transactions the sequencer's own key sends are never held;
//! - a policy restricts only at the level it names, and never at NORMAL.
//!
//! The registry is kept in one file sealed with AES-256-GCM under a key the node derives from
//! its TEE-sealed key store ([`Registry::key_from_secret`]); a write goes to a temporary file
//! that replaces the old one, so a crash leaves either the old or the new registry.

mod store;

use aegis_qrm::RiskLevel;
use alloy_primitives::{Address, B256, Signature, eip191_hash_message, keccak256};
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
    /// The signature is neither the owner's ECDSA signature nor approved by the owner contract's
    /// EIP-1271 `isValidSignature`.
    #[error(
        "signature is not the owner's ({owner}): neither its EIP-191 signature nor approved by its EIP-1271 isValidSignature"
    )]
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
    /// The asset (or another asset at the same address) is registered by someone else; only
    /// its registrant can update or remove it.
    #[error(
        "asset {id} is already registered by {owner}; only its registrant can update or remove it"
    )]
    AlreadyRegistered {
        /// The registered asset.
        id: B256,
        /// Its registrant.
        owner: Address,
    },
    /// The address is a precompile, predeploy, system account or one of the sequencer's own
    /// contracts: it can never be registered (nor held by a policy).
    #[error("{0} is a protected system or sequencer address and cannot be registered")]
    Protected(Address),
    /// The registrant does not control the contract.
    #[error(
        "{registrant} does not control {address}: its owner() is {}; register as its owner(), \
         as the contract itself (EIP-1271 approval) or ask governance (aegis_approveAsset)",
        owner.map_or_else(|| "unavailable".to_string(), |o| o.to_string())
    )]
    NotController {
        /// The contract.
        address: Address,
        /// Who tried to register it.
        registrant: Address,
        /// Its `owner()` at the head, if it has one.
        owner: Option<Address>,
    },
    /// No asset with this id.
    #[error("no asset {0}")]
    NotFound(B256),
    /// Only the registrant may remove an asset.
    #[error("asset {id} is registered by {registrant}; only they can remove it")]
    NotRegistrant {
        /// The asset.
        id: B256,
        /// Its registrant.
        registrant: Address,
    },
    /// This signed message was used before.
    #[error("this signed message was already used (replay)")]
    Replayed,
    /// Reading the chain (`owner()`, `isValidSignature`) failed.
    #[error("reading the chain: {0}")]
    Chain(String),
    /// Too many registrations by one owner in the last minute.
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

impl Locator {
    /// The contract address, for on-chain locators.
    pub fn address(&self) -> Option<Address> {
        match self {
            Self::Contract { address } | Self::Bridge { address, .. } => Some(*address),
            Self::OffChain { .. } => None,
        }
    }
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

/// An asset's allowance per risk level. Registrations must say `any` at NORMAL: protection
/// answers quantum risk, and a policy restricts only at the level it names.
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
    /// The allowance at `level` (always [`Allowance::Any`] at NORMAL).
    pub fn at(&self, level: RiskLevel) -> Allowance {
        match level {
            RiskLevel::Normal => Allowance::Any,
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

/// How a registration proved control of its asset.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Approval {
    /// The registrant is the contract's `owner()` (or, off chain, the namespace's owner) and
    /// signed (ECDSA, or EIP-1271 for a contract owner).
    Owner,
    /// The registrant is the contract itself, approving through EIP-1271.
    Contract,
    /// The operator approved it (`aegis_approveAsset`).
    Governance,
    /// Registered before control was checked (a version 1 registry file).
    #[default]
    Legacy,
}

/// A registered asset.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Asset {
    /// [`registration_id`]: `keccak256(kind ‖ locator)`, for off-chain assets `‖ owner` too.
    pub id: B256,
    /// The registration.
    #[serde(flatten)]
    pub registration: AssetRegistration,
    /// Unix seconds.
    pub registered_at: u64,
    /// When its registrant last updated it (unix seconds).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_at: Option<u64>,
    /// How control was proved.
    #[serde(default)]
    pub approval: Approval,
}

impl Asset {
    /// The contract address of an on-chain asset.
    pub fn address(&self) -> Option<Address> {
        self.registration.locator.address()
    }
}

/// Limits against spam, all per owner: nobody's registrations count against anyone else's.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// Registrations, updates and removals per owner per minute.
    pub per_owner_per_minute: usize,
    /// Assets one owner may hold.
    pub per_owner: usize,
    /// The longest validity of a signed registration or removal (seconds).
    pub max_deadline_ahead: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            per_owner_per_minute: 10,
            per_owner: 64,
            max_deadline_ahead: 3600,
        }
    }
}

/// The domain tag of [`registration_digest`].
pub const REGISTRATION_DOMAIN: &[u8] = b"QuantumAegis asset registration v1";
/// The domain tag of [`removal_digest`].
pub const REMOVAL_DOMAIN: &[u8] = b"QuantumAegis asset removal v1";
/// What EIP-1271 `isValidSignature(bytes32,bytes)` returns for a valid signature (its selector).
pub const EIP1271_MAGIC: [u8; 4] = [0x16, 0x26, 0xba, 0x7e];

fn digest(domain: &[u8], chain_id: u64, message: &impl Serialize) -> B256 {
    let json = serde_json::to_vec(message).expect("message serializes");
    let mut preimage = Vec::with_capacity(domain.len() + 8 + json.len());
    preimage.extend_from_slice(domain);
    preimage.extend_from_slice(&chain_id.to_be_bytes());
    preimage.extend_from_slice(&json);
    keccak256(preimage)
}

/// The 32 bytes an owner signs (EIP-191 `personal_sign`, e.g. `cast wallet sign 0x<digest>`):
/// `keccak256(REGISTRATION_DOMAIN ‖ chainId (8 bytes, big-endian) ‖ registration as JSON)`,
/// the JSON being this type's serialization (fields in declaration order, no whitespace).
/// A contract owner's EIP-1271 `isValidSignature` is asked about the EIP-191 hash of it
/// (`keccak256("\x19Ethereum Signed Message:\n32" ‖ digest)`), the hash an EOA signs.
pub fn registration_digest(chain_id: u64, registration: &AssetRegistration) -> B256 {
    digest(REGISTRATION_DOMAIN, chain_id, registration)
}

/// What a registrant signs to remove its asset.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AssetRemoval {
    /// The asset.
    pub id: B256,
    /// Its registrant, who signs.
    pub owner: Address,
    /// Unix seconds after which the signed removal is void.
    pub deadline: u64,
}

/// The 32 bytes a registrant signs to remove an asset: as [`registration_digest`], with
/// [`REMOVAL_DOMAIN`] and the removal's JSON.
pub fn removal_digest(chain_id: u64, removal: &AssetRemoval) -> B256 {
    digest(REMOVAL_DOMAIN, chain_id, removal)
}

/// The id of an on-chain asset: `keccak256(kind ‖ locator)` in their JSON forms.
pub fn asset_id(kind: AssetKind, locator: &Locator) -> B256 {
    let mut preimage = serde_json::to_vec(&kind).expect("kind serializes");
    preimage.extend(serde_json::to_vec(locator).expect("locator serializes"));
    keccak256(preimage)
}

/// The id of a registration: [`asset_id`] for on-chain assets; off-chain assets are namespaced
/// by their registrant, `keccak256(kind ‖ locator ‖ owner)`.
pub fn registration_id(registration: &AssetRegistration) -> B256 {
    match registration.locator {
        Locator::OffChain { .. } => {
            let mut preimage = serde_json::to_vec(&registration.kind).expect("kind serializes");
            preimage.extend(serde_json::to_vec(&registration.locator).expect("locator serializes"));
            preimage.extend_from_slice(registration.owner.as_slice());
            keccak256(preimage)
        }
        _ => asset_id(registration.kind, &registration.locator),
    }
}

/// The chain as the registry needs to read it (at the head), implemented by the node.
pub trait ChainView {
    /// The EIP-173 `owner()` of `contract`: `Ok(None)` when it has no code, no such function,
    /// reverts or returns something that is not an address. `Err` only when the chain cannot
    /// be read at all.
    fn owner(&self, contract: Address) -> Result<Option<Address>, String>;

    /// Whether `account` is a contract whose EIP-1271 `isValidSignature(hash, signature)`
    /// returns [`EIP1271_MAGIC`]: `Ok(false)` for accounts without code, reverts and any other
    /// answer.
    fn is_valid_signature(
        &self,
        account: Address,
        hash: B256,
        signature: &[u8],
    ) -> Result<bool, String>;
}

/// A chain without contracts: no `owner()`, no EIP-1271 approvals (off-chain registrations
/// and governance only).
#[derive(Clone, Copy, Debug, Default)]
pub struct NoContracts;

impl ChainView for NoContracts {
    fn owner(&self, _: Address) -> Result<Option<Address>, String> {
        Ok(None)
    }
    fn is_valid_signature(&self, _: Address, _: B256, _: &[u8]) -> Result<bool, String> {
        Ok(false)
    }
}

/// Addresses that can never be registered nor held by a policy: the zero address and the
/// precompile and system range `0x0000…0000`–`0x0000…ffff` always, plus what the node adds
/// (OP predeploys and system accounts, the sequencer's contracts and key).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ProtectedAddresses {
    exact: HashSet<Address>,
    /// Inclusive ranges.
    ranges: Vec<(Address, Address)>,
}

impl ProtectedAddresses {
    /// Only the always-protected range.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds `address`.
    pub fn insert(&mut self, address: Address) -> &mut Self {
        self.exact.insert(address);
        self
    }

    /// Adds `first..=last`.
    pub fn insert_range(&mut self, first: Address, last: Address) -> &mut Self {
        self.ranges.push((first, last));
        self
    }

    /// Whether `address` is protected.
    pub fn contains(&self, address: &Address) -> bool {
        address.as_slice()[..18].iter().all(|b| *b == 0)
            || self.exact.contains(address)
            || self
                .ranges
                .iter()
                .any(|(first, last)| first <= address && address <= last)
    }

    /// The individually protected addresses (system senders among them).
    pub fn addresses(&self) -> impl Iterator<Item = &Address> {
        self.exact.iter()
    }
}

/// What the ordering needs from the registry, for fast lookups while building a block.
#[derive(Clone, Debug, Default)]
pub struct ProtectionSet {
    /// Protected on-chain assets by contract address (never a protected address).
    pub assets: HashMap<Address, ProtectedAsset>,
    /// Every vault or migration contract of any asset.
    pub all_vaults: HashSet<Address>,
    /// Senders whose transactions are never held (the sequencer's key, system accounts).
    pub exempt_senders: HashSet<Address>,
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
    protected: ProtectedAddresses,
    assets: BTreeMap<B256, Asset>,
    /// On-chain assets: contract address → the id of the registration that stands.
    by_address: HashMap<Address, B256>,
    /// Digests of the signed messages used, with their deadlines (kept until then).
    consumed: BTreeMap<B256, u64>,
    recent: HashMap<Address, VecDeque<u64>>,
}

impl Registry {
    /// Opens (or starts) the sealed registry at `path` for chain `chain_id`, protecting only
    /// the always-protected range (see [`Registry::with_protected`]).
    pub fn open(
        path: impl Into<PathBuf>,
        key: zeroize::Zeroizing<[u8; 32]>,
        chain_id: u64,
        limits: Limits,
    ) -> Result<Self, RegistryError> {
        let store = store::SealedFile::new(path.into(), key);
        let contents = store.load()?;
        let mut this = Self {
            chain_id,
            store,
            limits,
            protected: ProtectedAddresses::new(),
            assets: contents.assets.into_iter().map(|a| (a.id, a)).collect(),
            by_address: HashMap::new(),
            consumed: contents.consumed,
            recent: HashMap::new(),
        };
        this.reindex();
        Ok(this)
    }

    /// Never registers nor protects `protected` (whatever the sealed file holds).
    pub fn with_protected(mut self, protected: ProtectedAddresses) -> Self {
        self.protected = protected;
        self
    }

    /// The protected addresses.
    pub fn protected(&self) -> &ProtectedAddresses {
        &self.protected
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

    /// Rebuilds the address index: per address, the earliest registration stands (a version 1
    /// file may hold several).
    fn reindex(&mut self) {
        let mut on_chain: Vec<&Asset> = self
            .assets
            .values()
            .filter(|a| a.address().is_some())
            .collect();
        on_chain.sort_by_key(|a| (a.registered_at, a.id));
        self.by_address.clear();
        for asset in on_chain {
            let address = asset.address().expect("on chain");
            self.by_address.entry(address).or_insert(asset.id);
        }
    }

    /// Every asset, by id.
    pub fn assets(&self) -> impl Iterator<Item = &Asset> {
        self.assets.values()
    }

    /// One asset.
    pub fn get(&self, id: &B256) -> Option<&Asset> {
        self.assets.get(id)
    }

    /// The registration that stands for contract `address`.
    pub fn by_address(&self, address: &Address) -> Option<&Asset> {
        self.by_address
            .get(address)
            .and_then(|id| self.assets.get(id))
    }

    fn check_deadline(&self, deadline: u64, now: u64) -> Result<(), RegistryError> {
        let max_ahead = self.limits.max_deadline_ahead;
        if deadline < now || deadline > now.saturating_add(max_ahead) {
            return Err(RegistryError::Deadline {
                deadline,
                now,
                max_ahead,
            });
        }
        Ok(())
    }

    fn check_unused(&mut self, digest: &B256, now: u64) -> Result<(), RegistryError> {
        self.consumed.retain(|_, deadline| *deadline >= now);
        if self.consumed.contains_key(digest) {
            return Err(RegistryError::Replayed);
        }
        Ok(())
    }

    /// Whether `signature` is `owner`'s over `digest`: its EIP-191 ECDSA signature, or approved
    /// by `owner`'s EIP-1271 `isValidSignature` over the EIP-191 hash. Returns whether it was
    /// the contract route.
    fn verify_signer(
        owner: Address,
        digest: B256,
        signature: &[u8],
        chain: &dyn ChainView,
    ) -> Result<bool, RegistryError> {
        if let Ok(signature) = Signature::from_raw(signature)
            && signature.recover_address_from_msg(digest).ok() == Some(owner)
        {
            return Ok(false);
        }
        if chain
            .is_valid_signature(owner, eip191_hash_message(digest), signature)
            .map_err(RegistryError::Chain)?
        {
            return Ok(true);
        }
        Err(RegistryError::BadSignature { owner })
    }

    fn check_not_protected(&self, registration: &AssetRegistration) -> Result<(), RegistryError> {
        let addresses = registration
            .locator
            .address()
            .into_iter()
            .chain(registration.vaults.iter().copied());
        for address in addresses {
            if self.protected.contains(&address) {
                return Err(RegistryError::Protected(address));
            }
        }
        Ok(())
    }

    /// The registration that a new `registration` would replace (its own earlier version), or
    /// an error when someone else's stands there.
    fn existing(&self, registration: &AssetRegistration) -> Result<Option<B256>, RegistryError> {
        let standing = match registration.locator.address() {
            Some(address) => self.by_address.get(&address).copied(),
            None => Some(registration_id(registration)).filter(|id| self.assets.contains_key(id)),
        };
        match standing.and_then(|id| self.assets.get(&id)) {
            Some(asset) if asset.registration.owner != registration.owner => {
                Err(RegistryError::AlreadyRegistered {
                    id: asset.id,
                    owner: asset.registration.owner,
                })
            }
            Some(asset) => Ok(Some(asset.id)),
            None => Ok(None),
        }
    }

    /// Checks and stores a signed registration at time `now`, reading the chain through
    /// `chain`; returns the asset id. A registration by the registrant of an asset already at
    /// that address (or, off chain, that locator) updates it. Nothing changes when it fails (a
    /// failed write is rolled back).
    ///
    /// The registrant must control an on-chain asset: be its `owner()`, or be the contract
    /// itself approving through EIP-1271. Its signature is its EIP-191 signature over
    /// [`registration_digest`] or, for a contract registrant, its EIP-1271 approval.
    pub fn register(
        &mut self,
        registration: AssetRegistration,
        signature: &[u8],
        now: u64,
        chain: &dyn ChainView,
    ) -> Result<B256, RegistryError> {
        validate(&registration)?;
        self.check_not_protected(&registration)?;
        self.check_deadline(registration.deadline, now)?;
        let digest = registration_digest(self.chain_id, &registration);
        self.check_unused(&digest, now)?;
        let replaces = self.existing(&registration)?;
        self.rate_limit(registration.owner, now)?;
        let by_contract = Self::verify_signer(registration.owner, digest, signature, chain)?;
        let approval = match registration.locator.address() {
            None => Approval::Owner,
            Some(address) if address == registration.owner && by_contract => Approval::Contract,
            Some(address) => {
                let owner = chain.owner(address).map_err(RegistryError::Chain)?;
                if owner != Some(registration.owner) {
                    return Err(RegistryError::NotController {
                        address,
                        registrant: registration.owner,
                        owner,
                    });
                }
                Approval::Owner
            }
        };
        let owner = registration.owner;
        // Remembered as used, in the same write as the asset.
        self.consumed.insert(digest, registration.deadline);
        let id = self
            .store_asset(registration, replaces, approval, now, true)
            .inspect_err(|_| {
                self.consumed.remove(&digest);
            })?;
        self.recent.entry(owner).or_default().push_back(now);
        Ok(id)
    }

    /// Registers (or updates) `registration` on governance's word: no signature or control
    /// check, no deadline or quota; still never a protected address, and never over someone
    /// else's registration (revoke it first).
    pub fn approve(
        &mut self,
        registration: AssetRegistration,
        now: u64,
    ) -> Result<B256, RegistryError> {
        validate(&registration)?;
        self.check_not_protected(&registration)?;
        let replaces = self.existing(&registration)?;
        self.store_asset(registration, replaces, Approval::Governance, now, false)
    }

    fn store_asset(
        &mut self,
        registration: AssetRegistration,
        replaces: Option<B256>,
        approval: Approval,
        now: u64,
        quota: bool,
    ) -> Result<B256, RegistryError> {
        let owner = registration.owner;
        if quota && replaces.is_none() {
            let owned = self
                .assets
                .values()
                .filter(|a| a.registration.owner == owner)
                .count();
            if owned >= self.limits.per_owner {
                return Err(RegistryError::Quota {
                    owner,
                    limit: self.limits.per_owner,
                });
            }
        }
        let id = registration_id(&registration);
        let previous = replaces.and_then(|old| self.assets.remove(&old));
        let asset = Asset {
            id,
            registered_at: previous.as_ref().map_or(now, |p| p.registered_at),
            updated_at: previous.as_ref().map(|_| now),
            registration,
            approval,
        };
        let displaced = self.assets.insert(id, asset);
        self.reindex();
        if let Err(error) = self.save() {
            self.assets.remove(&id);
            if let Some(displaced) = displaced {
                self.assets.insert(displaced.id, displaced);
            }
            if let Some(previous) = previous {
                self.assets.insert(previous.id, previous);
            }
            self.reindex();
            return Err(error);
        }
        Ok(id)
    }

    /// Removes an asset on its registrant's signed word (EIP-191 over [`removal_digest`], or
    /// EIP-1271 for a contract registrant); returns it.
    pub fn remove(
        &mut self,
        removal: &AssetRemoval,
        signature: &[u8],
        now: u64,
        chain: &dyn ChainView,
    ) -> Result<Asset, RegistryError> {
        self.check_deadline(removal.deadline, now)?;
        let digest = removal_digest(self.chain_id, removal);
        self.check_unused(&digest, now)?;
        let asset = self
            .assets
            .get(&removal.id)
            .ok_or(RegistryError::NotFound(removal.id))?;
        if asset.registration.owner != removal.owner {
            return Err(RegistryError::NotRegistrant {
                id: removal.id,
                registrant: asset.registration.owner,
            });
        }
        self.rate_limit(removal.owner, now)?;
        Self::verify_signer(removal.owner, digest, signature, chain)?;
        self.consumed.insert(digest, removal.deadline);
        let asset = self.delete(&removal.id).inspect_err(|_| {
            self.consumed.remove(&digest);
        })?;
        self.recent.entry(removal.owner).or_default().push_back(now);
        Ok(asset)
    }

    /// Removes an asset on governance's word; returns it.
    pub fn revoke(&mut self, id: &B256) -> Result<Asset, RegistryError> {
        self.delete(id)
    }

    fn delete(&mut self, id: &B256) -> Result<Asset, RegistryError> {
        let asset = self.assets.remove(id).ok_or(RegistryError::NotFound(*id))?;
        self.reindex();
        if let Err(error) = self.save() {
            self.assets.insert(asset.id, asset);
            self.reindex();
            return Err(error);
        }
        Ok(asset)
    }

    fn save(&self) -> Result<(), RegistryError> {
        self.store.save(self.assets.values(), &self.consumed)
    }

    fn rate_limit(&mut self, owner: Address, now: u64) -> Result<(), RegistryError> {
        self.recent.retain(|_, times| {
            while times
                .front()
                .is_some_and(|at| now.saturating_sub(*at) >= 60)
            {
                times.pop_front();
            }
            !times.is_empty()
        });
        let by_owner = self.recent.get(&owner).map_or(0, VecDeque::len);
        if by_owner >= self.limits.per_owner_per_minute {
            return Err(RegistryError::RateLimited(format!(
                "owner {owner} made {by_owner} registrations in the last minute"
            )));
        }
        Ok(())
    }

    /// The lookup tables the ordering uses: per contract address the registration that stands,
    /// never a protected address.
    pub fn protection_set(&self) -> ProtectionSet {
        let mut set = ProtectionSet {
            exempt_senders: self.protected.addresses().copied().collect(),
            ..Default::default()
        };
        for (address, id) in &self.by_address {
            if self.protected.contains(address) {
                continue;
            }
            let r = &self.assets[id].registration;
            let vaults: HashSet<Address> = r
                .vaults
                .iter()
                .copied()
                .filter(|v| !self.protected.contains(v))
                .collect();
            set.all_vaults.extend(vaults.iter().copied());
            set.assets.insert(
                *address,
                ProtectedAsset {
                    id: *id,
                    policy: r.policy,
                    vaults,
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
    if r.policy.normal != Allowance::Any {
        return invalid(
            "policy.normal",
            "must be \"any\": a policy restricts only at SCHEDULED or EMERGENCY",
        );
    }
    let needs_vaults = [r.policy.scheduled, r.policy.emergency].contains(&Allowance::VaultsOnly);
    if needs_vaults && r.vaults.is_empty() && r.kind.is_on_chain() {
        return invalid("vaults", "a vaults-only policy needs at least one vault");
    }
    Ok(())
}

#[cfg(test)]
mod tests;
