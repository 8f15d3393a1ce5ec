//! The quantum resistance monitor: how close is a quantum attack on the chain's signatures?
//!
//! Threat feeds (a local file, an HTTP JSON endpoint, the admin RPC, the on-chain `QRMSOracle`)
//! each deliver a [`ThreatReport`]: indicator values such as the largest demonstrated
//! logical-qubit count. Each indicator maps to a sub-score in `0..=10000` (its value over a
//! configured saturation point), and a feed's score is the weighted mean of its sub-scores.
//! The risk score is the **median** of the fresh feeds' scores, so one bad feed cannot move it
//! alone; stale feeds (older than `max_age`) do not count, and with fewer than `min_feeds` fresh
//! feeds the previous score stays in force.
//!
//! The score gives a level: NORMAL, SCHEDULED (from `risk_scheduled`, default 6000) and
//! EMERGENCY (from `risk_emergency`, default 9000). Levels rise at once and fall only when the
//! score has dropped `hysteresis` below the threshold, so a score hovering at a threshold does
//! not flap. What a level change does (plan a key rotation, rotate now, protect assets) is the
//! node's business: [`Monitor::recompute`] reports the change.

mod config;
mod report;

pub use config::{FeedConfig, FeedSource, IndicatorConfig, QrmConfig};
pub use report::{MAX_REPORT_BYTES, ThreatReport};

use serde::Serialize;
use std::collections::BTreeMap;

/// The highest risk score.
pub const MAX_SCORE: u16 = 10_000;

/// The name of the feed the admin RPC reports into.
pub const ADMIN_FEED: &str = "admin";

/// Errors of the monitor: bad configuration or bad feed data.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum QrmError {
    /// A configuration value is out of range; names the key.
    #[error("invalid config {key}: {reason}")]
    Config {
        /// The key, e.g. `quantum.risk_scheduled`.
        key: String,
        /// Why.
        reason: String,
    },
    /// A feed delivered something that is not a valid report.
    #[error("malformed threat report: {0}")]
    MalformedReport(String),
    /// A report names an indicator the configuration does not know.
    #[error("unknown indicator {0:?}")]
    UnknownIndicator(String),
    /// An indicator value is negative, NaN or infinite.
    #[error("indicator {name:?}: value {value} is not a finite non-negative number")]
    BadValue {
        /// The indicator.
        name: String,
        /// The value.
        value: f64,
    },
    /// A report claims to be from the future.
    #[error("report observed at {observed_at} is ahead of the clock ({now})")]
    FromTheFuture {
        /// Its time.
        observed_at: u64,
        /// The clock.
        now: u64,
    },
    /// A report older than the feed's previous one.
    #[error("report observed at {observed_at} is older than the feed's last ({last})")]
    OutOfOrder {
        /// Its time.
        observed_at: u64,
        /// The previous report's time.
        last: u64,
    },
}

/// The risk level, as `QRMSOracle` numbers it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RiskLevel {
    /// Below the scheduled threshold.
    #[default]
    Normal = 0,
    /// Key rotation planned.
    Scheduled = 1,
    /// Rotate now, refuse ECDSA-only paths, protect assets.
    Emergency = 2,
}

/// The monitor's current output, as its consumers (the anchor's oracle reports and
/// emergency commitments) take it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RiskSignal {
    /// The score to report.
    pub score: u16,
    /// The level: at EMERGENCY a commitment without post-quantum signature hashes is refused.
    pub level: RiskLevel,
}

/// A level change [`Monitor::recompute`] found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LevelChange {
    /// The level before.
    pub from: RiskLevel,
    /// The level now.
    pub to: RiskLevel,
    /// The score that moved it.
    pub score: u16,
}

/// One feed's state.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FeedStatus {
    /// The feed's name.
    pub name: String,
    /// Its score from its last valid report.
    pub score: Option<u16>,
    /// When that report was observed (unix seconds).
    pub observed_at: Option<u64>,
    /// Whether that report counts (is younger than `max_age`).
    pub fresh: bool,
    /// The last error, if the feed's latest delivery was refused.
    pub last_error: Option<String>,
}

