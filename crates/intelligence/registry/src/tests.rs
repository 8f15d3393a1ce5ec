use super::*;
use alloy_signer::SignerSync;
use alloy_signer_local::PrivateKeySigner;
use proptest::prelude::{ProptestConfig, any, prop_assert, prop_assert_eq, proptest};

const NOW: u64 = 1_800_000_000;
const CHAIN: u64 = 901;

/// A chain with `owner()`s and EIP-1271 approvals set by the test.
#[derive(Default)]
struct FakeChain {
    owners: HashMap<Address, Address>,
    /// `(contract, hash)` pairs its `isValidSignature` approves.
    approves: HashSet<(Address, B256)>,
}

impl FakeChain {
    fn owning(pairs: &[(Address, Address)]) -> Self {
        Self {
            owners: pairs.iter().copied().collect(),
            ..Default::default()
        }
    }
}

impl ChainView for FakeChain {
    fn owner(&self, contract: Address) -> Result<Option<Address>, String> {
        Ok(self.owners.get(&contract).copied())
    }
    fn is_valid_signature(&self, account: Address, hash: B256, _: &[u8]) -> Result<bool, String> {
        Ok(self.approves.contains(&(account, hash)))
    }
}

/// `prefix` repeated, then `last`.
fn ending(prefix: u8, last: u8) -> Address {
    let mut address = Address::repeat_byte(prefix);
    address.0[19] = last;
    address
}

fn token(owner: Address, address: Address) -> AssetRegistration {
    AssetRegistration {
        kind: AssetKind::Token,
        name: "Wrapped Ether".into(),
        owner,
        locator: Locator::Contract { address },
        policy: ProtectionPolicy::default(),
        vaults: vec![Address::repeat_byte(0xaa)],
        deadline: NOW + 60,
    }
}

fn file(owner: Address, uri: &str) -> AssetRegistration {
    AssetRegistration {
        kind: AssetKind::File,
        locator: Locator::OffChain { uri: uri.into() },
        ..token(owner, Address::ZERO)
    }
}

fn sign(signer: &PrivateKeySigner, r: &AssetRegistration) -> Vec<u8> {
    signer
        .sign_message_sync(registration_digest(CHAIN, r).as_slice())
        .unwrap()
        .as_bytes()
        .to_vec()
}

fn sign_removal(signer: &PrivateKeySigner, r: &AssetRemoval) -> Vec<u8> {
    signer
        .sign_message_sync(removal_digest(CHAIN, r).as_slice())
        .unwrap()
        .as_bytes()
        .to_vec()
}

fn open_with(dir: &std::path::Path, limits: Limits) -> Registry {
    Registry::open(
        dir.join("registry.sealed"),
        Registry::key_from_secret(&[7; 32]),
        CHAIN,
        limits,
    )
    .unwrap()
}

fn open(dir: &std::path::Path) -> Registry {
    open_with(dir, Limits::default())
}

#[test]
fn the_contracts_owner_registers_sealed_and_reopened() {
    let dir = tempfile::tempdir().unwrap();
    let owner = PrivateKeySigner::random();
    let contract = Address::repeat_byte(1);
    let chain = FakeChain::owning(&[(contract, owner.address())]);
    let mut registry = open(dir.path());
    let r = token(owner.address(), contract);
    let id = registry
        .register(r.clone(), &sign(&owner, &r), NOW, &chain)
        .unwrap();
    assert_eq!(id, asset_id(AssetKind::Token, &r.locator));
    assert_eq!(registry.get(&id).unwrap().approval, Approval::Owner);
    // Sealed: the name is not in the file.
    let raw = std::fs::read(dir.path().join("registry.sealed")).unwrap();
    assert!(!raw.windows(7).any(|w| w == b"Wrapped"));
    assert_eq!(raw[4], 2, "written as version 2");
    drop(registry);
    let reopened = open(dir.path());
    assert_eq!(reopened.get(&id).unwrap().registration, r);
    // Another key cannot open it.
    let other = Registry::open(
        dir.path().join("registry.sealed"),
        Registry::key_from_secret(&[8; 32]),
        CHAIN,
        Limits::default(),
    );
    assert!(matches!(other, Err(RegistryError::Storage { .. })));
    let set = reopened.protection_set();
    assert!(set.assets.contains_key(&contract));
    assert!(set.all_vaults.contains(&Address::repeat_byte(0xaa)));
}

