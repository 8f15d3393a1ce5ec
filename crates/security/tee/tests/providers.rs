//! Attestation providers against emulated configfs-tsm and dstack endpoints.

use aegis_tee::{AttestationProvider, ConfigfsTsm, Dstack, Simulator, TeeError, verify_dev};
use std::{path::Path, time::Duration};
use tokio::{
    io::{AsyncBufReadExt, AsyncWriteExt, BufReader},
    net::UnixListener,
};

fn sim() -> Simulator {
    Simulator::new([0x17; 32]).unwrap()
}

#[tokio::test]
async fn simulator_provider() {
    let sim = sim();
    let p = AttestationProvider::Simulator(sim.clone());
    assert_eq!(p.kind(), "simulator");
    let q = p.quote([3; 64]).await.unwrap();
    let v = verify_dev(&q, &sim.dev_root_public_key()).unwrap();
    assert_eq!(v.report_data, [3; 64]);
}

// ----- configfs-tsm ----------------------------------------------------------------------------

#[tokio::test]
async fn configfs_tsm_with_an_emulated_entry() {
    let dir = tempfile::tempdir().unwrap();
    let sim = sim();
    // The "kernel" has already produced the quote for this entry.
    let entry = dir.path().join("e1");
    std::fs::create_dir(&entry).unwrap();
    let expected = sim.quote([7; 64]);
    std::fs::write(entry.join("outblob"), &expected).unwrap();

    let p = AttestationProvider::ConfigfsTsm(ConfigfsTsm::new(dir.path()).with_entry_name("e1"));
    assert_eq!(p.kind(), "configfs-tsm");
    let q = p.quote([7; 64]).await.unwrap();
    assert_eq!(q, expected);
    assert_eq!(std::fs::read(entry.join("inblob")).unwrap(), [7u8; 64]);
    // Not created by the provider, so not removed.
    assert!(entry.exists());
    verify_dev(&q, &sim.dev_root_public_key()).unwrap();
}

#[tokio::test]
async fn configfs_tsm_detects_a_concurrent_writer() {
    let dir = tempfile::tempdir().unwrap();
    let entry = dir.path().join("e2");
    std::fs::create_dir(&entry).unwrap();
    std::fs::write(entry.join("outblob"), sim().quote([0; 64])).unwrap();
    // A generation that does not move by one between inblob and outblob.
    std::fs::write(entry.join("generation"), "3\n").unwrap();
    let err = ConfigfsTsm::new(dir.path())
        .with_entry_name("e2")
        .quote([0; 64])
        .await
        .unwrap_err();
    assert_eq!(
        err,
        TeeError::ConfigfsTsmRace {
            path: entry.clone(),
            before: 3,
            after: 3
        }
    );
    std::fs::write(entry.join("generation"), "three").unwrap();
    assert!(matches!(
        ConfigfsTsm::new(dir.path())
            .with_entry_name("e2")
            .quote([0; 64])
            .await,
        Err(TeeError::ConfigfsTsm {
            operation: "parse",
            ..
        })
    ));
}

#[tokio::test]
async fn configfs_tsm_errors_name_the_path() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("tsm/report");
    let err = ConfigfsTsm::new(&missing).quote([0; 64]).await.unwrap_err();
    assert!(
        matches!(&err, TeeError::ConfigfsTsmUnavailable { path, .. } if path == &missing),
        "{err}"
    );
    assert!(err.to_string().contains("tsm/report"));

    let file = dir.path().join("file");
    std::fs::write(&file, b"").unwrap();
    assert!(matches!(
        ConfigfsTsm::new(&file).quote([0; 64]).await,
        Err(TeeError::ConfigfsTsmUnavailable { .. })
    ));

    // A plain directory is not configfs: the kernel does not create an outblob.
    let err = ConfigfsTsm::new(dir.path())
        .quote([0; 64])
        .await
        .unwrap_err();
    match &err {
        TeeError::ConfigfsTsm {
            operation, path, ..
        } => {
            assert_eq!(*operation, "read");
            assert!(path.ends_with("outblob"));
            let entry = path.parent().unwrap().file_name().unwrap();
            assert!(entry.to_str().unwrap().starts_with("aegis-"), "{entry:?}");
        }
        other => panic!("unexpected {other}"),
    }

    for bad in ["", "..", "a/b"] {
        assert!(matches!(
            ConfigfsTsm::new(dir.path())
                .with_entry_name(bad)
                .quote([0; 64])
                .await,
            Err(TeeError::ConfigfsTsm {
                operation: "name entry",
                ..
            })
        ));
    }

    // An empty outblob is refused.
    let entry = dir.path().join("empty");
    std::fs::create_dir(&entry).unwrap();
    std::fs::write(entry.join("outblob"), b"").unwrap();
    assert!(
        ConfigfsTsm::new(dir.path())
            .with_entry_name("empty")
            .quote([0; 64])
            .await
            .is_err()
    );
}

