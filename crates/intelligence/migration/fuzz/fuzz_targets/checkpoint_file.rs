//! Arbitrary bytes as a checkpoint file: parsing and self-verification never panic.
//!
//! `cargo +nightly fuzz run checkpoint_file` (from `crates/migration`).

#![no_main]

use aegis_migration::Checkpoint;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(checkpoint) = serde_json::from_slice::<Checkpoint>(data) {
        let _ = checkpoint.verify_self();
    }
});
