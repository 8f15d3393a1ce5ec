//! Arbitrary bytes as the params of `aegis_registerAsset` (`[registration, signature]`):
//! whatever deserializes is checked by the registry without panicking, a refused registration
//! leaves the registry unchanged, and nothing is registered over a protected address or
//! without control of its contract (the chain here has no contracts).
//!
//! `cargo +nightly fuzz run registration` (from `crates/registry`).

#![no_main]

use aegis_registry::{AssetRegistration, NoContracts, ProtectedAddresses, Registry};
use alloy_primitives::Bytes;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok((registration, signature)) = serde_json::from_slice::<(AssetRegistration, Bytes)>(data)
    else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let mut protected = ProtectedAddresses::new();
    protected.insert_range(
        "0x4200000000000000000000000000000000000000".parse().unwrap(),
        "0x42000000000000000000000000000000000007ff".parse().unwrap(),
    );
    let mut registry = Registry::open(
        dir.path().join("r"),
        Registry::key_from_secret(&[1; 32]),
        901,
        Default::default(),
    )
    .expect("empty registry")
    .with_protected(protected);
    let now = registration.deadline;
    let on_chain = registration.locator.address();
    match registry.register(registration, &signature, now, &NoContracts) {
        Ok(_) => {
            // Without contracts, only off-chain assets can be registered.
            assert!(on_chain.is_none());
        }
        Err(_) => assert_eq!(registry.assets().count(), 0),
    }
    assert!(registry.protection_set().assets.is_empty());
});
