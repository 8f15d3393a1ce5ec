//! `phala.toml`: the node's configuration file.
//!
//! `[node]`, `[engine]`, `[batcher]` and `[metrics]` hold the same settings as the command-line
//! flags (a flag or its environment variable wins over the file). `[quantum]` configures the
//! quantum resistance monitor (thresholds, indicators, feeds) and `[intelligence]` the block
//! ordering; both are checked in full by `aegis config check`. `[phala]` and `[worker]` describe
//! the deployment (read by the Phala tooling; checked to be tables).

use serde::Deserialize;
use std::{
    net::{IpAddr, SocketAddr},
    path::{Path, PathBuf},
};

/// The whole file. Unknown sections or keys are errors that name them.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ConfigFile {
    #[serde(default)]
    pub(crate) node: NodeSection,
    #[serde(default)]
    pub(crate) engine: EngineSection,
    #[serde(default)]
    pub(crate) batcher: BatcherSection,
    #[serde(default)]
    pub(crate) metrics: MetricsSection,
    #[serde(default)]
    pub(crate) phala: toml::Table,
    #[serde(default)]
    pub(crate) worker: toml::Table,
    #[serde(default)]
    pub(crate) quantum: aegis_qrm::QrmConfig,
    #[serde(default)]
    pub(crate) intelligence: IntelligenceSection,
}

/// `[intelligence]`: the ordering strategy and the hybrid strategy's weights.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub(crate) struct IntelligenceSection {
    pub(crate) strategy: String,
    pub(crate) weights: aegis_ordering::HybridWeights,
}

impl Default for IntelligenceSection {
    fn default() -> Self {
        Self {
            strategy: "fee".into(),
            weights: Default::default(),
        }
    }
}

impl IntelligenceSection {
    /// The strategy, or an error naming the key.
    pub(crate) fn strategy(&self) -> anyhow::Result<aegis_ordering::Strategy> {
        self.strategy
            .parse()
            .map_err(|e| anyhow::anyhow!("intelligence.strategy: {e}"))
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct NodeSection {
    pub(crate) datadir: Option<PathBuf>,
    pub(crate) genesis: Option<PathBuf>,
    pub(crate) rollup_config: Option<PathBuf>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct EngineSection {
    pub(crate) addr: Option<IpAddr>,
    pub(crate) port: Option<u16>,
    pub(crate) jwtsecret: Option<PathBuf>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct BatcherSection {
    pub(crate) l1_rpc: Option<String>,
    pub(crate) interval: Option<u64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct MetricsSection {
    pub(crate) addr: Option<SocketAddr>,
}

impl ConfigFile {
    /// Reads and parses `path`; errors name the file, and the key and line that are wrong.
    pub(crate) fn load(path: &Path) -> anyhow::Result<Self> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| anyhow::anyhow!("config file {}: {e}", path.display()))?;
        toml::from_str(&text).map_err(|e| anyhow::anyhow!("config file {}: {e}", path.display()))
    }

    /// Checks the values parsing cannot: ranges, orders of thresholds, names of strategies.
    pub(crate) fn validate(&self) -> anyhow::Result<()> {
        self.quantum.validate()?;
        self.intelligence.strategy()?;
        self.intelligence.weights.validate()?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn example_file_parses() {
        let example = include_str!("../../../phala.toml");
        let config: ConfigFile = toml::from_str(example).unwrap();
        assert_eq!(config.engine.port, Some(8551));
        assert!(config.phala.contains_key("attestation"));
        config.validate().unwrap();
        assert_eq!(config.quantum.risk_scheduled, 6000);
        assert_eq!(config.quantum.risk_emergency, 9000);
        // The seed's key names load as is.
        let seed: ConfigFile = toml::from_str(
            "[quantum]\nscheduled_rotation_threshold = 6000\nemergency_threshold = 9000\n\
             [intelligence]\nstrategy = \"fee\"\n",
        )
        .unwrap();
        seed.validate().unwrap();
        assert_eq!(seed.quantum.risk_scheduled, 6000);
    }

    #[test]
    fn invalid_intelligence_values_are_named() {
        let check = |text: &str, key: &str| {
            let e = match toml::from_str::<ConfigFile>(text) {
                Ok(config) => config.validate().unwrap_err().to_string(),
                Err(e) => e.to_string(),
            };
            assert!(e.contains(key), "{e} does not name {key}");
        };
        check(
            "[quantum]\nrisk_scheduled = 9500\n",
            "quantum.risk_scheduled",
        );
        check(
            "[quantum]\nrisk_emergency = 20000\n",
            "quantum.risk_emergency",
        );
        check("[quantum]\nrisk_emergency = -1\n", "risk_emergency");
        check(
            "[intelligence]\nstrategy = \"fastest\"\n",
            "intelligence.strategy",
        );
        check(
            "[intelligence.weights]\nfee = 0\nrisk = 0\nasset = 0\nmigration = 0\n",
            "intelligence.weights",
        );
        check("[intelligence]\nstrategi = \"fee\"\n", "strategi");
        check(
            "[[quantum.feeds]]\nname = \"x\"\nkind = \"http\"\nurl = \"ftp://x\"\n",
            "quantum.feeds[0].url",
        );
        check(
            "[[quantum.feeds]]\nname = \"x\"\nkind = \"carrier-pigeon\"\n",
            "carrier-pigeon",
        );
    }

    #[test]
    fn unknown_keys_and_bad_types_are_named() {
        let err = toml::from_str::<ConfigFile>("[engine]\nprot = 1\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("prot"), "{err}");
        let err = toml::from_str::<ConfigFile>("[engine]\nport = \"x\"\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("port") || err.contains("line 2"), "{err}");
        let err = toml::from_str::<ConfigFile>("[nope]\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("nope"), "{err}");
    }
}