/// The attack of issue 13: any key registering any contract with a frozen policy.
#[test]
fn a_stranger_cannot_register_someone_elses_contract() {
    let dir = tempfile::tempdir().unwrap();
    let owner = PrivateKeySigner::random();
    let stranger = PrivateKeySigner::random();
    let contract = Address::repeat_byte(1);
    let ownerless = Address::repeat_byte(2);
    let chain = FakeChain::owning(&[(contract, owner.address())]);
    let mut registry = open(dir.path());
    let mut r = token(stranger.address(), contract);
    r.policy.emergency = Allowance::Frozen;
    let e = registry
        .register(r.clone(), &sign(&stranger, &r), NOW, &chain)
        .unwrap_err();
    assert!(
        matches!(
            e,
            RegistryError::NotController { address, registrant, owner: Some(o) }
                if address == contract && registrant == stranger.address() && o == owner.address()
        ),
        "{e:?}"
    );
    assert!(e.to_string().contains("does not control"), "{e}");
    // A contract without owner() cannot be claimed by signature alone either.
    let r = token(stranger.address(), ownerless);
    let e = registry
        .register(r.clone(), &sign(&stranger, &r), NOW, &chain)
        .unwrap_err();
    assert!(
        matches!(e, RegistryError::NotController { owner: None, .. }),
        "{e:?}"
    );
    assert_eq!(registry.assets().count(), 0);
    assert!(registry.protection_set().assets.is_empty());
}

#[test]
fn eip1271_contracts_approve_their_own_registration_and_smart_wallet_owners_sign() {
    let dir = tempfile::tempdir().unwrap();
    let contract = Address::repeat_byte(1);
    let wallet = Address::repeat_byte(0x5a);
    let owned = Address::repeat_byte(3);
    let mut chain = FakeChain::owning(&[(owned, wallet)]);
    let mut registry = open(dir.path());
    // The contract registers itself: its isValidSignature over the EIP-191 hash of the digest.
    let r = token(contract, contract);
    let hash = eip191_hash_message(registration_digest(CHAIN, &r));
    assert!(matches!(
        registry.register(r.clone(), b"approve", NOW, &chain),
        Err(RegistryError::BadSignature { .. })
    ));
    chain.approves.insert((contract, hash));
    let id = registry.register(r, b"approve", NOW, &chain).unwrap();
    assert_eq!(registry.get(&id).unwrap().approval, Approval::Contract);
    // A smart wallet that is a contract's owner() signs through EIP-1271.
    let r = token(wallet, owned);
    chain
        .approves
        .insert((wallet, eip191_hash_message(registration_digest(CHAIN, &r))));
    let id = registry.register(r, &[0xde; 100], NOW, &chain).unwrap();
    assert_eq!(registry.get(&id).unwrap().approval, Approval::Owner);
    // An approval of another message is not one of this.
    let mut other = token(wallet, Address::repeat_byte(4));
    chain.owners.insert(Address::repeat_byte(4), wallet);
    other.name = "other".into();
    assert!(matches!(
        registry.register(other, &[0xde; 100], NOW, &chain),
        Err(RegistryError::BadSignature { .. })
    ));
}

