//! The `aegis` binary end to end: genesis generation, dev sealing, restart, verification and
//! the errors bad input gets.

mod support;

use std::{path::Path, process::Command};
use support::{ok, path, refused};

/// Starts `aegis node` on a fresh datadir under `dir` with `genesis` and `extra` flags.
fn spawn_node(dir: &Path, genesis: &Path, extra: &[&str]) -> std::process::Child {
    Command::new(env!("CARGO_BIN_EXE_aegis"))
        .args([
            "node",
            "--datadir",
            path(&dir.join("data")),
            "--genesis",
            path(genesis),
        ])
        .args(extra)
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap()
}

/// Writes a devnet genesis at `timestamp` into `dir`; returns the genesis.json path.
fn genesis_at(dir: &Path, timestamp: &str) -> std::path::PathBuf {
    ok(&["genesis", "--out", path(dir), "--timestamp", timestamp]);
    dir.join("genesis.json")
}

#[test]
fn genesis_writes_matching_genesis_and_rollup_config() {
    let dir = tempfile::tempdir().unwrap();
    let hash = ok(&[
        "genesis",
        "--out",
        path(dir.path()),
        "--timestamp",
        "1700000000",
    ]);
    let genesis: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("genesis.json")).unwrap())
            .unwrap();
    let rollup: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("rollup.json")).unwrap())
            .unwrap();
    assert_eq!(
        rollup["genesis"]["l2"]["hash"].as_str().unwrap(),
        hash.trim()
    );
    assert_eq!(rollup["l2_chain_id"], 901);
    assert_eq!(genesis["config"]["chainId"], 901);
    // L1Block predeploy is a proxy (upgradable by later forks' upgrade transactions).
    assert!(
        genesis["alloc"]
            .as_object()
            .unwrap()
            .keys()
            .any(|k| k.to_lowercase() == "0x4200000000000000000000000000000000000015")
    );
    // Dev accounts are configurable: 3 accounts of a given mnemonic, 5 ether each.
    let custom = dir.path().join("custom");
    let mnemonic = "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about";
    ok(&[
        "genesis",
        "--out",
        path(&custom),
        "--timestamp",
        "1700000000",
        "--dev.mnemonic",
        mnemonic,
        "--dev.accounts",
        "3",
        "--dev.balance",
        "5",
    ]);
    let custom: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(custom.join("genesis.json")).unwrap())
            .unwrap();
    let funded: Vec<_> = custom["alloc"]
        .as_object()
        .unwrap()
        .iter()
        .filter(|(_, a)| a["balance"] == "0x4563918244f40000")
        .map(|(k, _)| k.to_lowercase())
        .collect();
    assert_eq!(funded.len(), 3, "{funded:?}");
    // m/44'/60'/0'/0/0 of the "abandon … about" mnemonic.
    assert!(
        funded
            .iter()
            .any(|k| k.ends_with("9858effd232b4033e47d90003d41ec34ecaeda94")),
        "{funded:?}"
    );

    // Same inputs, same genesis.
    let again = ok(&[
        "genesis",
        "--out",
        path(dir.path()),
        "--timestamp",
        "1700000000",
    ]);
    assert_eq!(hash, again);
}

#[test]
fn node_seals_blocks_restarts_at_its_head_and_verifies() {
    let dir = tempfile::tempdir().unwrap();
    let datadir = dir.path().join("data");
    let genesis_dir = dir.path().join("g");
    // A genesis in the past so dev blocks seal without waiting for the wall clock.
    let genesis = genesis_at(&genesis_dir, "1700000000");
    let args = |blocks: &'static str| {
        vec![
            "node".to_string(),
            "--datadir".into(),
            path(&datadir).into(),
            "--genesis".into(),
            path(&genesis).into(),
            "--dev".into(),
            "--http.port".into(),
            "0".into(),
            "--dev.period".into(),
            "1".into(),
            "--dev.blocks".into(),
            blocks.into(),
        ]
    };
    let run = |blocks| {
        let a = args(blocks);
        ok(&a.iter().map(String::as_str).collect::<Vec<_>>());
    };
    run("3");
    let verified = ok(&["db", "verify", "--datadir", path(&datadir)]);
    assert!(verified.starts_with("block 3 "), "{verified}");
    run("2");
    let verified = ok(&["db", "verify", "--datadir", path(&datadir)]);
    assert!(verified.starts_with("block 5 "), "{verified}");

    // A different genesis against the same database is refused.
    let other = genesis_at(&dir.path().join("other"), "1700000002");
    let stderr = refused(&[
        "node",
        "--datadir",
        path(&datadir),
        "--genesis",
        path(&other),
        "--dev",
        "--http.port",
        "0",
        "--dev.blocks",
        "1",
    ]);
    assert!(stderr.contains("genesis"), "{stderr}");
}

