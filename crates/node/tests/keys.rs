//! Sequencer keys and attestation through the `aegis` binary: `keys init/show`, refusing to
//! start on a missing or tampered key store, `attest verify` on real and simulator quotes, and
//! an encrypted transaction from `aegis tx encrypt` included by a dev node.

use serde_json::{Value, json};
use std::{
    path::{Path, PathBuf},
    process::{Command, Output},
    time::{Duration, Instant},
};

fn aegis(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_aegis"))
        .args(args)
        .env_remove("RUST_BACKTRACE")
        .output()
        .unwrap()
}

fn ok(args: &[&str]) -> String {
    let out = aegis(args);
    assert!(
        out.status.success(),
        "aegis {args:?} failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn fails(args: &[&str]) -> String {
    let out = aegis(args);
    assert!(!out.status.success(), "aegis {args:?} should fail");
    String::from_utf8(out.stderr).unwrap()
}

fn p(path: &Path) -> &str {
    path.to_str().unwrap()
}

fn genesis(dir: &Path) -> PathBuf {
    ok(&["genesis", "--out", p(dir), "--timestamp", "1700000000"]);
    dir.join("genesis.json")
}

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../security/tee/tests/fixtures")
}

#[test]
fn missing_tampered_or_foreign_key_stores_refuse_to_start_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let genesis = genesis(&dir.path().join("g"));
    let data = dir.path().join("data");
    let node = |extra: &[&str]| {
        let mut args = vec![
            "node",
            "--datadir",
            p(&data),
            "--genesis",
            p(&genesis),
            "--keys",
        ];
        args.extend_from_slice(extra);
        args.extend_from_slice(&["--engine.port", "0"]);
        fails(&args)
    };
    let stderr = node(&[]);
    assert!(
        stderr.contains("sequencer.keystore") && stderr.contains("aegis keys init"),
        "{stderr}"
    );

    let shown = ok(&["keys", "init", "--datadir", p(&data), "--chain-id", "901"]);
    let keys: Value = serde_json::from_str(&shown).unwrap();
    assert_eq!(keys["keyEpoch"], json!(0));
    assert_eq!(keys["slhdsaAlgorithm"], json!("SLH-DSA-SHA2-256s"));
    let again = fails(&["keys", "init", "--datadir", p(&data), "--chain-id", "901"]);
    assert!(again.contains("already exists"), "{again}");
    let shown_again: Value = serde_json::from_str(&ok(&[
        "keys",
        "show",
        "--datadir",
        p(&data),
        "--chain-id",
        "901",
    ]))
    .unwrap();
    assert_eq!(shown_again, keys);
    let keystore = data.join("keys/sequencer.keystore");
    let text = std::fs::read_to_string(&keystore).unwrap();
    assert!(
        !text.contains("ecdsa"),
        "secret field names leak into the sealed file"
    );

    // Another chain's node refuses these keys.
    let stderr = fails(&["keys", "show", "--datadir", p(&data), "--chain-id", "10"]);
    assert!(stderr.contains("chain 901"), "{stderr}");
    // A wrong passphrase source is named.
    let stderr = fails(&[
        "keys",
        "show",
        "--datadir",
        p(&data),
        "--chain-id",
        "901",
        "--keys.passphrase-env",
        "AEGIS_TEST_NO_SUCH_VAR",
    ]);
    assert!(stderr.contains("AEGIS_TEST_NO_SUCH_VAR"), "{stderr}");

    // Tampered: one hex digit of the ciphertext changed.
    let mut sealed: Value = serde_json::from_str(&text).unwrap();
    let mut ct = sealed["ciphertext"].as_str().unwrap().to_string();
    let flipped = if ct.ends_with('0') { "1" } else { "0" };
    ct.replace_range(ct.len() - 1.., flipped);
    sealed["ciphertext"] = json!(ct);
    std::fs::write(&keystore, sealed.to_string()).unwrap();
    let stderr = node(&[]);
    assert!(
        stderr.contains("sequencer.keystore") && stderr.contains("does not decrypt"),
        "{stderr}"
    );
    // A missing sealing key file is named too.
    let stderr = node(&["--keys.seal-key-file", "/nonexistent/seal.key"]);
    assert!(stderr.contains("/nonexistent/seal.key"), "{stderr}");
}