#[test]
fn the_first_registration_stands_until_its_registrant_updates_or_removes_it() {
    let dir = tempfile::tempdir().unwrap();
    let owner = PrivateKeySigner::random();
    let rival = PrivateKeySigner::random();
    let contract = Address::repeat_byte(1);
    let mut chain = FakeChain::owning(&[(contract, owner.address())]);
    let mut registry = open(dir.path());
    let r = token(owner.address(), contract);
    let id = registry
        .register(r.clone(), &sign(&owner, &r), NOW, &chain)
        .unwrap();
    // Replayed: refused.
    assert!(matches!(
        registry.register(r.clone(), &sign(&owner, &r), NOW, &chain),
        Err(RegistryError::Replayed)
    ));
    // Someone else, even as another kind of asset at the same address and even after the
    // contract changed hands, cannot displace it.
    chain.owners.insert(contract, rival.address());
    for kind in [AssetKind::Token, AssetKind::Nft] {
        let mut again = token(rival.address(), contract);
        again.kind = kind;
        again.policy.emergency = Allowance::Frozen;
        let e = registry
            .register(again.clone(), &sign(&rival, &again), NOW, &chain)
            .unwrap_err();
        assert!(
            matches!(e, RegistryError::AlreadyRegistered { id: i, owner: o } if i == id && o == owner.address()),
            "{e:?}"
        );
    }
    let bridge = AssetRegistration {
        kind: AssetKind::Bridge,
        locator: Locator::Bridge {
            address: contract,
            remote_chain_id: 1,
        },
        ..token(rival.address(), contract)
    };
    assert!(matches!(
        registry.register(bridge.clone(), &sign(&rival, &bridge), NOW, &chain),
        Err(RegistryError::AlreadyRegistered { .. })
    ));
    assert_eq!(registry.protection_set().assets[&contract].id, id);
    // The registrant updates it (still in control: owner() back to them).
    chain.owners.insert(contract, owner.address());
    let mut update = r.clone();
    update.policy.emergency = Allowance::Frozen;
    update.deadline += 1;
    let updated = registry
        .register(update.clone(), &sign(&owner, &update), NOW + 5, &chain)
        .unwrap();
    assert_eq!(updated, id);
    let asset = registry.get(&id).unwrap();
    assert_eq!(asset.registration.policy.emergency, Allowance::Frozen);
    assert_eq!(
        (asset.registered_at, asset.updated_at),
        (NOW, Some(NOW + 5))
    );
    assert_eq!(registry.assets().count(), 1);
    // Only the registrant removes it, once.
    let removal = AssetRemoval {
        id,
        owner: owner.address(),
        deadline: NOW + 60,
    };
    let forged = AssetRemoval {
        owner: rival.address(),
        ..removal.clone()
    };
    assert!(matches!(
        registry.remove(&forged, &sign_removal(&rival, &forged), NOW, &chain),
        Err(RegistryError::NotRegistrant { .. })
    ));
    assert!(matches!(
        registry.remove(&removal, &sign_removal(&rival, &removal), NOW, &chain),
        Err(RegistryError::BadSignature { .. })
    ));
    let removed = registry
        .remove(&removal, &sign_removal(&owner, &removal), NOW, &chain)
        .unwrap();
    assert_eq!(removed.id, id);
    assert_eq!(registry.assets().count(), 0);
    assert!(registry.protection_set().assets.is_empty());
    assert!(matches!(
        registry.remove(&removal, &sign_removal(&owner, &removal), NOW, &chain),
        Err(RegistryError::Replayed)
    ));
    // Gone for good across a restart; the used signatures stay used.
    drop(registry);
    let mut registry = open(dir.path());
    assert_eq!(registry.assets().count(), 0);
    assert!(matches!(
        registry.register(update.clone(), &sign(&owner, &update), NOW + 6, &chain),
        Err(RegistryError::Replayed)
    ));
    // After removal, the address is free: the rival, now its owner(), registers it.
    chain.owners.insert(contract, rival.address());
    let mut theirs = token(rival.address(), contract);
    theirs.name = "theirs".into();
    registry
        .register(theirs.clone(), &sign(&rival, &theirs), NOW, &chain)
        .unwrap();
}

