//! Parses arbitrary bytes as a TDX quote; whatever parses is also verified against a fixed
//! development root. Neither may panic.
//!
//! `cargo fuzz run quote_parse` (from `crates/tee`). Seed the corpus with
//! `../tests/fixtures/tdx_quote` and a simulator quote for faster coverage.

#![no_main]

use aegis_tee::{Quote, Simulator, verify_dev};
use libfuzzer_sys::fuzz_target;
use std::sync::LazyLock;

/// The development root of the simulator with seed `[0x42; 32]`.
static ROOT: LazyLock<[u8; 64]> = LazyLock::new(|| match Simulator::new([0x42; 32]) {
    Ok(sim) => sim.dev_root_public_key(),
    Err(e) => panic!("simulator: {e}"),
});

fuzz_target!(|data: &[u8]| {
    if let Ok(quote) = Quote::parse(data) {
        assert_eq!(quote.as_bytes(), data);
        assert!(quote.auth_data_end() <= data.len());
        let _ = verify_dev(data, &ROOT);
    }
});
