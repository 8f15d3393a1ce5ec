//! The Grafana dashboard (`docker/grafana/dashboards/aegis.json`) queries only metrics the node
//! exports: every metric a panel names is one the sources register, and those a `--dev` node
//! produces (head, pool, block building, risk, key epoch) are on its `/metrics` endpoint after a
//! few blocks with a transaction. A renamed metric or a typo in a panel fails here, not on an
//! operator's screen.

use aegis_testing::{
    TxType,
    process::{dev_node_with, free_port},
    signer, transfer,
};
use alloy_primitives::Address;
use serde_json::{Value, json};
use std::{
    collections::BTreeSet,
    path::{Path, PathBuf},
    time::{Duration, Instant},
};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// `aegis_*` names in `text`, without the `_bucket`/`_sum`/`_count` series suffixes of
/// histograms.
fn metric_names(text: &str) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    let mut rest = text;
    while let Some(at) = rest.find("aegis_") {
        let tail = &rest[at..];
        let end = tail
            .find(|c: char| !(c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_'))
            .unwrap_or(tail.len());
        let name = &tail[..end];
        let base = ["_bucket", "_sum", "_count"]
            .iter()
            .find_map(|s| name.strip_suffix(s))
            .unwrap_or(name);
        names.insert(base.to_owned());
        rest = &tail[end..];
    }
    names
}

/// Every `expr` of every panel.
fn dashboard_metrics() -> BTreeSet<String> {
    let path = repo().join("docker/grafana/dashboards/aegis.json");
    let dashboard: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let mut names = BTreeSet::new();
    for panel in dashboard["panels"].as_array().expect("panels") {
        for target in panel["targets"].as_array().expect("targets") {
            names.extend(metric_names(target["expr"].as_str().expect("expr")));
        }
    }
    names
}

/// The metric names the sources register (string literals `"aegis_…"` under `crates/`).
fn registered_metrics() -> BTreeSet<String> {
    fn walk(dir: &Path, names: &mut BTreeSet<String>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                // Tests name metrics too; only what the product registers counts.
                if !path.ends_with("target") && !path.ends_with("tests") {
                    walk(&path, names);
                }
            } else if path.extension().is_some_and(|e| e == "rs") {
                let text = std::fs::read_to_string(&path).unwrap();
                for quoted in text.split("metrics::").skip(1) {
                    // `gauge!("aegis_x")`, `counter!("aegis_x", "label" => …)` …
                    if let Some(open) = quoted.find("!(\"aegis_") {
                        names.extend(metric_names(
                            &quoted[open..open + 80.min(quoted.len() - open)],
                        ));
                    }
                }
            }
        }
    }
    let mut names = BTreeSet::new();
    walk(&repo().join("crates"), &mut names);
    names
}

#[test]
fn every_panel_queries_a_metric_the_node_exports() {
    let wanted = dashboard_metrics();
    assert!(wanted.len() >= 15, "{wanted:?}");
    let registered = registered_metrics();
    let unknown: Vec<&String> = wanted.difference(&registered).collect();
    assert!(
        unknown.is_empty(),
        "the dashboard queries metrics no crate registers: {unknown:?}"
    );

    // A dev node with metrics, a few blocks and a transaction.
    let dir = tempfile::tempdir().unwrap();
    let (rpc, metrics) = (free_port(), free_port());
    let _node = dev_node_with(
        Path::new(env!("CARGO_BIN_EXE_aegis")),
        rpc,
        dir.path(),
        &["--metrics", &format!("127.0.0.1:{metrics}")],
    );
    let url = format!("http://127.0.0.1:{rpc}");
    let client = reqwest::blocking::Client::new();
    let call = |method: &str, params: Value| -> Value {
        client
            .post(&url)
            .json(&json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params}))
            .send()
            .and_then(|r| r.json())
            .unwrap_or(Value::Null)
    };
    let started = Instant::now();
    while call("eth_chainId", json!([])).is_null() {
        assert!(started.elapsed() < Duration::from_secs(30), "node not up");
        std::thread::sleep(Duration::from_millis(100));
    }
    let raw = transfer(
        TxType::Eip1559,
        &signer(0),
        901,
        0,
        Address::repeat_byte(7),
        1,
    );
    let sent = call("eth_sendRawTransaction", json!([raw]));
    assert!(sent["result"].is_string(), "{sent}");
    let dev_produced = [
        "aegis_head_number",
        "aegis_txpool_pending",
        "aegis_txpool_queued",
        "aegis_payload_build_seconds",
        "aegis_block_transactions",
        "aegis_risk_score",
        "aegis_risk_level",
        "aegis_key_epoch",
    ];
    let mut exported = BTreeSet::new();
    let started = Instant::now();
    while !dev_produced.iter().all(|m| exported.contains(*m)) {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the dev node does not export {:?}; it exports {exported:?}",
            dev_produced
                .iter()
                .filter(|m| !exported.contains(**m))
                .collect::<Vec<_>>()
        );
        std::thread::sleep(Duration::from_millis(500));
        let text = client
            .get(format!("http://127.0.0.1:{metrics}/metrics"))
            .send()
            .and_then(|r| r.text())
            .unwrap_or_default();
        exported = metric_names(&text);
    }
    for metric in dev_produced {
        assert!(wanted.contains(metric), "the dashboard shows no {metric}");
    }
}

#[test]
fn metric_names_are_read_without_series_suffixes() {
    let names = metric_names(
        "histogram_quantile(0.99, sum by (le) (rate(aegis_get_payload_seconds_bucket[5m]))) \
         + aegis_head_number{instance=\"a\"} / aegis_block_transactions_count",
    );
    assert_eq!(
        names.into_iter().collect::<Vec<_>>(),
        [
            "aegis_block_transactions",
            "aegis_get_payload_seconds",
            "aegis_head_number"
        ]
    );
}
