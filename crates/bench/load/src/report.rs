//! What a load run measured, and the side-by-side ratio of two runs.

use std::{collections::BTreeMap, fmt, time::Duration};

/// The outcome of one load run against one node.
#[derive(Clone, Debug)]
pub struct Report {
    /// The target's name.
    pub name: String,
    /// Transactions sent.
    pub submitted: usize,
    /// Transactions the node accepted.
    pub accepted: usize,
    /// Refusals, by the node's error message. A transaction refused to shed load ("txpool is
    /// full", "account limit exceeded") is sent again, as a wallet would, and may be accepted
    /// later; each refusal counts here.
    pub refused: BTreeMap<String, usize>,
    /// Transactions found in blocks.
    pub included: usize,
    /// Accepted transactions never included: a failed run.
    pub lost: usize,
    /// Included transactions whose receipt reports failure.
    pub reverted: usize,
    /// Seconds from the first send to the last answer.
    pub submit_secs: f64,
    /// Seconds from the first send to the last inclusion seen.
    pub include_secs: f64,
    /// Gas used by the included transactions.
    pub gas: u64,
    /// Blocks that included some of them.
    pub blocks: u64,
    /// Median time from sending a transaction's batch to seeing its block.
    pub latency_p50: Duration,
    /// 99th percentile of the same.
    pub latency_p99: Duration,
    /// Up to five lost transactions, named with their sender, nonce and refusals.
    pub lost_sample: Vec<String>,
}

impl Report {
    /// Accepted transactions per second of submission.
    pub fn submission_rate(&self) -> f64 {
        rate(self.accepted as f64, self.submit_secs)
    }

    /// Included transactions per second, from the first send to the last inclusion.
    pub fn inclusion_rate(&self) -> f64 {
        rate(self.included as f64, self.include_secs)
    }

    /// Million gas per second over the same span.
    pub fn mgas_per_sec(&self) -> f64 {
        rate(self.gas as f64 / 1e6, self.include_secs)
    }

    /// `true` when every accepted transaction was included.
    pub fn nothing_lost(&self) -> bool {
        self.lost == 0
    }
}

fn rate(amount: f64, secs: f64) -> f64 {
    if secs > 0.0 { amount / secs } else { 0.0 }
}

/// The `p`th percentile of sorted `values` (nearest rank); zero when empty.
pub(crate) fn percentile(sorted: &[Duration], p: usize) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = (p * sorted.len()).div_ceil(100).clamp(1, sorted.len());
    sorted[rank - 1]
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{}:", self.name)?;
        writeln!(
            f,
            "  sent {}, accepted {} ({:.0} tx/s over {:.2} s), never accepted {}",
            self.submitted,
            self.accepted,
            self.submission_rate(),
            self.submit_secs,
            self.submitted - self.accepted
        )?;
        for (message, count) in &self.refused {
            writeln!(f, "    refusals {count}: {message}")?;
        }
        writeln!(
            f,
            "  included {} in {} blocks within {:.2} s: {:.0} tx/s, {:.1} Mgas/s; reverted {}, lost {}",
            self.included,
            self.blocks,
            self.include_secs,
            self.inclusion_rate(),
            self.mgas_per_sec(),
            self.reverted,
            self.lost
        )?;
        write!(
            f,
            "  submission to inclusion: p50 {} ms, p99 {} ms",
            self.latency_p50.as_millis(),
            self.latency_p99.as_millis()
        )?;
        for lost in &self.lost_sample {
            write!(f, "\n  lost: {lost}")?;
        }
        Ok(())
    }
}

/// `a` against `b`: the ratios of their inclusion and gas rates.
pub fn compare(a: &Report, b: &Report) -> String {
    let ratio = |x: f64, y: f64| {
        if y > 0.0 {
            format!("{:.2}x", x / y)
        } else {
            "n/a".to_string()
        }
    };
    format!(
        "{} / {}: {} tx/s included, {} Mgas/s, {} tx/s accepted",
        a.name,
        b.name,
        ratio(a.inclusion_rate(), b.inclusion_rate()),
        ratio(a.mgas_per_sec(), b.mgas_per_sec()),
        ratio(a.submission_rate(), b.submission_rate())
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_take_the_nearest_rank() {
        let values: Vec<_> = (1..=100).map(Duration::from_millis).collect();
        assert_eq!(percentile(&values, 50), Duration::from_millis(50));
        assert_eq!(percentile(&values, 99), Duration::from_millis(99));
        assert_eq!(percentile(&values[..1], 99), Duration::from_millis(1));
        assert_eq!(percentile(&[], 50), Duration::ZERO);
    }

    #[test]
    fn rates_and_ratios() {
        let report = Report {
            name: "a".into(),
            submitted: 110,
            accepted: 100,
            refused: BTreeMap::from([("txpool is full".to_string(), 10)]),
            included: 100,
            lost: 0,
            reverted: 0,
            submit_secs: 0.5,
            include_secs: 2.0,
            gas: 5_000_000,
            blocks: 2,
            latency_p50: Duration::from_millis(900),
            latency_p99: Duration::from_millis(1_900),
            lost_sample: Vec::new(),
        };
        assert_eq!(report.submission_rate(), 200.0);
        assert_eq!(report.inclusion_rate(), 50.0);
        assert_eq!(report.mgas_per_sec(), 2.5);
        let text = report.to_string();
        assert!(text.contains("refusals 10: txpool is full"), "{text}");
        assert!(text.contains("never accepted 10"), "{text}");
        let slower = Report {
            name: "b".into(),
            include_secs: 4.0,
            ..report.clone()
        };
        assert_eq!(
            compare(&report, &slower),
            "a / b: 2.00x tx/s included, 2.00x Mgas/s, 1.00x tx/s accepted"
        );
        let empty = Report {
            name: "c".into(),
            include_secs: 0.0,
            ..report.clone()
        };
        assert!(compare(&report, &empty).contains("n/a"));
    }
}
