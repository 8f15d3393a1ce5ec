//! Runs `tests/independent_open.py`: a third-party (Python) implementation,
//! written from the README, opens and re-seals the test vectors.
//!
//! The interpreter is the first of `$AEGIS_PYTHON`,
//! `$HOME/.cache/quantumaegis/pyenv/bin/python3` and `python3` that can
//! import `kyber_py` and `cryptography`. Without one the test prints a skip
//! notice and passes, unless `AEGIS_REQUIRE_PYTHON=1`, which makes it fail.

use std::path::{Path, PathBuf};
use std::process::Command;

fn candidates() -> Vec<PathBuf> {
    let mut out = Vec::new();
    if let Some(python) = std::env::var_os("AEGIS_PYTHON") {
        out.push(PathBuf::from(python));
    }
    if let Some(home) = std::env::var_os("HOME") {
        out.push(Path::new(&home).join(".cache/quantumaegis/pyenv/bin/python3"));
    }
    out.push(PathBuf::from("python3"));
    out
}

fn usable(python: &Path) -> bool {
    Command::new(python)
        .args([
            "-c",
            "import kyber_py.ml_kem, cryptography.hazmat.primitives.ciphers.aead",
        ])
        .output()
        .map(|out| out.status.success())
        .unwrap_or(false)
}

#[test]
fn python_implementation_opens_and_reseals_the_test_vectors() {
    let Some(python) = candidates().into_iter().find(|p| usable(p)) else {
        let msg = "SKIPPED independent_open.py: no python3 with kyber-py and cryptography \
                   (set AEGIS_PYTHON, or pip install kyber-py cryptography)";
        if std::env::var_os("AEGIS_REQUIRE_PYTHON").is_some() {
            panic!("{msg}");
        }
        eprintln!("{msg}");
        return;
    };
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