#[test]
fn governance_approves_and_revokes() {
    let dir = tempfile::tempdir().unwrap();
    let owner = PrivateKeySigner::random();
    let contract = Address::repeat_byte(1);
    let mut registry = open(dir.path());
    // An immutable token without owner(): governance vouches for the registrant.
    let r = token(owner.address(), contract);
    let id = registry.approve(r.clone(), NOW).unwrap();
    assert_eq!(registry.get(&id).unwrap().approval, Approval::Governance);
    // Not over someone else's registration.
    let other = token(Address::repeat_byte(9), contract);
    assert!(matches!(
        registry.approve(other.clone(), NOW),
        Err(RegistryError::AlreadyRegistered { .. })
    ));
    registry.revoke(&id).unwrap();
    assert!(matches!(
        registry.revoke(&id),
        Err(RegistryError::NotFound(_))
    ));
    registry.approve(other, NOW).unwrap();
}

fn protected() -> ProtectedAddresses {
    let mut p = ProtectedAddresses::new();
    p.insert_range(ending(0x42, 0), ending(0x42, 0xff))
        .insert(Address::repeat_byte(0xa7)) // "the attestation contract"
        .insert(Address::repeat_byte(0x5e)); // "the sequencer's key"
    p
}

#[test]
fn protected_addresses_are_never_registered_nor_protected() {
    let dir = tempfile::tempdir().unwrap();
    // Registered while the node did not know them as protected (a version 1 file).
    let legacy: Vec<Asset> = [
        Address::repeat_byte(0xa7),
        Address::repeat_byte(0x42),
        Address::with_last_byte(4),
        Address::repeat_byte(1),
    ]
    .into_iter()
    .enumerate()
    .map(|(i, address)| {
        let mut r = token(Address::repeat_byte(9), address);
        r.policy.scheduled = Allowance::Frozen;
        r.policy.emergency = Allowance::Frozen;
        Asset {
            id: registration_id(&r),
            registration: r,
            registered_at: NOW + i as u64,
            updated_at: None,
            approval: Approval::Legacy,
        }
    })
    .collect();
    store::SealedFile::new(
        dir.path().join("registry.sealed"),
        Registry::key_from_secret(&[7; 32]),
    )
    .save_v1(&legacy)
    .unwrap();
    let mut registry = open(dir.path()).with_protected(protected());
    assert_eq!(registry.assets().count(), 4);
    let set = registry.protection_set();
    assert_eq!(
        set.assets.keys().copied().collect::<Vec<_>>(),
        vec![Address::repeat_byte(1)]
    );
    assert!(set.exempt_senders.contains(&Address::repeat_byte(0x5e)));

    let owner = PrivateKeySigner::random();
    let chain = FakeChain::owning(&[
        (Address::repeat_byte(0xa7), owner.address()),
        (Address::repeat_byte(0x42), owner.address()),
        (Address::with_last_byte(0x11), owner.address()),
    ]);
    for address in [
        Address::repeat_byte(0xa7),
        Address::repeat_byte(0x42),
        Address::with_last_byte(0x11),
        Address::with_last_byte(0xff),
    ] {
        let r = token(owner.address(), address);
        let e = registry
            .register(r.clone(), &sign(&owner, &r), NOW, &chain)
            .unwrap_err();
        assert!(
            matches!(e, RegistryError::Protected(a) if a == address),
            "{address}: {e:?}"
        );
        assert!(matches!(
            registry.approve(r, NOW),
            Err(RegistryError::Protected(_))
        ));
    }
    // Nor as a vault.
    let mut r = token(owner.address(), Address::repeat_byte(0x33));
    r.vaults = vec![Address::repeat_byte(0xa7)];
    assert!(matches!(
        registry.approve(r, NOW),
        Err(RegistryError::Protected(_))
    ));
}

