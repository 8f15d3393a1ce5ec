//! Genesis hashes of real OP Stack chains, as published in the superchain registry, plus one
//! small published op-geth genesis / `rollup.json` pair.
//!
//! The vectors are data derived from `ethereum-optimism/superchain-registry` (each chain's
//! genesis and the `[genesis.l2] hash` of its TOML) and `base/benchmark`, and live outside this
//! repository, in `$AEGIS_SUPERCHAIN_FIXTURES` (default
//! `/work/shared/fixtures/superchain-genesis`, see the README there). Without them these tests
//! only print a notice.

use aegis_chainspec::{ChainSpec, OpFork};
use serde_json::{Map, Value, json};
use std::{collections::HashMap, path::PathBuf};

fn fixture_dir() -> Option<PathBuf> {
    let dir = std::env::var_os("AEGIS_SUPERCHAIN_FIXTURES").map_or_else(
        || PathBuf::from("/work/shared/fixtures/superchain-genesis"),
        PathBuf::from,
    );
    dir.join("codes.json").is_file().then_some(dir)
}

/// Rebuilds the op-geth genesis JSON of a compact fixture (see `make_fixtures.py`).
fn expand(fixture: &Value, codes: &HashMap<String, String>) -> String {
    let code_ids: Vec<&str> = fixture["codes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap())
        .collect();
    let keys = fixture["storage_keys"].as_array().unwrap();
    let values = fixture["storage_values"].as_array().unwrap();
    let mut alloc = Map::new();
    let mut previous: Option<u128> = None;
    let mut high_bytes = String::new();
    for entry in fixture["accounts"].as_array().unwrap() {
        let entry = entry.as_array().unwrap();
        // Addresses are 160 bits: keep the top 32 bits as text, the low 128 bits as a number.
        let address = match &entry[0] {
            Value::String(full) => {
                high_bytes = full[..8].to_owned();
                let low = u128::from_str_radix(&full[8..], 16).unwrap();
                previous = Some(low);
                full.clone()
            }
            Value::Number(delta) => {
                let low = previous.unwrap() + u128::from(delta.as_u64().unwrap());
                previous = Some(low);
                format!("{high_bytes}{low:032x}")
            }
            other => panic!("bad address {other}"),
        };
        let mut account = Map::new();
        account.insert("balance".into(), entry[2].clone());
        let nonce = entry[1].as_u64().unwrap();
        if nonce != 0 {
            account.insert("nonce".into(), json!(format!("{nonce:#x}")));
        }
        if let Some(id) = entry[3].as_i64().filter(|id| *id >= 0) {
            let code = &codes[code_ids[usize::try_from(id).unwrap()]];
            account.insert("code".into(), json!(code));
        }
        if let Some(pairs) = entry.get(4) {
            let pairs = pairs.as_array().unwrap();
            let storage: Map<String, Value> = pairs
                .chunks(2)
                .map(|kv| {
                    let key = keys[usize::try_from(kv[0].as_u64().unwrap()).unwrap()].clone();
                    let value = values[usize::try_from(kv[1].as_u64().unwrap()).unwrap()].clone();
                    (key.as_str().unwrap().to_owned(), value)
                })
                .collect();
            account.insert("storage".into(), Value::Object(storage));
        }
        alloc.insert(address, Value::Object(account));
    }
    let mut genesis = fixture["genesis"].clone();
    genesis["alloc"] = Value::Object(alloc);
    genesis.to_string()
}

#[test]
fn superchain_registry_genesis_hashes() {
    let Some(dir) = fixture_dir() else {
        eprintln!("superchain registry genesis vectors not found; set AEGIS_SUPERCHAIN_FIXTURES");
        return;
    };
    let codes: HashMap<String, String> =
        serde_json::from_str(&std::fs::read_to_string(dir.join("codes.json")).unwrap()).unwrap();
    // (fixture, fork active at genesis)
    let cases = [
        ("sepolia-devnet-2", OpFork::Jovian),
        ("radius-testnet", OpFork::Holocene),
        ("bob-mainnet", OpFork::Ecotone),
        ("op-sepolia", OpFork::Regolith),
    ];
    for (name, fork) in cases {
        let path = dir.join(format!("{name}.json"));
        let fixture: Value =
            serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        let spec = ChainSpec::from_genesis_json(&expand(&fixture, &codes))
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(spec.fork_at(spec.genesis_timestamp()), fork, "{name}");
        assert_eq!(
            format!("{}", spec.genesis_hash()),
            fixture["expected_hash"].as_str().unwrap(),
            "{name} ({})",
            fixture["source"]
        );
    }
}

#[test]
fn small_published_genesis_hash() {
    let Some(dir) = fixture_dir() else {
        eprintln!("genesis vectors not found; set AEGIS_SUPERCHAIN_FIXTURES");
        return;
    };
    // base/benchmark@218e9db: genesis.json and the `genesis.l2.hash` of its rollup.json.
    let json = std::fs::read_to_string(dir.join("base-benchmark-genesis.json")).unwrap();
    let spec = ChainSpec::from_genesis_json(&json).unwrap();
    assert_eq!(spec.fork_at(spec.genesis_timestamp()), OpFork::Isthmus);
    let header = spec.genesis_header();
    assert_eq!(header.difficulty, alloy_primitives::U256::from(1));
    assert_eq!(header.base_fee_per_gas, Some(1_000_000_000));
    assert_eq!(
        format!("{}", spec.genesis_hash()),
        "0xf53ca979d47dd597f1c2d6525d25f2803eeccff9f754dd8cda7f8749b6608ba9"
    );
}
