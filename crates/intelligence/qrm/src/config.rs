//! The `[quantum]` section of `phala.toml`.

use crate::{MAX_SCORE, QrmError, RiskLevel};
use serde::Deserialize;
use std::collections::BTreeMap;

/// How one indicator becomes a sub-score.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct IndicatorConfig {
    /// Its weight in a feed's score.
    pub weight: f64,
    /// The value at which the sub-score reaches 10000 (it grows linearly up to there).
    pub saturation: f64,
}

/// Where a feed's reports come from.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(tag = "kind", rename_all = "lowercase", deny_unknown_fields)]
pub enum FeedSource {
    /// A JSON report in a local file, read again when it changes.
    File {
        /// The file.
        path: std::path::PathBuf,
    },
    /// A JSON report served over HTTP(S) (GET).
    Http {
        /// The URL.
        url: String,
    },
    /// `QRMSOracle.riskState()` on the chain (the `oracle_score` indicator).
    Oracle,
}

/// One configured feed. (Unknown keys reach [`FeedSource`], which refuses them: serde cannot
/// deny unknown fields on a struct with a flattened part.)
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
pub struct FeedConfig {
    /// Its name in the status and metrics.
    pub name: String,
    /// Where it reads from.
    #[serde(flatten)]
    pub source: FeedSource,
    /// Seconds between reads.
    #[serde(default = "default_poll")]
    pub interval_secs: u64,
}

fn default_poll() -> u64 {
    10
}

/// The monitor's configuration (`[quantum]`).
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct QrmConfig {
    /// Score from which a key rotation is scheduled.
    #[serde(alias = "scheduled_rotation_threshold")]
    pub risk_scheduled: u16,
    /// Score from which the node acts at once.
    #[serde(alias = "emergency_threshold")]
    pub risk_emergency: u16,
    /// How far below a threshold the score must fall before the level drops.
    pub hysteresis: u16,
    /// A feed's report counts for this long after it was observed.
    pub max_age_secs: u64,
    /// Fresh feeds needed to recompute the score.
    pub min_feeds: usize,
    /// How far ahead of the node's clock a report may be.
    pub max_clock_skew_secs: u64,
    /// Seconds from entering SCHEDULED to the planned key rotation.
    pub rotation_delay_secs: u64,
    /// Known indicators.
    pub indicators: BTreeMap<String, IndicatorConfig>,
    /// The feeds the node reads (the admin RPC feed always exists).
    pub feeds: Vec<FeedConfig>,
}

impl Default for QrmConfig {
    fn default() -> Self {
        let indicator = |weight, saturation| IndicatorConfig { weight, saturation };
        Self {
            risk_scheduled: 6000,
            risk_emergency: 9000,
            hysteresis: 500,
            max_age_secs: 24 * 3600,
            min_feeds: 1,
            max_clock_skew_secs: 300,
            rotation_delay_secs: 3600,
            indicators: BTreeMap::from([
                // Logical qubits for Shor on 256-bit ECDLP: about 2,330 (Roetteler et al. 2017).
                ("logical_qubits".into(), indicator(0.4, 2330.0)),
                // Severity 0..=10000 of published cryptanalysis against the chain's schemes.
                ("cryptanalysis".into(), indicator(0.3, 10_000.0)),
                // Severity 0..=10000 of standards deprecating ECDSA (e.g. NIST IR 8547 dates).
                ("deprecations".into(), indicator(0.2, 10_000.0)),
                // Observed key-exposure events.
                ("key_exposures".into(), indicator(0.1, 100.0)),
                // The on-chain oracle's score, taken as is.
                ("oracle_score".into(), indicator(1.0, 10_000.0)),
            ]),
            feeds: Vec::new(),
        }
    }
}

