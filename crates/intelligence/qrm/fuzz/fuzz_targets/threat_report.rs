//! Arbitrary bytes as a threat feed's report: parsing never panics, and whatever parses
//! is either refused by the monitor or moves the score within 0..=10000.
//!
//! `cargo +nightly fuzz run threat_report` (from `crates/qrm`).

#![no_main]

use aegis_qrm::{MAX_SCORE, Monitor, QrmConfig, ThreatReport};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(report) = ThreatReport::parse(data) {
        let now = report.observed_at;
        let mut monitor = Monitor::new(QrmConfig::default()).expect("default config is valid");
        if monitor.ingest("fuzz", report, now).is_ok() {
            monitor.recompute(now);
            assert!(monitor.status().score <= MAX_SCORE);
        }
    }
});