/// The monitor's view, as `aegis_getRiskStatus` shows it.
#[derive(Clone, Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RiskStatus {
    /// The score, `0..=10000`.
    pub score: u16,
    /// The level.
    pub level: RiskLevel,
    /// When the level last changed (unix seconds; 0: never).
    pub level_since: u64,
    /// When the score was last recomputed from enough fresh feeds (0: never).
    pub updated_at: u64,
    /// Fresh feeds at the last recomputation.
    pub fresh_feeds: usize,
    /// Every feed.
    pub feeds: Vec<FeedStatus>,
}

#[derive(Clone, Debug, Default)]
struct Feed {
    report: Option<(ThreatReport, u16)>,
    last_error: Option<String>,
}

/// The monitor: feeds in, score and level out.
#[derive(Debug)]
pub struct Monitor {
    config: QrmConfig,
    feeds: BTreeMap<String, Feed>,
    status: RiskStatus,
    /// Scratch space for the median, kept to avoid an allocation per recomputation.
    scores: Vec<u16>,
}

impl Monitor {
    /// A monitor with a validated `config`, at score 0 (NORMAL) until feeds report.
    pub fn new(config: QrmConfig) -> Result<Self, QrmError> {
        config.validate()?;
        let status = RiskStatus::default();
        // Exported from the start, so a dashboard shows NORMAL rather than nothing.
        metrics::gauge!("aegis_risk_score").set(f64::from(status.score));
        metrics::gauge!("aegis_risk_level").set(status.level as u8 as f64);
        Ok(Self {
            config,
            feeds: BTreeMap::new(),
            status,
            scores: Vec::new(),
        })
    }

    /// The configuration.
    pub fn config(&self) -> &QrmConfig {
        &self.config
    }

    /// The current status.
    pub fn status(&self) -> &RiskStatus {
        &self.status
    }

    /// Accepts `report` from `feed` (checked against the configured indicators and the clock
    /// `now`); a refused report leaves the feed's previous one in force.
    pub fn ingest(&mut self, feed: &str, report: ThreatReport, now: u64) -> Result<u16, QrmError> {
        let result = self.score_report(feed, &report, now);
        let entry = self.feeds.entry(feed.to_owned()).or_default();
        match result {
            Ok(score) => {
                entry.report = Some((report, score));
                entry.last_error = None;
                Ok(score)
            }
            Err(error) => {
                metrics::counter!("aegis_qrm_feed_errors_total", "feed" => feed.to_owned())
                    .increment(1);
                entry.last_error = Some(error.to_string());
                Err(error)
            }
        }
    }

    /// Records that `feed` could not be read (e.g. an HTTP error); its last report stays.
    pub fn record_error(&mut self, feed: &str, error: impl std::fmt::Display) {
        metrics::counter!("aegis_qrm_feed_errors_total", "feed" => feed.to_owned()).increment(1);
        self.feeds.entry(feed.to_owned()).or_default().last_error = Some(error.to_string());
    }

    fn score_report(&self, feed: &str, report: &ThreatReport, now: u64) -> Result<u16, QrmError> {
        if report.observed_at > now + self.config.max_clock_skew_secs {
            return Err(QrmError::FromTheFuture {
                observed_at: report.observed_at,
                now,
            });
        }
        if let Some((last, _)) = self.feeds.get(feed).and_then(|f| f.report.as_ref())
            && report.observed_at < last.observed_at
        {
            return Err(QrmError::OutOfOrder {
                observed_at: report.observed_at,
                last: last.observed_at,
            });
        }
        self.config.score(&report.indicators)
    }