#[test]
fn attest_verify_accepts_good_quotes_only() {
    let quote = fixtures().join("tdx_quote");
    let collateral = fixtures().join("tdx_quote_collateral.json");
    let out = ok(&[
        "attest",
        "verify",
        p(&quote),
        "--collateral",
        p(&collateral),
        "--at",
        "2025-07-01T00:00:00Z",
    ]);
    let parsed: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(parsed["verified"], json!(true));
    assert_eq!(parsed["quote"]["auth_data_size"], json!(4300));
    assert!(
        parsed["quote"]["body"]["mr_td"]
            .as_str()
            .or(parsed["quote"]["body"]["mrtd"].as_str())
            .unwrap()
            .starts_with("0x91eb2b44d141d4ece09f0c75c2c53d24")
    );
    let stderr = fails(&[
        "attest",
        "verify",
        p(&quote),
        "--collateral",
        p(&collateral),
        "--at",
        "2026-07-01T00:00:00Z",
    ]);
    assert!(stderr.contains("does not verify"), "{stderr}");
    let stderr = fails(&["attest", "verify", p(&quote), "--at", "yesterday"]);
    assert!(stderr.contains("--at \"yesterday\""), "{stderr}");

    // A simulator quote verifies under its root only, and not with a bit flipped.
    let dir = tempfile::tempdir().unwrap();
    let seed = dir.path().join("seed");
    let out = aegis(&[
        "attest",
        "simulate",
        "--seed-file",
        p(&seed),
        "--report-data",
        &"ab".repeat(64),
    ]);
    assert!(out.status.success());
    let stderr = String::from_utf8(out.stderr).unwrap();
    let root = stderr
        .lines()
        .find_map(|l| l.strip_prefix("dev root public key: "))
        .unwrap()
        .to_string();
    let hex = String::from_utf8(out.stdout).unwrap();
    let file = dir.path().join("q.hex");
    std::fs::write(&file, &hex).unwrap();
    ok(&["attest", "verify", p(&file), "--dev-root", &root]);
    fails(&[
        "attest",
        "verify",
        p(&file),
        "--dev-root",
        &format!("0x{}", "22".repeat(64)),
    ]);
    let mut bytes = alloy_primitives::hex::decode(hex.trim()).unwrap();
    bytes[600] ^= 0x04;
    std::fs::write(&file, &bytes).unwrap();
    fails(&["attest", "verify", p(&file), "--dev-root", &root]);
    let stderr = fails(&["attest", "verify", p(&file), "--dev-root", "0x1234"]);
    assert!(stderr.contains("--dev-root"), "{stderr}");
    std::fs::write(&file, b"not a quote").unwrap();
    let stderr = fails(&["attest", "verify", p(&file), "--dev-root", &root]);
    assert!(stderr.contains("not a TDX v4 quote"), "{stderr}");
}

fn rpc(url: &str, method: &str, params: Value) -> Option<Value> {
    reqwest::blocking::Client::new()
        .post(url)
        .json(&json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params}))
        .send()
        .ok()?
        .json()
        .ok()
}