#[test]
fn a_version_1_file_migrates_and_the_earliest_registration_of_an_address_stands() {
    let dir = tempfile::tempdir().unwrap();
    let contract = Address::repeat_byte(1);
    let first = token(Address::repeat_byte(8), contract);
    let mut later = token(Address::repeat_byte(9), contract);
    later.kind = AssetKind::Nft;
    later.policy.emergency = Allowance::Frozen;
    let assets = vec![
        Asset {
            id: registration_id(&later),
            registration: later,
            registered_at: NOW + 10,
            updated_at: None,
            approval: Approval::Legacy,
        },
        Asset {
            id: registration_id(&first),
            registration: first.clone(),
            registered_at: NOW,
            updated_at: None,
            approval: Approval::Legacy,
        },
    ];
    store::SealedFile::new(
        dir.path().join("registry.sealed"),
        Registry::key_from_secret(&[7; 32]),
    )
    .save_v1(&assets)
    .unwrap();
    let mut registry = open(dir.path());
    assert_eq!(registry.assets().count(), 2);
    assert!(registry.assets().all(|a| a.approval == Approval::Legacy));
    let first_id = registration_id(&first);
    assert_eq!(registry.by_address(&contract).unwrap().id, first_id);
    assert_eq!(registry.protection_set().assets[&contract].id, first_id);
    // The next change writes version 2.
    registry
        .approve(file(Address::repeat_byte(8), "ipfs://x"), NOW)
        .unwrap();
    let raw = std::fs::read(dir.path().join("registry.sealed")).unwrap();
    assert_eq!(raw[4], 2);
    drop(registry);
    assert_eq!(open(dir.path()).assets().count(), 3);
}

#[test]
fn policies_restrict_only_at_the_level_they_name_and_never_at_normal() {
    let dir = tempfile::tempdir().unwrap();
    let owner = PrivateKeySigner::random();
    let contract = Address::repeat_byte(1);
    let chain = FakeChain::owning(&[(contract, owner.address())]);
    let mut registry = open(dir.path());
    let mut r = token(owner.address(), contract);
    r.policy.normal = Allowance::Frozen;
    let e = registry
        .register(r.clone(), &sign(&owner, &r), NOW, &chain)
        .unwrap_err();
    assert!(
        matches!(
            e,
            RegistryError::Invalid {
                field: "policy.normal",
                ..
            }
        ),
        "{e:?}"
    );
    let frozen_at_emergency = ProtectionPolicy {
        normal: Allowance::Any,
        scheduled: Allowance::Any,
        emergency: Allowance::Frozen,
    };
    assert_eq!(frozen_at_emergency.at(RiskLevel::Normal), Allowance::Any);
    assert_eq!(frozen_at_emergency.at(RiskLevel::Scheduled), Allowance::Any);
    assert_eq!(
        frozen_at_emergency.at(RiskLevel::Emergency),
        Allowance::Frozen
    );
    // A legacy policy frozen at NORMAL does nothing at NORMAL.
    let legacy = ProtectionPolicy {
        normal: Allowance::Frozen,
        ..frozen_at_emergency
    };
    assert_eq!(legacy.at(RiskLevel::Normal), Allowance::Any);
}