    /// Recomputes the score and level at time `now`; returns the level change, if any.
    pub fn recompute(&mut self, now: u64) -> Option<LevelChange> {
        let max_age = self.config.max_age_secs;
        self.scores.clear();
        self.status.feeds.clear();
        for (name, feed) in &self.feeds {
            let fresh = feed
                .report
                .as_ref()
                .is_some_and(|(r, _)| now.saturating_sub(r.observed_at) <= max_age);
            if fresh && let Some((_, score)) = &feed.report {
                self.scores.push(*score);
            }
            self.status.feeds.push(FeedStatus {
                name: name.clone(),
                score: feed.report.as_ref().map(|(_, s)| *s),
                observed_at: feed.report.as_ref().map(|(r, _)| r.observed_at),
                fresh,
                last_error: feed.last_error.clone(),
            });
        }
        self.status.fresh_feeds = self.scores.len();
        if self.scores.len() < self.config.min_feeds {
            // Too few fresh feeds: the previous score and level stay in force.
            return None;
        }
        let score = median(&mut self.scores);
        self.status.score = score;
        self.status.updated_at = now;
        metrics::gauge!("aegis_risk_score").set(f64::from(score));
        let from = self.status.level;
        let to = self.config.next_level(from, score);
        if to == from {
            return None;
        }
        self.status.level = to;
        self.status.level_since = now;
        metrics::gauge!("aegis_risk_level").set(to as u8 as f64);
        metrics::counter!("aegis_risk_level_changes_total").increment(1);
        Some(LevelChange { from, to, score })
    }
}

