//! Child processes for integration tests and benches: free loopback ports, the project's tool
//! binaries, and processes killed when their handle drops (an assertion failing included).

use std::{
    net::TcpListener,
    path::{Path, PathBuf},
    process::Child,
};

/// A loopback port nobody listens on right now.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free loopback port")
        .port()
}

/// A tool `scripts/bootstrap.sh` installs (`anvil`, `cast`, `kona-node` …): the project's copy
/// in `.tools/bin`, else whatever `PATH` has.
pub fn tool(name: &str) -> PathBuf {
    let local = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../.tools/bin")
        .join(name);
    if local.exists() { local } else { name.into() }
}

/// `aegis node --dev` (1 s blocks, quiet, a 20,000-transaction pool without journal) from the
/// binary `aegis`, serving its wallet RPC on `port` with its data in `datadir`.
pub fn dev_node(aegis: &Path, port: u16, datadir: &Path) -> Process {
    dev_node_with(aegis, port, datadir, &[])
}

/// [`dev_node`] with `extra` flags.
pub fn dev_node_with(aegis: &Path, port: u16, datadir: &Path, extra: &[&str]) -> Process {
    let child = std::process::Command::new(aegis)
        .args([
            "node",
            "--dev",
            "--dev.period",
            "1",
            "--http.port",
            &port.to_string(),
        ])
        .arg("--datadir")
        .arg(datadir)
        .args(["--txpool.capacity", "20000", "--txpool.nojournal"])
        .args(extra)
        .env("RUST_LOG", "warn")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("aegis starts");
    Process(child)
}

/// A child process killed (and reaped) on drop.
#[derive(Debug)]
pub struct Process(pub Child);

impl Process {
    /// The child itself.
    pub fn child(&mut self) -> &mut Child {
        &mut self.0
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}