#[test]
fn bad_registrations_are_refused_and_change_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let owner = PrivateKeySigner::random();
    let stranger = PrivateKeySigner::random();
    let contract = Address::repeat_byte(1);
    let chain = FakeChain::owning(&[(contract, owner.address())]);
    let mut registry = open(dir.path());
    let r = token(owner.address(), contract);
    // Signed by someone else.
    assert!(matches!(
        registry.register(r.clone(), &sign(&stranger, &r), NOW, &chain),
        Err(RegistryError::BadSignature { .. })
    ));
    // Not a signature at all.
    assert!(matches!(
        registry.register(r.clone(), &[1, 2, 3], NOW, &chain),
        Err(RegistryError::BadSignature { .. })
    ));
    // Signed, then altered.
    let mut altered = r.clone();
    let signature = sign(&owner, &r);
    altered.policy.emergency = Allowance::Any;
    assert!(matches!(
        registry.register(altered, &signature, NOW, &chain),
        Err(RegistryError::BadSignature { .. })
    ));
    // Expired, or valid too long.
    assert!(matches!(
        registry.register(r.clone(), &sign(&owner, &r), NOW + 61, &chain),
        Err(RegistryError::Deadline { .. })
    ));
    let mut long = r.clone();
    long.deadline = NOW + 7200;
    assert!(matches!(
        registry.register(long.clone(), &sign(&owner, &long), NOW, &chain),
        Err(RegistryError::Deadline { .. })
    ));
    long.deadline = u64::MAX;
    assert!(matches!(
        registry.register(long.clone(), &sign(&owner, &long), NOW, &chain),
        Err(RegistryError::Deadline { .. })
    ));
    // Kind and locator must fit; names are bounded.
    let mut wrong = r.clone();
    wrong.kind = AssetKind::Database;
    let e = registry.register(wrong.clone(), &sign(&owner, &wrong), NOW, &chain);
    assert!(
        matches!(
            e,
            Err(RegistryError::Invalid {
                field: "locator",
                ..
            })
        ),
        "{e:?}"
    );
    let mut unnamed = r.clone();
    unnamed.name = String::new();
    assert!(matches!(
        registry.register(unnamed.clone(), &sign(&owner, &unnamed), NOW, &chain),
        Err(RegistryError::Invalid { field: "name", .. })
    ));
    let mut no_vault = r.clone();
    no_vault.vaults.clear();
    assert!(matches!(
        registry.register(no_vault.clone(), &sign(&owner, &no_vault), NOW, &chain),
        Err(RegistryError::Invalid {
            field: "vaults",
            ..
        })
    ));
    assert_eq!(registry.assets().count(), 0);
    registry
        .register(r.clone(), &sign(&owner, &r), NOW, &chain)
        .unwrap();
}

#[test]
fn spammy_owners_are_rate_limited() {
    let dir = tempfile::tempdir().unwrap();
    let owner = PrivateKeySigner::random();
    let mut registry = open(dir.path());
    let limit = Limits::default().per_owner_per_minute;
    for i in 0..limit {
        let r = file(owner.address(), &format!("ipfs://{i}"));
        registry
            .register(r.clone(), &sign(&owner, &r), NOW, &NoContracts)
            .unwrap();
    }
    let r = file(owner.address(), "ipfs://more");
    assert!(matches!(
        registry.register(r.clone(), &sign(&owner, &r), NOW, &NoContracts),
        Err(RegistryError::RateLimited(_))
    ));
    // A minute later it is fine again.
    registry
        .register(r.clone(), &sign(&owner, &r), NOW + 60, &NoContracts)
        .unwrap();
}

/// The attack of issue 13: throwaway keys filling a global quota. Quotas are per owner only.
#[test]
fn throwaway_keys_cannot_exhaust_the_registry_for_a_legitimate_owner() {
    let dir = tempfile::tempdir().unwrap();
    let limits = Limits {
        per_owner: 2,
        ..Limits::default()
    };
    let mut registry = open_with(dir.path(), limits);
    for k in 0..150 {
        let key = PrivateKeySigner::random();
        for i in 0..3 {
            let r = file(key.address(), &format!("spam://{k}/{i}"));
            let result = registry.register(r.clone(), &sign(&key, &r), NOW, &NoContracts);
            if i < 2 {
                result.unwrap();
            } else {
                assert!(matches!(result, Err(RegistryError::Quota { .. })));
            }
        }
    }
    assert_eq!(registry.assets().count(), 300);
    let owner = PrivateKeySigner::random();
    let contract = Address::repeat_byte(1);
    let chain = FakeChain::owning(&[(contract, owner.address())]);
    let r = token(owner.address(), contract);
    registry
        .register(r.clone(), &sign(&owner, &r), NOW, &chain)
        .unwrap();
}

#[test]
fn off_chain_assets_are_namespaced_by_their_registrant() {
    let dir = tempfile::tempdir().unwrap();
    let alice = PrivateKeySigner::random();
    let bob = PrivateKeySigner::random();
    let mut registry = open(dir.path());
    let a = file(alice.address(), "postgres://db.example/ledger");
    let b = file(bob.address(), "postgres://db.example/ledger");
    let id_a = registry
        .register(a.clone(), &sign(&alice, &a), NOW, &NoContracts)
        .unwrap();
    let id_b = registry
        .register(b.clone(), &sign(&bob, &b), NOW, &NoContracts)
        .unwrap();
    assert_ne!(id_a, id_b);
    assert_eq!(
        registry.get(&id_a).unwrap().registration.owner,
        alice.address()
    );
    assert_eq!(
        registry.get(&id_b).unwrap().registration.owner,
        bob.address()
    );
}