/// The median of `scores` (non-empty), the mean of the middle two for an even count.
fn median(scores: &mut [u16]) -> u16 {
    scores.sort_unstable();
    let mid = scores.len() / 2;
    if scores.len() % 2 == 1 {
        scores[mid]
    } else {
        ((u32::from(scores[mid - 1]) + u32::from(scores[mid])) / 2) as u16
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn report(at: u64, pairs: &[(&str, f64)]) -> ThreatReport {
        ThreatReport {
            observed_at: at,
            indicators: pairs.iter().map(|(k, v)| (k.to_string(), *v)).collect(),
        }
    }

    fn severity(at: u64, score: f64) -> ThreatReport {
        report(at, &[("cryptanalysis", score)])
    }

    #[test]
    fn one_bad_feed_cannot_move_the_median() {
        let mut m = Monitor::new(QrmConfig::default()).unwrap();
        m.ingest("a", severity(100, 1000.0), 100).unwrap();
        m.ingest("b", severity(100, 1200.0), 100).unwrap();
        m.ingest("evil", severity(100, 10_000.0), 100).unwrap();
        assert_eq!(m.recompute(100), None);
        assert_eq!(m.status().score, 1200);
        assert_eq!(m.status().level, RiskLevel::Normal);
    }

    #[test]
    fn stale_feeds_do_not_count_and_too_few_keep_the_previous_state() {
        let config = QrmConfig {
            min_feeds: 2,
            ..QrmConfig::default()
        };
        let max_age = config.max_age_secs;
        let mut m = Monitor::new(config).unwrap();
        m.ingest("a", severity(1000, 7000.0), 1000).unwrap();
        m.ingest("b", severity(1000, 7000.0), 1000).unwrap();
        assert_eq!(
            m.recompute(1000),
            Some(LevelChange {
                from: RiskLevel::Normal,
                to: RiskLevel::Scheduled,
                score: 7000
            })
        );
        // b goes stale; a alone is not enough: the state stays.
        m.ingest("a", severity(1000 + max_age, 0.0), 1000 + max_age)
            .unwrap();
        assert_eq!(m.recompute(1001 + max_age), None);
        assert_eq!(m.status().score, 7000);
        assert_eq!(m.status().level, RiskLevel::Scheduled);
        assert_eq!(m.status().fresh_feeds, 1);
        assert!(!m.status().feeds[1].fresh);
    }

    #[test]
    fn levels_rise_at_once_and_fall_with_hysteresis() {
        let mut m = Monitor::new(QrmConfig::default()).unwrap();
        let mut at = 0;
        let mut set = |m: &mut Monitor, score: f64| {
            at += 1;
            m.ingest("a", severity(at, score), at).unwrap();
            m.recompute(at);
            m.status().level
        };
        assert_eq!(set(&mut m, 5999.0), RiskLevel::Normal);
        assert_eq!(set(&mut m, 6000.0), RiskLevel::Scheduled);
        assert_eq!(set(&mut m, 5800.0), RiskLevel::Scheduled); // within hysteresis (500)
        assert_eq!(set(&mut m, 9100.0), RiskLevel::Emergency);
        assert_eq!(set(&mut m, 8600.0), RiskLevel::Emergency);
        assert_eq!(set(&mut m, 8400.0), RiskLevel::Scheduled);
        assert_eq!(set(&mut m, 100.0), RiskLevel::Normal);
        assert_eq!(set(&mut m, 9999.0), RiskLevel::Emergency);
        assert_eq!(set(&mut m, 0.0), RiskLevel::Normal);
    }

    #[test]
    fn refused_reports_leave_the_previous_one_in_force() {
        let mut m = Monitor::new(QrmConfig::default()).unwrap();
        m.ingest("a", severity(10, 6500.0), 10).unwrap();
        assert!(matches!(
            m.ingest("a", report(11, &[("warp_drives", 1.0)]), 11),
            Err(QrmError::UnknownIndicator(_))
        ));
        assert!(matches!(
            m.ingest("a", severity(12, f64::NAN), 12),
            Err(QrmError::BadValue { .. })
        ));
        assert!(matches!(
            m.ingest("a", severity(5, 1.0), 12),
            Err(QrmError::OutOfOrder { .. })
        ));
        assert!(matches!(
            m.ingest("a", severity(10_000, 1.0), 12),
            Err(QrmError::FromTheFuture { .. })
        ));
        m.record_error("a", "connection refused");
        m.recompute(12);
        assert_eq!(m.status().score, 6500);
        assert_eq!(
            m.status().feeds[0].last_error.as_deref(),
            Some("connection refused")
        );
    }

    #[test]
    fn indicators_are_weighted_and_saturate() {
        let config = QrmConfig::default();
        // logical_qubits saturates at 2330: 4660 counts as 2330.
        let full = config
            .score(&[("logical_qubits".to_string(), 4660.0)].into())
            .unwrap();
        assert_eq!(full, MAX_SCORE);
        let half = config
            .score(
                &[
                    ("logical_qubits".to_string(), 2330.0),
                    ("cryptanalysis".to_string(), 0.0),
                ]
                .into(),
            )
            .unwrap();
        // Weighted mean of 10000 (weight 0.4) and 0 (weight 0.3).
        assert_eq!(half, (10_000.0 * 0.4 / 0.7_f64).round() as u16);
        assert!(matches!(
            config.score(&BTreeMap::new()),
            Err(QrmError::MalformedReport(_))
        ));
    }

    proptest! {
        #[test]
        fn the_score_stays_in_range_and_between_the_feed_scores(
            values in proptest::collection::vec(0.0f64..1e9, 1..9)
        ) {
            let mut m = Monitor::new(QrmConfig::default()).unwrap();
            let mut scores = Vec::new();
            for (i, v) in values.iter().enumerate() {
                scores.push(m.ingest(&format!("f{i}"), severity(1, *v), 1).unwrap());
            }
            m.recompute(1);
            let score = m.status().score;
            prop_assert!(score <= MAX_SCORE);
            prop_assert!(score >= *scores.iter().min().unwrap());
            prop_assert!(score <= *scores.iter().max().unwrap());
            // The level is consistent with the thresholds (no hysteresis from NORMAL).
            let expected = if score >= 9000 { RiskLevel::Emergency }
                else if score >= 6000 { RiskLevel::Scheduled } else { RiskLevel::Normal };
            prop_assert_eq!(m.status().level, expected);
        }

        #[test]
        fn report_parsing_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..256)) {
            let _ = ThreatReport::parse(&bytes);
        }
    }
}
