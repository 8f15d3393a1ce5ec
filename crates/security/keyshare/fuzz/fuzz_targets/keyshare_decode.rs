//! Decodes arbitrary bytes as each key-share message (challenge, join request, key share);
//! whatever decodes must encode back to the same bytes (the formats are canonical) and pass
//! its own validation. Nothing may panic.
//!
//! `cargo +nightly fuzz run keyshare_decode` (from `crates/security/keyshare`). Seed the corpus
//! with the encodings of a genuine exchange (`tests/common`) for faster coverage.

#![no_main]

use aegis_keyshare::{Challenge, JoinRequest, KeyShare};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(m) = Challenge::from_bytes(data) {
        assert_eq!(m.to_bytes(), data, "challenge encoding is not canonical");
        assert!(m.validate().is_ok());
    }
    if let Ok(m) = JoinRequest::from_bytes(data) {
        assert_eq!(m.to_bytes(), data, "join request encoding is not canonical");
        assert!(m.validate().is_ok());
        let _ = m.report_data_binding();
    }
    if let Ok(m) = KeyShare::from_bytes(data) {
        assert_eq!(m.to_bytes(), data, "key share encoding is not canonical");
        assert!(m.validate().is_ok());
        let _ = m.binding(&m.nonce);
    }
});