#[test]
fn every_kind_has_its_locator() {
    let dir = tempfile::tempdir().unwrap();
    let owner = PrivateKeySigner::random();
    let mut registry = open(dir.path());
    let off = |uri: &str| Locator::OffChain { uri: uri.into() };
    let chain = FakeChain::owning(
        &(1..=4)
            .map(|b| (Address::repeat_byte(b), owner.address()))
            .collect::<Vec<_>>(),
    );
    let kinds = [
        (
            AssetKind::Token,
            Locator::Contract {
                address: Address::repeat_byte(1),
            },
        ),
        (
            AssetKind::Nft,
            Locator::Contract {
                address: Address::repeat_byte(2),
            },
        ),
        (
            AssetKind::ContractData,
            Locator::Contract {
                address: Address::repeat_byte(3),
            },
        ),
        (AssetKind::Database, off("postgres://db.example/ledger")),
        (AssetKind::File, off("ipfs://bafy")),
        (AssetKind::Stream, off("wss://feed.example/prices")),
        (
            AssetKind::Bridge,
            Locator::Bridge {
                address: Address::repeat_byte(4),
                remote_chain_id: 1,
            },
        ),
    ];
    for (i, (kind, locator)) in kinds.into_iter().enumerate() {
        let r = AssetRegistration {
            kind,
            locator,
            deadline: NOW + 10,
            name: format!("asset {i}"),
            ..token(owner.address(), Address::ZERO)
        };
        registry
            .register(r.clone(), &sign(&owner, &r), NOW, &chain)
            .unwrap();
    }
    assert_eq!(registry.assets().count(), 7);
    // Off-chain assets are not in the ordering's lookup table.
    assert_eq!(registry.protection_set().assets.len(), 4);
}

/// Keys for the property tests (signing is the slow part: a few fixed keys).
fn keys() -> &'static [PrivateKeySigner] {
    static KEYS: std::sync::OnceLock<Vec<PrivateKeySigner>> = std::sync::OnceLock::new();
    KEYS.get_or_init(|| (0..4).map(|_| PrivateKeySigner::random()).collect())
}

/// One step of a random history.
#[derive(Clone, Debug)]
enum Op {
    /// Key `actor` registers contract `target` (of six, two protected), owned by key `owner`.
    Register {
        actor: usize,
        target: usize,
        owner: usize,
        frozen: bool,
    },
    /// Key `actor` removes what stands at contract `target`.
    Remove { actor: usize, target: usize },
    /// The contract changes hands.
    Transfer { target: usize, owner: usize },
}

fn op() -> impl proptest::strategy::Strategy<Value = Op> {
    use proptest::prelude::{Strategy, prop_oneof};
    prop_oneof![
        (0..4usize, 0..6usize, 0..4usize, any::<bool>()).prop_map(
            |(actor, target, owner, frozen)| {
                Op::Register {
                    actor,
                    target,
                    owner,
                    frozen,
                }
            }
        ),
        (0..4usize, 0..6usize).prop_map(|(actor, target)| Op::Remove { actor, target }),
        (0..6usize, 0..4usize).prop_map(|(target, owner)| Op::Transfer { target, owner }),
    ]
}

