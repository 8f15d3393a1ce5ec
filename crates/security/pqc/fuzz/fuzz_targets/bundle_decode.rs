//! Decodes arbitrary bytes as a signature bundle; what decodes is verified and must encode back
//! to the same bytes (the format is canonical). Nothing may panic.
//!
//! `cargo +nightly fuzz run bundle_decode` (from `crates/pqc`).

#![no_main]

use aegis_pqc::SignatureBundle;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(bundle) = SignatureBundle::decode(data) {
        assert_eq!(bundle.encode(), data, "decode/encode is not canonical");
        let _ = bundle.verify();
    }
});
