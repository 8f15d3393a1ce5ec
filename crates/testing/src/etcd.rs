//! A real etcd cluster on loopback for integration tests: `n` members (Debian's `etcd-server`,
//! which `scripts/bootstrap.sh` installs), each killable and restartable on its own data.

use crate::process::{Process, free_port};
use std::{
    io::{Read as _, Write as _},
    net::TcpStream,
    path::PathBuf,
    process::{Command, Stdio},
    time::{Duration, Instant},
};

/// One member: its ports, its data directory and, while it runs, its process.
#[derive(Debug)]
struct Member {
    name: String,
    client_port: u16,
    peer_port: u16,
    process: Option<Process>,
}

/// An etcd cluster whose members die with it.
#[derive(Debug)]
pub struct EtcdCluster {
    dir: tempfile::TempDir,
    members: Vec<Member>,
}

impl EtcdCluster {
    /// Starts `n` members and waits until every one answers on its client port.
    pub fn start(n: usize) -> Self {
        let members = (0..n)
            .map(|i| Member {
                name: format!("m{i}"),
                client_port: free_port(),
                peer_port: free_port(),
                process: None,
            })
            .collect();
        let mut cluster = Self {
            dir: tempfile::tempdir().expect("temp dir"),
            members,
        };
        for i in 0..n {
            cluster.spawn(i);
        }
        cluster.wait_healthy();
        cluster
    }

    /// Waits until every running member reports a raft leader (`GET /health`).
    pub fn wait_healthy(&self) {
        let deadline = Instant::now() + Duration::from_secs(30);
        for (i, m) in self.members.iter().enumerate() {
            if m.process.is_none() {
                continue;
            }
            while !healthy(m.client_port) {
                assert!(
                    Instant::now() < deadline,
                    "etcd member {i} never became healthy"
                );
                std::thread::sleep(Duration::from_millis(50));
            }
        }
    }

    /// The client URLs of all members (running or not).
    pub fn endpoints(&self) -> Vec<String> {
        self.members
            .iter()
            .map(|m| format!("http://127.0.0.1:{}", m.client_port))
            .collect()
    }

    /// SIGKILLs member `i`.
    pub fn kill(&mut self, i: usize) {
        self.members[i].process = None;
    }

    /// Restarts member `i` on its data directory and waits until the cluster is healthy.
    pub fn restart(&mut self, i: usize) {
        self.spawn(i);
        self.wait_healthy();
    }

    fn data_dir(&self, i: usize) -> PathBuf {
        self.dir.path().join(&self.members[i].name)
    }

    fn spawn(&mut self, i: usize) {
        let initial: Vec<String> = self
            .members
            .iter()
            .map(|m| format!("{}=http://127.0.0.1:{}", m.name, m.peer_port))
            .collect();
        let m = &self.members[i];
        let client = format!("http://127.0.0.1:{}", m.client_port);
        let peer = format!("http://127.0.0.1:{}", m.peer_port);
        let log = std::fs::File::create(self.dir.path().join(format!("{}.log", m.name)))
            .expect("log file");
        let child = Command::new("etcd")
            .args(["--name", &m.name])
            .arg("--data-dir")
            .arg(self.data_dir(i))
            .args(["--listen-client-urls", &client])
            .args(["--advertise-client-urls", &client])
            .args(["--listen-peer-urls", &peer])
            .args(["--initial-advertise-peer-urls", &peer])
            .args(["--initial-cluster", &initial.join(",")])
            .args(["--initial-cluster-state", "new"])
            .args(["--initial-cluster-token", "aegis-test"])
            // Loopback: elections in a fraction of a second.
            .args(["--heartbeat-interval", "50", "--election-timeout", "500"])
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("etcd (Debian's etcd-server; scripts/bootstrap.sh installs it)");
        self.members[i].process = Some(Process(child));
    }
}

/// One plain HTTP/1.0 `GET /health` (no async runtime involved: tests call this from one).
fn healthy(port: u16) -> bool {
    let Ok(mut stream) = TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
    let mut body = String::new();
    stream
        .write_all(b"GET /health HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")
        .and_then(|()| stream.read_to_string(&mut body))
        .is_ok_and(|_| body.contains("\"health\":\"true\""))
}