fn target(i: usize) -> Address {
    match i {
        0 => Address::repeat_byte(0xa7),
        1 => ending(0x42, 0x15),
        i => Address::repeat_byte(i as u8),
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 32, ..ProptestConfig::default() })]

    /// Against a model: the first registration of an address stands (only its registrant
    /// updates or removes it), removal only by the registrant, protected addresses never
    /// registered nor in the ordering's table.
    #[test]
    fn first_registration_stands_removal_only_by_owner_protected_never_held(
        ops in proptest::collection::vec(op(), 1..24)
    ) {
        let dir = tempfile::tempdir().unwrap();
        let mut registry = open(dir.path()).with_protected(protected());
        let mut chain = FakeChain::default();
        // The model: who holds the registration at each target.
        let mut model: HashMap<usize, usize> = HashMap::new();
        let keys = keys();
        for (step, op) in ops.into_iter().enumerate() {
            let now = NOW + step as u64 * 61; // past every per-minute limit
            match op {
                Op::Transfer { target: t, owner } => {
                    chain.owners.insert(target(t), keys[owner].address());
                }
                Op::Register { actor, target: t, owner, frozen } => {
                    chain.owners.entry(target(t)).or_insert(keys[owner].address());
                    let key = &keys[actor];
                    let mut r = token(key.address(), target(t));
                    r.deadline = now + 60;
                    if frozen {
                        r.policy.emergency = Allowance::Frozen;
                    }
                    let result = registry.register(r.clone(), &sign(key, &r), now, &chain);
                    let controls = chain.owners.get(&target(t)) == Some(&key.address());
                    let expected = t >= 2 && controls && model.get(&t).is_none_or(|h| *h == actor);
                    prop_assert_eq!(result.is_ok(), expected, "{:?}", result);
                    if expected {
                        model.insert(t, actor);
                    }
                }
                Op::Remove { actor, target: t } => {
                    let Some(asset) = registry.by_address(&target(t)).cloned() else {
                        prop_assert!(!model.contains_key(&t));
                        continue;
                    };
                    let removal = AssetRemoval { id: asset.id, owner: keys[actor].address(), deadline: now + 60 };
                    let result = registry.remove(&removal, &sign_removal(&keys[actor], &removal), now, &chain);
                    prop_assert_eq!(result.is_ok(), model.get(&t) == Some(&actor), "{:?}", result);
                    if result.is_ok() {
                        model.remove(&t);
                    }
                }
            }
            let set = registry.protection_set();
            prop_assert!(!set.assets.contains_key(&target(0)));
            prop_assert!(!set.assets.contains_key(&target(1)));
            for t in 0..6 {
                let holder = registry.by_address(&target(t)).map(|a| a.registration.owner);
                prop_assert_eq!(holder, model.get(&t).map(|k| keys[*k].address()));
            }
        }
    }

    /// Whatever a (version 1) file holds, protected addresses never reach the ordering.
    #[test]
    fn protected_addresses_in_the_file_never_reach_the_ordering(
        addresses in proptest::collection::vec((any::<u8>(), any::<bool>()), 1..16)
    ) {
        let dir = tempfile::tempdir().unwrap();
        let legacy: Vec<Asset> = addresses.iter().enumerate().map(|(i, (b, predeploy))| {
            let address = if *predeploy { ending(0x42, *b) } else { Address::repeat_byte(*b) };
            let mut r = token(Address::repeat_byte(9), address);
            r.name = format!("a{i}");
            r.policy.emergency = Allowance::Frozen;
            Asset { id: registration_id(&r), registration: r, registered_at: NOW, updated_at: None, approval: Approval::Legacy }
        }).collect();
        store::SealedFile::new(dir.path().join("registry.sealed"), Registry::key_from_secret(&[7; 32]))
            .save_v1(&legacy)
            .unwrap();
        let registry = open(dir.path()).with_protected(protected());
        let set = registry.protection_set();
        for address in set.assets.keys() {
            prop_assert!(!registry.protected().contains(address));
        }
        for vaults in set.assets.values().map(|a| &a.vaults) {
            prop_assert!(vaults.iter().all(|v| !registry.protected().contains(v)));
        }
    }

    #[test]
    fn corrupt_files_are_refused_without_panicking(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("registry.sealed"), &bytes).unwrap();
        let opened = Registry::open(
            dir.path().join("registry.sealed"),
            Registry::key_from_secret(&[7; 32]),
            CHAIN,
            Limits::default(),
        );
        prop_assert!(opened.is_err());
    }
}