#[test]
fn bad_input_gets_named_errors() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("genesis.json");
    std::fs::write(&bad, r#"{"config":{"chainId":"nope"},"alloc":{}}"#).unwrap();
    let stderr = refused(&[
        "node",
        "--datadir",
        path(dir.path()),
        "--genesis",
        path(&bad),
    ]);
    assert!(stderr.contains("chainId"), "{stderr}");

    let datadir = dir.path().join("corrupt");
    std::fs::create_dir_all(&datadir).unwrap();
    std::fs::write(datadir.join("chain.redb"), vec![0x42; 4096]).unwrap();
    let stderr = refused(&["db", "verify", "--datadir", path(&datadir)]);
    assert!(stderr.contains("chain.redb"), "{stderr}");

    let stderr = refused(&[
        "genesis",
        "--out",
        path(dir.path()),
        "--isthmus-offset",
        "soon",
    ]);
    assert!(stderr.contains("soon"), "{stderr}");

    for (flag, value, named) in [
        ("--dev.period", "fast", "\"fast\""),
        ("--dev.period", "2ms", "shorter than 10 ms"),
        ("--dev.period", "1h", "\"1h\""),
        ("--dev.gaslimit", "lots", "\"lots\""),
        ("--dev.gaslimit", "100", "outside 21000"),
    ] {
        let stderr = refused(&["node", "--dev", "--datadir", path(dir.path()), flag, value]);
        assert!(stderr.contains(named), "{flag} {value}: {stderr}");
    }
}

#[test]
fn sigkill_while_sealing_restarts_at_a_consistent_head() {
    let dir = tempfile::tempdir().unwrap();
    let datadir = dir.path().join("data");
    let genesis_dir = dir.path().join("g");
    let genesis = genesis_at(&genesis_dir, "1700000000");
    let mut child = spawn_node(
        dir.path(),
        &genesis,
        &["--dev", "--dev.period", "1", "--http.port", "0"],
    );
    std::thread::sleep(std::time::Duration::from_millis(2_500));
    child.kill().unwrap();
    child.wait().unwrap();
    let verified = ok(&["db", "verify", "--datadir", path(&datadir)]);
    let before: u64 = verified.split_whitespace().nth(1).unwrap().parse().unwrap();
    assert!(before >= 1, "{verified}");
    ok(&[
        "node",
        "--datadir",
        path(&datadir),
        "--genesis",
        path(&genesis),
        "--dev.blocks",
        "1",
        "--dev",
        "--http.port",
        "0",
        "--dev.period",
        "1",
    ]);
    let verified = ok(&["db", "verify", "--datadir", path(&datadir)]);
    assert!(
        verified.starts_with(&format!("block {} ", before + 1)),
        "{verified}"
    );
}

fn http_get(url: &str) -> Option<(u16, String)> {
    let response = reqwest::blocking::get(url).ok()?;
    Some((response.status().as_u16(), response.text().ok()?))
}

#[test]
fn engine_node_serves_health_metrics_refuses_unauthenticated_and_stops_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let genesis = genesis_at(&dir.path().join("g"), "1700000000");
    let mut child = spawn_node(
        dir.path(),
        &genesis,
        &["--authrpc.port", "26551", "--metrics", "127.0.0.1:26001"],
    );
    let started = std::time::Instant::now();
    while http_get("http://127.0.0.1:26001/readyz").map(|r| r.0) != Some(200) {
        assert!(
            started.elapsed() < std::time::Duration::from_secs(20),
            "never ready"
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    assert_eq!(http_get("http://127.0.0.1:26001/healthz").unwrap().0, 200);
    let (status, metrics) = http_get("http://127.0.0.1:26001/metrics").unwrap();
    assert_eq!(status, 200);
    assert!(metrics.contains("aegis_build_info"), "{metrics}");
    let unauthenticated = reqwest::blocking::Client::new()
        .post("http://127.0.0.1:26551")
        .json(
            &serde_json::json!({"jsonrpc": "2.0", "id": 1, "method": "eth_chainId", "params": []}),
        )
        .send()
        .unwrap();
    assert_eq!(unauthenticated.status().as_u16(), 401);
    let jwt = std::fs::read_to_string(dir.path().join("data/jwt.hex")).unwrap();
    assert_eq!(jwt.trim().len(), 64, "generated 32-byte hex secret");
    // SIGTERM: clean exit.
    assert!(
        Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status()
            .unwrap()
            .success()
    );
    let started = std::time::Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(
            started.elapsed() < std::time::Duration::from_secs(10),
            "did not stop on SIGTERM"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    };
    assert!(status.success(), "{status:?}");
}

#[test]
fn rollup_config_of_another_chain_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let genesis = genesis_at(&dir.path().join("g"), "1700000000");
    let rollup_path = dir.path().join("g/rollup.json");
    let rollup: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&rollup_path).unwrap()).unwrap();
    for (field, mutate) in [
        (
            "l2_chain_id",
            Box::new(|r: &mut serde_json::Value| r["l2_chain_id"] = 902.into())
                as Box<dyn Fn(&mut serde_json::Value)>,
        ),
        (
            "genesis.l2.hash",
            Box::new(|r: &mut serde_json::Value| {
                r["genesis"]["l2"]["hash"] = format!("0x{}", "11".repeat(32)).into()
            }),
        ),
    ] {
        let mut bad = rollup.clone();
        mutate(&mut bad);
        let bad_path = dir.path().join("bad-rollup.json");
        std::fs::write(&bad_path, bad.to_string()).unwrap();
        let stderr = refused(&[
            "node",
            "--datadir",
            path(&dir.path().join("data")),
            "--genesis",
            path(&genesis),
            "--rollup.config",
            path(&bad_path),
        ]);
        assert!(stderr.contains(field), "{field}: {stderr}");
    }
}

