//! Arbitrary bytes as the params of `aegis_registerAsset` (`[registration, signature]`):
//! whatever deserializes is checked by the registry without panicking, and a refused
//! registration leaves the registry unchanged.
//!
//! `cargo +nightly fuzz run registration` (from `crates/registry`).

#![no_main]

use aegis_registry::{AssetRegistration, Registry};
use alloy_primitives::Signature;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok((registration, signature)) =
        serde_json::from_slice::<(AssetRegistration, Signature)>(data)
    else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let mut registry = Registry::open(
        dir.path().join("r"),
        Registry::key_from_secret(&[1; 32]),
        901,
        Default::default(),
    )
    .expect("empty registry");
    let now = registration.deadline;
    if registry.register(registration, &signature, now).is_err() {
        assert_eq!(registry.assets().count(), 0);
    }
});
