//! `phala.toml`: the node's configuration file.
//!
//! `[node]`, `[engine]`, `[batcher]` and `[metrics]` hold the same settings as the command-line
//! flags (a flag or its environment variable wins over the file). `[phala]`, `[worker]`,
//! `[quantum]` and `[intelligence]` configure the TEE, PQC and ordering subsystems; they are
//! checked to be tables here and read by those subsystems.

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
    pub(crate) quantum: toml::Table,
    #[serde(default)]
    pub(crate) intelligence: toml::Table,
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