#[test]
fn config_file_sets_what_flags_do_not_and_bad_files_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let genesis = genesis_at(&dir.path().join("g"), "1700000000");
    let datadir = dir.path().join("from-config");
    let config = dir.path().join("phala.toml");
    std::fs::write(
        &config,
        format!(
            "[node]\ndatadir = {:?}\ngenesis = {:?}\n[phala]\nattestation = \"simulator\"\n",
            datadir.display().to_string(),
            genesis.display().to_string()
        ),
    )
    .unwrap();
    ok(&[
        "node",
        "--config",
        path(&config),
        "--dev",
        "--http.port",
        "0",
        "--dev.blocks",
        "1",
        "--dev.period",
        "1",
    ]);
    assert!(
        datadir.join("chain.redb").exists(),
        "datadir taken from the config file"
    );

    std::fs::write(&config, "[engine]\nprot = 8551\n").unwrap();
    let stderr = refused(&["node", "--config", path(&config)]);
    assert!(
        stderr.contains("prot") && stderr.contains("phala.toml"),
        "{stderr}"
    );
}

#[test]
fn config_check_accepts_the_example_and_names_bad_keys() {
    let example = concat!(env!("CARGO_MANIFEST_DIR"), "/../../phala.toml");
    assert!(ok(&["config", "check", "--config", example]).contains("valid"));
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("bad.toml");
    for (text, key) in [
        (
            "[quantum]\nrisk_scheduled = 9000\nrisk_emergency = 6000\n",
            "quantum.risk_scheduled",
        ),
        (
            "[intelligence]\nstrategy = \"random\"\n",
            "intelligence.strategy",
        ),
        ("[quantum]\nrisk_emergency = \"high\"\n", "risk_emergency"),
        (
            "[quantum.indicators]\nlogical_qubits = { weight = 0.0, saturation = 1.0 }\n",
            "quantum.indicators.logical_qubits.weight",
        ),
    ] {
        std::fs::write(&file, text).unwrap();
        let stderr = refused(&["config", "check", "--config", path(&file)]);
        assert!(stderr.contains(key), "{text:?}: {stderr}");
    }
    let datadir = dir.path().join("data");
    let stderr = refused(&[
        "node",
        "--datadir",
        path(&datadir),
        "--intelligence.strategy",
        "fastest",
        "--dev",
        "--http.port",
        "0",
    ]);
    assert!(stderr.contains("fastest"), "{stderr}");
    assert!(
        !datadir.exists(),
        "a refused configuration created the datadir"
    );
}

