//! Runs `tests/independent_open.py`: a third-party (Python) implementation,
//! written from the README, opens and re-seals the test vectors.
//!
//! The interpreter is `$AEGIS_PYTHON` or the project's test environment
//! (`.tools/bin/aegis-python`, installed by `scripts/bootstrap.sh` with kyber-py and
//! cryptography pinned in `scripts/toolchain/requirements-test.txt`). Without it the test fails.

use std::path::{Path, PathBuf};
use std::process::Command;

fn python() -> PathBuf {
    let path = std::env::var_os("AEGIS_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../.tools/bin/aegis-python")
        });
    assert!(
        path.exists(),
        "{} missing: run scripts/bootstrap.sh to install the Python test environment",
        path.display()
    );
    path
}

#[test]
fn python_implementation_opens_and_reseals_the_test_vectors() {
    let python = python();
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests");
    let out = Command::new(&python)
        .arg(dir.join("independent_open.py"))
        .arg(dir.join("vectors/v1.json"))
        .output()
        .expect("run independent_open.py");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    eprintln!("python: {}\n{stdout}{stderr}", python.display());
    assert!(out.status.success(), "independent_open.py failed");
    assert!(stdout.contains("independent check: OK"));
}
