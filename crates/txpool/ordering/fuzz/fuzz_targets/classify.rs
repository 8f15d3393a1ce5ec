//! Arbitrary bytes as a pool transaction: what decodes is classified against a registry with a
//! protected token, at EMERGENCY, without panicking; a transaction classified as protected
//! names the token somewhere.
//!
//! `cargo +nightly fuzz run classify` (from `crates/ordering`).

#![no_main]

use aegis_executor::PoolTx;
use aegis_ordering::{Classifier, OrderingContext};
use aegis_registry::{ProtectedAsset, ProtectionSet};
use alloy_primitives::{Address, B256, Bytes};
use libfuzzer_sys::fuzz_target;
use std::sync::Arc;

const TOKEN: Address = Address::repeat_byte(0x70);

fuzz_target!(|data: &[u8]| {
    let Ok(tx) = PoolTx::decode(Bytes::copy_from_slice(data)) else {
        return;
    };
    let mut protection = ProtectionSet::default();
    protection.assets.insert(
        TOKEN,
        ProtectedAsset {
            id: B256::repeat_byte(1),
            policy: Default::default(),
            vaults: [Address::repeat_byte(0x7a)].into(),
        },
    );
    let context = OrderingContext {
        protection: Arc::new(protection),
        level: aegis_qrm::RiskLevel::Emergency,
        migration_targets: Default::default(),
    };
    let class = Classifier::new(&context).classify(&tx);
    if class.protected {
        assert!(data.windows(20).any(|w| w == TOKEN.as_slice()));
    }
});