#[test]
fn dev_mode_includes_transactions_sent_over_json_rpc() {
    use alloy_primitives::{Address, U256};
    let dir = tempfile::tempdir().unwrap();
    let genesis = genesis_at(&dir.path().join("g"), "1700000000");
    let mut child = spawn_node(
        dir.path(),
        &genesis,
        &[
            "--dev",
            "--dev.period",
            "1",
            "--http",
            "--http.port",
            "26645",
        ],
    );
    let call = |method: &str, params: serde_json::Value| -> Option<serde_json::Value> {
        let body =
            serde_json::json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params});
        reqwest::blocking::Client::new()
            .post("http://127.0.0.1:26645")
            .json(&body)
            .send()
            .ok()?
            .json()
            .ok()
    };
    let started = std::time::Instant::now();
    while call("eth_chainId", serde_json::json!([])).is_none() {
        assert!(
            started.elapsed() < std::time::Duration::from_secs(20),
            "JSON-RPC never came up"
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let to = Address::repeat_byte(0x77);
    let tx = aegis_testing::transfer(
        aegis_testing::TxType::Eip1559,
        &aegis_testing::signer(0),
        901,
        0,
        to,
        1234,
    );
    let sent = call("eth_sendRawTransaction", serde_json::json!([tx])).unwrap();
    assert!(sent.get("result").is_some(), "{sent}");
    let included = loop {
        let balance = call("eth_getBalance", serde_json::json!([to, "latest"])).unwrap();
        if balance["result"] == serde_json::json!(U256::from(1234)) {
            break true;
        }
        if started.elapsed() > std::time::Duration::from_secs(30) {
            break false;
        }
        std::thread::sleep(std::time::Duration::from_millis(200));
    };
    let _ = child.kill();
    let _ = child.wait();
    assert!(included, "transfer never included");
}

/// `aegis conductor` refuses what cannot work, with the reason: a lease TTL out of range, an
/// unreachable etcd (quickly, not a hang), a rollup node that does not answer.
#[test]
fn a_misconfigured_conductor_is_refused_with_the_reason() {
    let free = || aegis_testing::process::free_port().to_string();
    let nobody = format!("http://127.0.0.1:{}", free());
    let base = |etcd: &str, node: &str| {
        vec![
            "conductor".to_string(),
            "--conductor.id".into(),
            "w1".into(),
            "--conductor.chain-id".into(),
            "901".into(),
            "--conductor.etcd".into(),
            etcd.into(),
            "--conductor.node-rpc".into(),
            node.into(),
            "--conductor.rpc.port".into(),
            free(),
            "--conductor.timeout-ms".into(),
            "500".into(),
            "--conductor.node-wait".into(),
            "1".into(),
        ]
    };
    let run = |args: &[String]| refused(&args.iter().map(String::as_str).collect::<Vec<_>>());

    let mut args = base(&nobody, &nobody);
    args.extend(["--conductor.lease-ttl".into(), "0".into()]);
    let message = run(&args);
    assert!(message.contains("--conductor.lease-ttl"), "{message}");

    let started = std::time::Instant::now();
    let message = run(&base(&nobody, &nobody));
    assert!(message.contains(&format!("etcd at {nobody}")), "{message}");
    assert!(started.elapsed() < std::time::Duration::from_secs(10));

    let etcd = aegis_testing::etcd::EtcdCluster::start(1);
    let message = run(&base(&etcd.endpoints()[0], &nobody));
    assert!(message.contains("joining the cluster as w1"), "{message}");
    assert!(message.contains("optimism_rollupConfig"), "{message}");
}

#[test]
fn a_misconfigured_cluster_worker_is_refused_with_the_reason() {
    let dir = tempfile::tempdir().unwrap();
    let datadir = |name: &str| dir.path().join(name).to_str().unwrap().to_owned();
    let nobody = format!("http://127.0.0.1:{}", aegis_testing::process::free_port());
    // An id without an etcd (and the other way round) is a usage error naming the missing flag.
    let message = refused(&["node", "--datadir", &datadir("a"), "--conductor.id", "w1"]);
    assert!(message.contains("--conductor.etcd"), "{message}");
    let message = refused(&[
        "node",
        "--datadir",
        &datadir("b"),
        "--conductor.etcd",
        &nobody,
    ]);
    assert!(message.contains("--conductor.id"), "{message}");

    // An etcd that does not answer is named, at once.
    let started = std::time::Instant::now();
    let message = refused(&[
        "node",
        "--datadir",
        &datadir("c"),
        "--conductor.id",
        "w1",
        "--conductor.etcd",
        &nobody,
        "--conductor.timeout-ms",
        "500",
    ]);
    assert!(
        message.contains(&format!("cluster etcd at {nobody}")),
        "{message}"
    );
    assert!(started.elapsed() < std::time::Duration::from_secs(10));

    // A wallet RPC on every interface has no address the other workers could forward to.
    let etcd = aegis_testing::etcd::EtcdCluster::start(1);
    let message = refused(&[
        "node",
        "--datadir",
        &datadir("d"),
        "--conductor.id",
        "w1",
        "--conductor.etcd",
        &etcd.endpoints()[0],
        "--http",
        "--http.addr",
        "0.0.0.0",
        "--http.port",
        "0",
        "--engine.port",
        "0",
    ]);
    assert!(message.contains("--conductor.advertise-rpc"), "{message}");
}
