//! What a feed delivers.

use crate::QrmError;
use serde::Deserialize;
use std::collections::BTreeMap;

/// Largest report a feed may deliver.
pub const MAX_REPORT_BYTES: usize = 64 * 1024;

/// A feed's observation: `{"observedAt": <unix seconds>, "indicators": {"logical_qubits": 120}}`.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ThreatReport {
    /// When the indicators were observed (unix seconds).
    pub observed_at: u64,
    /// Indicator values by name (the names `[quantum.indicators]` configures).
    pub indicators: BTreeMap<String, f64>,
}

impl ThreatReport {
    /// Parses a JSON report (at most [`MAX_REPORT_BYTES`]).
    pub fn parse(bytes: &[u8]) -> Result<Self, QrmError> {
        if bytes.len() > MAX_REPORT_BYTES {
            return Err(QrmError::MalformedReport(format!(
                "{} bytes, more than {MAX_REPORT_BYTES}",
                bytes.len()
            )));
        }
        serde_json::from_slice(bytes).map_err(|e| QrmError::MalformedReport(e.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_refuses_malformed_reports() {
        let r = ThreatReport::parse(br#"{"observedAt": 5, "indicators": {"logical_qubits": 120}}"#)
            .unwrap();
        assert_eq!(r.observed_at, 5);
        assert_eq!(r.indicators["logical_qubits"], 120.0);
        for bad in [
            &b"{}"[..],
            b"not json",
            br#"{"observedAt": -1, "indicators": {}}"#,
            br#"{"observedAt": 1, "indicators": {"a": "high"}}"#,
            br#"{"observedAt": 1, "indicators": {}, "extra": 1}"#,
        ] {
            assert!(matches!(
                ThreatReport::parse(bad),
                Err(QrmError::MalformedReport(_))
            ));
        }
        let huge = vec![b' '; MAX_REPORT_BYTES + 1];
        assert!(ThreatReport::parse(&huge).is_err());
    }
}