// ----- dstack ----------------------------------------------------------------------------------

#[derive(Clone, Copy)]
enum Reply {
    ContentLength,
    Chunked,
    UntilClose,
    ServerError,
    Silent,
}

/// A fake dstack agent: answers `GET /GetQuote?report_data=<hex>` with a simulator quote.
fn spawn_agent(socket: &Path, sim: Simulator, reply: Reply) {
    let listener = UnixListener::bind(socket).unwrap();
    tokio::spawn(async move {
        loop {
            let (stream, _) = listener.accept().await.unwrap();
            let sim = sim.clone();
            tokio::spawn(async move {
                let mut reader = BufReader::new(stream);
                let mut request_line = String::new();
                reader.read_line(&mut request_line).await.unwrap();
                let mut host = None;
                loop {
                    let mut line = String::new();
                    reader.read_line(&mut line).await.unwrap();
                    if line == "\r\n" {
                        break;
                    }
                    if let Some(h) = line.strip_prefix("Host: ") {
                        host = Some(h.trim().to_owned());
                    }
                }
                assert_eq!(host.as_deref(), Some("dstack"));
                let target = request_line
                    .strip_prefix("GET /GetQuote?report_data=")
                    .and_then(|r| r.strip_suffix(" HTTP/1.1\r\n"))
                    .unwrap();
                let report_data: [u8; 64] = hex::decode(target).unwrap().try_into().unwrap();
                let body = serde_json::json!({
                    "quote": hex::encode(sim.quote(report_data)),
                    "event_log": "[{\"imr\":0,\"event\":\"x\"}]",
                    "report_data": target,
                })
                .to_string();
                let mut stream = reader.into_inner();
                let response = match reply {
                    Reply::ContentLength => format!(
                        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\
                         Content-Length: {}\r\n\r\n{body}",
                        body.len()
                    ),
                    Reply::Chunked => {
                        let mut r =
                            String::from("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
                        for chunk in body.as_bytes().chunks(1000) {
                            r.push_str(&format!("{:x}\r\n", chunk.len()));
                            r.push_str(std::str::from_utf8(chunk).unwrap());
                            r.push_str("\r\n");
                        }
                        r.push_str("0\r\n\r\n");
                        r
                    }
                    Reply::UntilClose => format!("HTTP/1.1 200 OK\r\n\r\n{body}"),
                    Reply::ServerError => {
                        "HTTP/1.1 500 Internal Server Error\r\nContent-Length: 4\r\n\r\noops"
                            .to_owned()
                    }
                    Reply::Silent => {
                        tokio::time::sleep(Duration::from_secs(60)).await;
                        return;
                    }
                };
                stream.write_all(response.as_bytes()).await.unwrap();
                stream.shutdown().await.unwrap();
            });
        }
    });
}

#[tokio::test]
async fn dstack_agent_answers() {
    let sim = sim();
    for reply in [Reply::ContentLength, Reply::Chunked, Reply::UntilClose] {
        let dir = tempfile::tempdir().unwrap();
        let socket = dir.path().join("dstack.sock");
        spawn_agent(&socket, sim.clone(), reply);
        let p = AttestationProvider::Dstack(Dstack::new(&socket));
        assert_eq!(p.kind(), "dstack");
        let q = p.quote([0xab; 64]).await.unwrap();
        let v = verify_dev(&q, &sim.dev_root_public_key()).unwrap();
        assert_eq!(v.report_data, [0xab; 64]);
    }
}

#[tokio::test]
async fn dstack_errors() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.sock");
    assert!(matches!(
        Dstack::new(&missing).quote([0; 64]).await,
        Err(TeeError::DstackUnavailable { path, .. }) if path == missing
    ));

    let socket = dir.path().join("error.sock");
    spawn_agent(&socket, sim(), Reply::ServerError);
    let err = Dstack::new(&socket).quote([0; 64]).await.unwrap_err();
    assert!(err.to_string().contains("500"), "{err}");

    let socket = dir.path().join("silent.sock");
    spawn_agent(&socket, sim(), Reply::Silent);
    let err = Dstack::new(&socket)
        .with_timeout(Duration::from_millis(200))
        .quote([0; 64])
        .await
        .unwrap_err();
    assert!(err.to_string().contains("no answer"), "{err}");
}