impl QrmConfig {
    /// Checks ranges; errors name the key.
    pub fn validate(&self) -> Result<(), QrmError> {
        let err = |key: &str, reason: String| {
            Err(QrmError::Config {
                key: format!("quantum.{key}"),
                reason,
            })
        };
        if self.risk_emergency > MAX_SCORE {
            return err(
                "risk_emergency",
                format!("{} is above {MAX_SCORE}", self.risk_emergency),
            );
        }
        if self.risk_scheduled == 0 || self.risk_scheduled >= self.risk_emergency {
            return err(
                "risk_scheduled",
                format!(
                    "{} must be above 0 and below risk_emergency ({})",
                    self.risk_scheduled, self.risk_emergency
                ),
            );
        }
        if self.hysteresis >= self.risk_scheduled {
            return err(
                "hysteresis",
                format!(
                    "{} must be below risk_scheduled ({})",
                    self.hysteresis, self.risk_scheduled
                ),
            );
        }
        if self.min_feeds == 0 {
            return err("min_feeds", "must be at least 1".into());
        }
        if self.max_age_secs == 0 {
            return err("max_age_secs", "must be at least 1".into());
        }
        if self.indicators.is_empty() {
            return err("indicators", "at least one indicator is needed".into());
        }
        for (name, i) in &self.indicators {
            if !(i.weight.is_finite() && i.weight > 0.0) {
                return err(
                    &format!("indicators.{name}.weight"),
                    format!("{} must be a positive number", i.weight),
                );
            }
            if !(i.saturation.is_finite() && i.saturation > 0.0) {
                return err(
                    &format!("indicators.{name}.saturation"),
                    format!("{} must be a positive number", i.saturation),
                );
            }
        }
        let mut names = std::collections::BTreeSet::new();
        for (index, feed) in self.feeds.iter().enumerate() {
            if feed.name.is_empty() || feed.name == crate::ADMIN_FEED || !names.insert(&feed.name) {
                return err(
                    &format!("feeds[{index}].name"),
                    format!("{:?} is empty, reserved or used twice", feed.name),
                );
            }
            if feed.interval_secs == 0 {
                return err(
                    &format!("feeds[{index}].interval_secs"),
                    "must be at least 1".into(),
                );
            }
            if let FeedSource::Http { url } = &feed.source
                && !(url.starts_with("http://") || url.starts_with("https://"))
            {
                return err(
                    &format!("feeds[{index}].url"),
                    format!("{url:?} is not an http(s) URL"),
                );
            }
        }
        Ok(())
    }

    /// A report's score: the weighted mean of its indicators' sub-scores.
    pub fn score(&self, indicators: &BTreeMap<String, f64>) -> Result<u16, QrmError> {
        if indicators.is_empty() {
            return Err(QrmError::MalformedReport("no indicators".into()));
        }
        let (mut sum, mut weights) = (0.0, 0.0);
        for (name, &value) in indicators {
            let config = self
                .indicators
                .get(name)
                .ok_or_else(|| QrmError::UnknownIndicator(name.clone()))?;
            if !(value.is_finite() && value >= 0.0) {
                return Err(QrmError::BadValue {
                    name: name.clone(),
                    value,
                });
            }
            let sub = (value / config.saturation).min(1.0) * f64::from(MAX_SCORE);
            sum += config.weight * sub;
            weights += config.weight;
        }
        Ok((sum / weights).round().clamp(0.0, f64::from(MAX_SCORE)) as u16)
    }

    /// The level by thresholds alone.
    pub fn level_for(&self, score: u16) -> RiskLevel {
        if score >= self.risk_emergency {
            RiskLevel::Emergency
        } else if score >= self.risk_scheduled {
            RiskLevel::Scheduled
        } else {
            RiskLevel::Normal
        }
    }

    /// The level after `from` at `score`: up at once, down only past the hysteresis band.
    pub fn next_level(&self, from: RiskLevel, score: u16) -> RiskLevel {
        let raw = self.level_for(score);
        if raw >= from {
            return raw;
        }
        self.level_for(score.saturating_add(self.hysteresis))
            .min(from)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_values_are_named() {
        let check = |c: QrmConfig, key: &str| {
            let e = c.validate().unwrap_err().to_string();
            assert!(e.contains(key), "{e} does not name {key}");
        };
        check(
            QrmConfig {
                risk_scheduled: 9000,
                ..Default::default()
            },
            "quantum.risk_scheduled",
        );
        check(
            QrmConfig {
                risk_emergency: 10_001,
                ..Default::default()
            },
            "quantum.risk_emergency",
        );
        check(
            QrmConfig {
                hysteresis: 7000,
                ..Default::default()
            },
            "quantum.hysteresis",
        );
        let mut c = QrmConfig::default();
        c.indicators.get_mut("cryptanalysis").unwrap().weight = -1.0;
        check(c, "quantum.indicators.cryptanalysis.weight");
        let mut c = QrmConfig::default();
        c.feeds.push(FeedConfig {
            name: "x".into(),
            source: FeedSource::Http {
                url: "ftp://x".into(),
            },
            interval_secs: 5,
        });
        check(c, "quantum.feeds[0].url");
        assert!(QrmConfig::default().validate().is_ok());
    }
}
