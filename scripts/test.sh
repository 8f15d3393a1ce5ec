#!/usr/bin/env bash
# Full local/CI check: toolchain bootstrap, Rust fmt + clippy + tests + doctests, and the
# Solidity side (forge fmt + forge test) when the repository has a foundry.toml.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

step() { echo "==> $*" >&2; }

step "bootstrap"
# kona-node drives the devnet integration test.
./scripts/bootstrap.sh --kona

export PATH="$PWD/.tools/bin:$PATH"

# cargo-nextest goes into the default cargo bin directory, built outside the project target dir.
nextest=0
if cargo nextest --version >/dev/null 2>&1; then
  nextest=1
else
  step "installing cargo-nextest"
  if cargo install --locked cargo-nextest; then
    nextest=1
  else
    echo "test.sh: cargo-nextest could not be installed; falling back to cargo test" >&2
  fi
fi

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/quantumaegis/target}"

step "cargo fmt"
cargo fmt --all -- --check

step "cargo clippy"
cargo clippy --workspace --all-targets -- -D warnings

if [[ "$nextest" == 1 ]]; then
  step "cargo nextest"
  cargo nextest run --workspace --no-fail-fast
else
  step "cargo test"
  cargo test --workspace --no-fail-fast
fi

step "cargo test --doc"
cargo test --workspace --doc

if [[ -f foundry.toml ]]; then
  step "forge fmt"
  forge fmt --check
  step "forge test"
  forge test --gas-report
fi

step "all checks passed"
