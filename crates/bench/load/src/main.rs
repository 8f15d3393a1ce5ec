//! `aegis-load`: sends the same pre-signed load to one or more nodes, one after the other, and
//! prints each run's report and every node's ratio to the first.
//!
//! ```text
//! aegis-load --rpc aegis=http://127.0.0.1:8545 --rpc anvil=http://127.0.0.1:8546 \
//!     --txs 20000 --senders 100 --connections 8 --batch 100 --mix erc20
//! ```
//!
//! Exits with status 1 if a node lost a transaction it accepted.

use aegis_load::{LoadConfig, Mix, Transport, compare, run};
use alloy_primitives::B256;
use clap::Parser;
use std::{process::ExitCode, time::Duration};

#[derive(Parser, Debug)]
#[command(
    version,
    about = "Concurrent JSON-RPC transaction load against one or more nodes"
)]
struct Cli {
    /// A node to load, as URL or NAME=URL; repeat to compare nodes (the first is the reference
    /// of the ratios).
    #[arg(long = "rpc", required = true, value_parser = parse_target)]
    targets: Vec<(String, String)>,
    /// Transactions in the timed load.
    #[arg(long, default_value_t = 20_000)]
    txs: usize,
    /// Senders (fresh keys funded by --funder-key).
    #[arg(long, default_value_t = 100)]
    senders: usize,
    /// Concurrent connections.
    #[arg(long, default_value_t = 8)]
    connections: usize,
    /// Transactions per JSON-RPC batch.
    #[arg(long, default_value_t = 100)]
    batch: usize,
    /// http or ws.
    #[arg(long, default_value = "http")]
    transport: Transport,
    /// Kinds of transaction: eth, erc20, call, or weights such as eth=1,erc20=2,call=1.
    #[arg(long, default_value = "erc20")]
    mix: Mix,
    /// Private key that funds the senders (default: the first anvil / `aegis --dev` account).
    #[arg(
        long = "funder-key",
        env = "AEGIS_LOAD_FUNDER_KEY",
        hide_env_values = true
    )]
    funder_key: Option<B256>,
    /// Seed of the sender keys: another seed gives other senders.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Max fee per gas, gwei.
    #[arg(long = "max-fee", default_value_t = 100)]
    max_fee_gwei: u64,
    /// Seconds without a new inclusion after which the accepted transactions not yet included
    /// count as lost.
    #[arg(long, default_value_t = 30)]
    patience: u64,
}

fn parse_target(value: &str) -> Result<(String, String), String> {
    let (name, url) = match value.split_once('=') {
        Some((name, url)) => (name.to_string(), url.to_string()),
        None => (value.to_string(), value.to_string()),
    };
    if !["http://", "https://", "ws://", "wss://"]
        .iter()
        .any(|scheme| url.starts_with(scheme))
    {
        return Err(format!("{url:?} is not an http(s) or ws(s) URL"));
    }
    Ok((name, url))
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let config = LoadConfig {
        txs: cli.txs,
        senders: cli.senders,
        connections: cli.connections,
        batch: cli.batch,
        transport: cli.transport,
        mix: cli.mix,
        funder: cli.funder_key.unwrap_or(aegis_load::DEV_KEY_0),
        seed: cli.seed,
        max_fee: u128::from(cli.max_fee_gwei) * 1_000_000_000,
        patience: Duration::from_secs(cli.patience),
        ..LoadConfig::default()
    };
    let weth = aegis_testing::weth_runtime(&aegis_testing::spec(None, None));
    let mut reports = Vec::new();
    for (name, url) in &cli.targets {
        match run(name, url, &config, &weth).await {
            Ok(report) => {
                println!("{report}");
                reports.push(report);
            }
            Err(e) => {
                eprintln!("error: {name}: {e}");
                return ExitCode::from(2);
            }
        }
    }
    for other in reports.iter().skip(1) {
        println!("{}", compare(&reports[0], other));
    }
    if reports.iter().all(|r| r.nothing_lost()) {
        ExitCode::SUCCESS
    } else {
        eprintln!("error: accepted transactions were lost");
        ExitCode::from(1)
    }
}
