//! The embedded predeploy bytecode is byte-for-byte the official npm artifacts'.
//!
//! `scripts/bootstrap.sh` installs `@eth-optimism/contracts-bedrock` into `.tools/npm`; CI always
//! runs it first, so there a missing package is a failure. A bare `cargo test` without the
//! bootstrap only prints a notice.

use std::path::{Path, PathBuf};

fn artifacts_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../.tools/npm/node_modules/@eth-optimism/contracts-bedrock/forge-artifacts")
}

fn read_json(path: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn embedded_predeploys_match_npm_artifacts() {
    let dir = artifacts_dir();
    if !dir.is_dir() {
        assert!(
            std::env::var_os("CI").is_none(),
            "{} missing: run scripts/bootstrap.sh",
            dir.display()
        );
        eprintln!(
            "notice: {} not installed; run scripts/bootstrap.sh",
            dir.display()
        );
        return;
    }
    let embedded: serde_json::Value =
        serde_json::from_str(include_str!("../artifacts/predeploys.json")).unwrap();
    let version = read_json(&dir.join("../package.json"))["version"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        embedded["source"].as_str().unwrap(),
        format!("@eth-optimism/contracts-bedrock@{version}")
    );
    let contracts = embedded["contracts"].as_object().unwrap();
    assert!(
        contracts.len() >= 15,
        "only {} contracts embedded",
        contracts.len()
    );
    for (name, contract) in contracts {
        let artifact = std::fs::read_dir(&dir)
            .unwrap()
            .map(|entry| entry.unwrap().path().join(format!("{name}.json")))
            .find(|path| path.is_file())
            .unwrap_or_else(|| panic!("no artifact for {name}"));
        let official = read_json(&artifact);
        assert_eq!(
            contract["deployedBytecode"],
            official["deployedBytecode"]["object"],
            "{name} bytecode differs from {}",
            artifact.display()
        );
    }
}
