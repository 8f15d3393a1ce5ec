#!/usr/bin/env bash
# Regenerates crates/bindings/abi/*.json (the ABIs the Rust bindings are generated from) from the
# Foundry build. `cargo test -p aegis-bindings` fails when they drift from the contracts.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
./scripts/bootstrap.sh >/dev/null
export PATH="$PWD/.tools/bin:$PATH"
for contract in SequencerAttestation QRMSOracle DevPckVerifier MlDsa87Verifier; do
  forge inspect "$contract" abi --json >"crates/bindings/abi/$contract.json"
done