#[test]
fn dev_node_includes_an_encrypted_transaction_from_the_cli() {
    let dir = tempfile::tempdir().unwrap();
    let genesis = genesis(&dir.path().join("g"));
    let data = dir.path().join("data");
    let port = aegis_testing::process::free_port().to_string();
    let child = Command::new(env!("CARGO_BIN_EXE_aegis"))
        .args([
            "node",
            "--datadir",
            p(&data),
            "--genesis",
            p(&genesis),
            "--dev",
            "--dev.period",
            "1",
            "--http.port",
            &port,
        ])
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let _guard = aegis_testing::process::Process(child);
    let started = Instant::now();
    let url = &format!("http://127.0.0.1:{port}");
    while rpc(url, "eth_chainId", json!([])).is_none() {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "JSON-RPC never came up"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    // The dev root is trusted out of band: read from the node's own data directory.
    let keys: Value = serde_json::from_str(&ok(&[
        "keys",
        "show",
        "--datadir",
        p(&data),
        "--chain-id",
        "901",
    ]))
    .unwrap();
    let root = keys["devRootPublicKey"].as_str().unwrap();
    let to = alloy_primitives::Address::repeat_byte(0x66);
    let tx = aegis_testing::transfer(
        aegis_testing::TxType::Eip1559,
        &aegis_testing::signer(0),
        901,
        0,
        to,
        4321,
    );
    let raw = alloy_primitives::hex::encode(&tx);
    let stderr = fails(&[
        "tx",
        "encrypt",
        "--rpc",
        url,
        "--raw",
        "0xnothex",
        "--dev-root",
        root,
    ]);
    assert!(stderr.contains("--raw"), "{stderr}");
    let envelope = ok(&[
        "tx",
        "encrypt",
        "--rpc",
        url,
        "--raw",
        &raw,
        "--dev-root",
        root,
    ]);
    let envelope = envelope.trim();
    // Truncated and replayed envelopes are refused; the original goes in once.
    let truncated = rpc(
        url,
        "aegis_sendEncryptedTransaction",
        json!([&envelope[..200]]),
    )
    .unwrap();
    assert_eq!(truncated["error"]["code"], json!(-32602), "{truncated}");
    let sent = rpc(url, "aegis_sendEncryptedTransaction", json!([envelope])).unwrap();
    let hash = sent["result"]
        .as_str()
        .expect("a transaction hash")
        .to_string();
    let replay = rpc(url, "aegis_sendEncryptedTransaction", json!([envelope])).unwrap();
    assert_eq!(
        replay["error"]["message"],
        json!("envelope already submitted")
    );
    let receipt = loop {
        let r = rpc(url, "eth_getTransactionReceipt", json!([hash])).unwrap();
        if !r["result"].is_null() {
            break r["result"].clone();
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "never included"
        );
        std::thread::sleep(Duration::from_millis(200));
    };
    assert_eq!(receipt["status"], json!("0x1"));
    let balance = rpc(url, "eth_getBalance", json!([to, "latest"])).unwrap();
    assert_eq!(balance["result"], json!("0x10e1"));
    // The decrypted transaction never went to the pool journal.
    let journal = std::fs::read(data.join("transactions.journal")).unwrap_or_default();
    assert!(
        !journal.windows(tx.len()).any(|w| w == &tx[..]),
        "plaintext of an encrypted transaction in the journal"
    );
}

/// A fake dstack guest agent answering `POST /GetKey` with a key derived from `app_secret` and
/// the requested path (as dstack derives per-app keys), until the test ends.
fn fake_dstack_agent(socket: &Path, app_secret: u8) {
    use std::io::{BufRead, BufReader, Read, Write};
    let listener = std::os::unix::net::UnixListener::bind(socket).unwrap();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { return };
            let mut reader = BufReader::new(stream);
            let mut request_line = String::new();
            reader.read_line(&mut request_line).unwrap();
            let mut length = 0;
            loop {
                let mut line = String::new();
                reader.read_line(&mut line).unwrap();
                if line == "\r\n" {
                    break;
                }
                if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                    length = v.trim().parse().unwrap();
                }
            }
            let mut body = vec![0; length];
            reader.read_exact(&mut body).unwrap();
            assert_eq!(request_line, "POST /GetKey HTTP/1.1\r\n");
            let request: Value = serde_json::from_slice(&body).unwrap();
            let path = request["path"].as_str().unwrap();
            let key = alloy_primitives::keccak256([&[app_secret][..], path.as_bytes()].concat());
            let answer = json!({"key": alloy_primitives::hex::encode(key), "signature_chain": []})
                .to_string();
            let mut stream = reader.into_inner();
            write!(
                stream,
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{answer}",
                answer.len()
            )
            .unwrap();
        }
    });
}

#[test]
fn dstack_seals_the_key_store_with_a_key_from_get_key() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let (ours, other) = (dir.path().join("ours.sock"), dir.path().join("other.sock"));
    fake_dstack_agent(&ours, 1);
    fake_dstack_agent(&other, 2);
    let with = |socket: &Path| {
        vec![
            "--datadir".to_owned(),
            p(&data).to_owned(),
            "--chain-id".to_owned(),
            "901".to_owned(),
            "--tee.provider".to_owned(),
            "dstack".to_owned(),
            "--tee.dstack-socket".to_owned(),
            p(socket).to_owned(),
        ]
    };
    let args = |cmd: &str, socket: &Path| {
        let mut all = vec!["keys".to_owned(), cmd.to_owned()];
        all.extend(with(socket));
        all
    };
    let run = |cmd: &str, socket: &Path| {
        let a = args(cmd, socket);
        aegis(&a.iter().map(String::as_str).collect::<Vec<_>>())
    };
    let init = run("init", &ours);
    assert!(
        init.status.success(),
        "{}",
        String::from_utf8_lossy(&init.stderr)
    );
    // No sealing key on disk: it comes from the agent each time.
    assert!(!data.join("keys/seal.key").exists());
    assert!(data.join("keys/sequencer.keystore").exists());
    let shown = run("show", &ours);
    assert!(
        shown.status.success(),
        "{}",
        String::from_utf8_lossy(&shown.stderr)
    );
    // Another app (another agent's key) cannot open the copied disk.
    let foreign = run("show", &other);
    assert!(!foreign.status.success());
    let stderr = String::from_utf8_lossy(&foreign.stderr);
    assert!(stderr.contains("sequencer.keystore"), "{stderr}");
    // No agent at all: a clear error naming the socket.
    let missing = run("show", &dir.path().join("absent.sock"));
    assert!(!missing.status.success());
    let stderr = String::from_utf8_lossy(&missing.stderr);
    assert!(stderr.contains("absent.sock"), "{stderr}");
}
