use super::*;
use alloy_signer::SignerSync;
use alloy_signer_local::PrivateKeySigner;

const NOW: u64 = 1_800_000_000;

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

fn sign(signer: &PrivateKeySigner, r: &AssetRegistration) -> Signature {
    signer
        .sign_message_sync(registration_digest(901, r).as_slice())
        .unwrap()
}

fn open(dir: &std::path::Path) -> Registry {
    Registry::open(
        dir.join("registry.sealed"),
        Registry::key_from_secret(&[7; 32]),
        901,
        Limits::default(),
    )
    .unwrap()
}

#[test]
fn signed_registrations_persist_sealed_and_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let owner = PrivateKeySigner::random();
    let mut registry = open(dir.path());
    let r = token(owner.address(), Address::repeat_byte(1));
    let id = registry
        .register(r.clone(), &sign(&owner, &r), NOW)
        .unwrap();
    assert_eq!(id, asset_id(AssetKind::Token, &r.locator));
    // Sealed: the name is not in the file.
    let raw = std::fs::read(dir.path().join("registry.sealed")).unwrap();
    assert!(!raw.windows(7).any(|w| w == b"Wrapped"));
    drop(registry);
    let reopened = open(dir.path());
    assert_eq!(reopened.get(&id).unwrap().registration, r);
    // Another key cannot open it.
    let other = Registry::open(
        dir.path().join("registry.sealed"),
        Registry::key_from_secret(&[8; 32]),
        901,
        Limits::default(),
    );
    assert!(matches!(other, Err(RegistryError::Storage { .. })));
    let set = reopened.protection_set();
    assert!(set.assets.contains_key(&Address::repeat_byte(1)));
    assert!(set.all_vaults.contains(&Address::repeat_byte(0xaa)));
}

#[test]
fn bad_registrations_are_refused_and_change_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let owner = PrivateKeySigner::random();
    let stranger = PrivateKeySigner::random();
    let mut registry = open(dir.path());
    let r = token(owner.address(), Address::repeat_byte(1));
    // Signed by someone else.
    assert!(matches!(
        registry.register(r.clone(), &sign(&stranger, &r), NOW),
        Err(RegistryError::BadSignature { .. })
    ));
    // Signed, then altered.
    let mut altered = r.clone();
    let signature = sign(&owner, &r);
    altered.policy.emergency = Allowance::Any;
    assert!(matches!(
        registry.register(altered, &signature, NOW),
        Err(RegistryError::BadSignature { .. })
    ));
    // Expired, or valid too long.
    assert!(matches!(
        registry.register(r.clone(), &sign(&owner, &r), NOW + 61),
        Err(RegistryError::Deadline { .. })
    ));
    let mut long = r.clone();
    long.deadline = NOW + 7200;
    assert!(matches!(
        registry.register(long.clone(), &sign(&owner, &long), NOW),
        Err(RegistryError::Deadline { .. })
    ));
    // Kind and locator must fit; names are bounded.
    let mut wrong = r.clone();
    wrong.kind = AssetKind::Database;
    let e = registry.register(wrong.clone(), &sign(&owner, &wrong), NOW);
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
        registry.register(unnamed.clone(), &sign(&owner, &unnamed), NOW),
        Err(RegistryError::Invalid { field: "name", .. })
    ));
    let mut no_vault = r.clone();
    no_vault.vaults.clear();
    assert!(matches!(
        registry.register(no_vault.clone(), &sign(&owner, &no_vault), NOW),
        Err(RegistryError::Invalid {
            field: "vaults",
            ..
        })
    ));
    assert_eq!(registry.assets().count(), 0);
    // Once is fine, twice is not.
    registry
        .register(r.clone(), &sign(&owner, &r), NOW)
        .unwrap();
    assert!(matches!(
        registry.register(r.clone(), &sign(&owner, &r), NOW),
        Err(RegistryError::AlreadyRegistered(_))
    ));
}

#[test]
fn spammy_owners_are_rate_limited() {
    let dir = tempfile::tempdir().unwrap();
    let owner = PrivateKeySigner::random();
    let mut registry = open(dir.path());
    let limit = Limits::default().per_owner_per_minute;
    for i in 0..limit {
        let r = token(owner.address(), Address::with_last_byte(i as u8 + 1));
        registry
            .register(r.clone(), &sign(&owner, &r), NOW)
            .unwrap();
    }
    let r = token(owner.address(), Address::with_last_byte(200));
    assert!(matches!(
        registry.register(r.clone(), &sign(&owner, &r), NOW),
        Err(RegistryError::RateLimited(_))
    ));
    // A minute later it is fine again.
    registry
        .register(r.clone(), &sign(&owner, &r), NOW + 60)
        .unwrap();
}

#[test]
fn every_kind_has_its_locator() {
    let dir = tempfile::tempdir().unwrap();
    let owner = PrivateKeySigner::random();
    let mut registry = open(dir.path());
    let off = |uri: &str| Locator::OffChain { uri: uri.into() };
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
            .register(r.clone(), &sign(&owner, &r), NOW)
            .unwrap();
    }
    assert_eq!(registry.assets().count(), 7);
    // Off-chain assets are not in the ordering's lookup table.
    assert_eq!(registry.protection_set().assets.len(), 4);
}

proptest::proptest! {
    #[test]
    fn corrupt_files_are_refused_without_panicking(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..200)) {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("registry.sealed"), &bytes).unwrap();
        let opened = Registry::open(
            dir.path().join("registry.sealed"),
            Registry::key_from_secret(&[7; 32]),
            901,
            Limits::default(),
        );
        proptest::prop_assert!(opened.is_err());
    }
}
