#!/usr/bin/env bash
# Builds and starts a local aegis node. Extra arguments are passed to `aegis node`.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

./scripts/bootstrap.sh

export PATH="$PWD/.tools/bin:$PATH"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/quantumaegis/target}"

exec cargo run --release -p aegis-node --bin aegis -- node --dev --http "$@"
