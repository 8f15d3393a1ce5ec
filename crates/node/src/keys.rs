//! Sequencer keys, TEE attestation and encrypted transactions: the `keys`, `attest` and `tx`
//! subcommands and the node's key and attestation wiring.

use aegis_attest::{AttestedNode, Identity, IdentityConfig, QuoteTrust, verify_quote};
use aegis_pqc::{SealingKey, Signer as _, SlhDsaVariant};
use aegis_tee::{AttestationProvider, ConfigfsTsm, Dstack, Simulator};
use alloy_primitives::hex;
use anyhow::{Context, bail};
use clap::{Args, Subcommand, ValueEnum};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use zeroize::Zeroizing;

/// Where quotes come from.
#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
pub(crate) enum TeeProvider {
    /// Development quotes signed under a development root (no TEE).
    Simulator,
    /// Linux configfs-tsm (a TDX guest).
    ConfigfsTsm,
    /// The Phala dstack guest agent.
    Dstack,
}

/// The sequencer's sealed keys and its TEE.
#[derive(Args, Debug, Clone)]
#[command(next_help_heading = "Keys and attestation")]
pub(crate) struct KeysArgs {
    /// Load the sequencer keys (implied by --dev and by the batcher): batch signing,
    /// attestation and the encrypted mempool.
    #[arg(long = "keys", env = "AEGIS_KEYS")]
    pub(crate) load: bool,
    /// Sealed key store (default: <datadir>/keys/sequencer.keystore).
    #[arg(long = "keys.keystore", env = "AEGIS_KEYSTORE")]
    pub(crate) keystore: Option<PathBuf>,
    /// File holding the 32-byte sealing secret as hex (default: <datadir>/keys/seal.key).
    /// In a TEE deployment it comes from the attestation provider's key derivation.
    #[arg(long = "keys.seal-key-file", env = "AEGIS_SEAL_KEY_FILE")]
    pub(crate) seal_key_file: Option<PathBuf>,
    /// Seal with the passphrase in this environment variable (Argon2id) instead of a key file.
    #[arg(long = "keys.passphrase-env", env = "AEGIS_KEYS_PASSPHRASE_ENV")]
    pub(crate) passphrase_env: Option<String>,
    /// SLH-DSA-256s hash family of new keys.
    #[arg(long = "keys.slh-dsa", env = "AEGIS_KEYS_SLH_DSA", default_value = "sha2", value_parser = parse_variant)]
    pub(crate) slh_variant: SlhDsaVariant,
    /// Rotate the post-quantum and mempool keys every this many seconds (0: only on demand,
    /// through `aegis_rotateKeys` on the engine port).
    #[arg(
        long = "keys.rotate-every",
        env = "AEGIS_KEYS_ROTATE_EVERY",
        default_value_t = 0
    )]
    pub(crate) rotate_every: u64,
    /// Attestation provider.
    #[arg(
        long = "tee.provider",
        env = "AEGIS_TEE_PROVIDER",
        value_enum,
        default_value = "simulator"
    )]
    pub(crate) provider: TeeProvider,
    /// Seed of the simulator's development keys (default: <datadir>/tee/simulator.seed).
    #[arg(long = "tee.simulator-seed", env = "AEGIS_TEE_SIMULATOR_SEED")]
    pub(crate) simulator_seed: Option<PathBuf>,
    /// dstack guest agent socket.
    #[arg(long = "tee.dstack-socket", env = "AEGIS_TEE_DSTACK_SOCKET", default_value = aegis_tee::DEFAULT_DSTACK_SOCKET)]
    pub(crate) dstack_socket: PathBuf,
    /// configfs-tsm report directory.
    #[arg(long = "tee.configfs-dir", env = "AEGIS_TEE_CONFIGFS_DIR", default_value = aegis_tee::DEFAULT_CONFIGFS_TSM_DIR)]
    pub(crate) configfs_dir: PathBuf,
}

/// The dstack GetKey path the key store's sealing key is derived at.
const DSTACK_SEALING_PATH: &str = "quantumaegis/keystore/v1";

/// Runs `future` to completion from synchronous code, inside the node's runtime or not.
fn block_on<F: std::future::Future>(future: F) -> F::Output {
    match tokio::runtime::Handle::try_current() {
        Ok(handle) => tokio::task::block_in_place(|| handle.block_on(future)),
        Err(_) => tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime for one request")
            .block_on(future),
    }
}

fn parse_variant(value: &str) -> Result<SlhDsaVariant, String> {
    value.parse()
}

impl KeysArgs {
    fn keystore(&self, datadir: &Path) -> PathBuf {
        self.keystore
            .clone()
            .unwrap_or_else(|| datadir.join("keys/sequencer.keystore"))
    }

    fn sealing(&self, datadir: &Path, create: bool) -> anyhow::Result<SealingKey> {
        if let Some(var) = &self.passphrase_env {
            let passphrase = std::env::var(var).with_context(|| {
                format!("--keys.passphrase-env: environment variable {var} is not set")
            })?;
            return Ok(SealingKey::Passphrase(Zeroizing::new(passphrase)));
        }
        if self.seal_key_file.is_none() && matches!(self.provider, TeeProvider::Dstack) {
            // In a dstack CVM the sealing key is derived by the guest agent for this app and
            // never stored: a copied disk does not open anywhere else.
            let dstack = Dstack::new(&self.dstack_socket);
            let secret = block_on(dstack.get_key(DSTACK_SEALING_PATH, "aegis-keystore-seal"))
                .with_context(|| {
                    format!(
                        "sealing key from the dstack agent at {}",
                        self.dstack_socket.display()
                    )
                })?;
            return Ok(SealingKey::Secret(secret));
        }
        let path = self
            .seal_key_file
            .clone()
            .unwrap_or_else(|| datadir.join("keys/seal.key"));
        Ok(SealingKey::from_key_file(&path, create)?)
    }

    pub(crate) fn provider(&self, datadir: &Path) -> anyhow::Result<AttestationProvider> {
        Ok(match self.provider {
            TeeProvider::Simulator => {
                let seed = self
                    .simulator_seed
                    .clone()
                    .unwrap_or_else(|| datadir.join("tee/simulator.seed"));
                if let Some(parent) = seed.parent() {
                    std::fs::create_dir_all(parent)
                        .with_context(|| format!("creating {}", parent.display()))?;
                }
                AttestationProvider::Simulator(
                    Simulator::from_seed_file(&seed)
                        .with_context(|| format!("simulator seed {}", seed.display()))?,
                )
            }
            TeeProvider::ConfigfsTsm => {
                AttestationProvider::ConfigfsTsm(ConfigfsTsm::new(&self.configfs_dir))
            }
            TeeProvider::Dstack => AttestationProvider::Dstack(Dstack::new(&self.dstack_socket)),
        })
    }

    /// Opens the identity. `create` (dev mode) makes missing key material; otherwise a missing
    /// key store stops the node, naming the file.
    pub(crate) fn open(
        &self,
        datadir: &Path,
        chain_id: u64,
        create: bool,
    ) -> anyhow::Result<Identity> {
        let keystore = self.keystore(datadir);
        if !create && !keystore.exists() {
            // Named before the sealing key is looked for: the key store is what is missing.
            return Err(aegis_pqc::PqcError::KeyStoreMissing(keystore).into());
        }
        let identity = Identity::open(IdentityConfig {
            chain_id,
            keystore: keystore.clone(),
            sealing: self.sealing(datadir, create)?,
            create_if_missing: create,
            slh_variant: self.slh_variant,
            provider: self.provider(datadir)?,
        })
        .with_context(|| format!("sequencer keys {}", keystore.display()))?;
        Ok(identity)
    }
}

/// `aegis keys ...`
#[derive(Subcommand, Debug)]
pub(crate) enum KeysCommand {
    /// Create the sealed key store (secp256k1, ML-DSA-87, SLH-DSA-256s and mempool keys).
    Init {
        #[command(flatten)]
        datadir: crate::DatadirArgs,
        /// L2 chain id the keys serve.
        #[arg(long = "chain-id")]
        chain_id: u64,
        #[command(flatten)]
        keys: KeysArgs,
    },
    /// Print the public keys, their hashes and the REPORTDATA binding.
    Show {
        #[command(flatten)]
        datadir: crate::DatadirArgs,
        /// L2 chain id the keys serve.
        #[arg(long = "chain-id")]
        chain_id: u64,
        #[command(flatten)]
        keys: KeysArgs,
    },
}

fn public_summary(identity: &Identity) -> Value {
    let keys = identity.current_keys();
    let encryption = identity.encryption_public_key();
    json!({
        "sequencer": identity.address(),
        "chainId": identity.chain_id(),
        "keyEpoch": keys.epoch,
        "mldsaKeyHash": keys.mldsa.key_hash(),
        "slhdsaAlgorithm": keys.slhdsa.algorithm().name(),
        "slhdsaKeyHash": keys.slhdsa.key_hash(),
        "encryptionKeyHash": encryption.key_hash(),
        "provider": identity.provider().kind(),
        "devRootPublicKey": identity.provider().dev_root_public_key().map(hex::encode_prefixed),
        "pckPublicKey": identity.provider().pck_public_key().map(hex::encode_prefixed),
        "workloadId": identity.provider().simulated_workload_id(),
    })
}

pub(crate) fn keys_command(command: KeysCommand) -> anyhow::Result<()> {
    match command {
        KeysCommand::Init {
            datadir,
            chain_id,
            keys,
        } => {
            let path = keys.keystore(&datadir.datadir);
            if path.exists() {
                bail!(
                    "key store {} already exists; refusing to overwrite it",
                    path.display()
                );
            }
            Identity::create_keystore(
                &path,
                keys.sealing(&datadir.datadir, true)?,
                chain_id,
                keys.slh_variant,
            )
            .with_context(|| format!("creating {}", path.display()))?;
            let identity = keys.open(&datadir.datadir, chain_id, false)?;
            println!(
                "{}",
                serde_json::to_string_pretty(&public_summary(&identity))?
            );
            Ok(())
        }
        KeysCommand::Show {
            datadir,
            chain_id,
            keys,
        } => {
            let identity = keys.open(&datadir.datadir, chain_id, false)?;
            println!(
                "{}",
                serde_json::to_string_pretty(&public_summary(&identity))?
            );
            Ok(())
        }
    }
}

/// `aegis attest ...`
#[derive(Subcommand, Debug)]
pub(crate) enum AttestCommand {
    /// Parse and verify a TDX quote (raw bytes or hex text); exit status 0 only if it verifies.
    Verify {
        /// The quote file.
        quote: PathBuf,
        /// DCAP collateral JSON (real quotes, verified against Intel's root CA).
        #[arg(long)]
        collateral: Option<PathBuf>,
        /// Verify as of this time (RFC 3339, UTC), default now.
        #[arg(long)]
        at: Option<String>,
        /// Development root public key (x ‖ y hex) for simulator quotes.
        #[arg(long = "dev-root")]
        dev_root: Option<String>,
    },
    /// Produce a simulator quote for REPORTDATA (prints hex; the dev root goes to stderr).
    Simulate {
        /// Simulator seed file (created if missing).
        #[arg(long = "seed-file")]
        seed_file: PathBuf,
        /// The 64-byte REPORTDATA as hex.
        #[arg(long = "report-data")]
        report_data: String,
    },
}

/// Reads a quote file holding raw bytes or hex text.
fn read_quote(path: &Path) -> anyhow::Result<Vec<u8>> {
    let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    let text = std::str::from_utf8(&bytes).ok().map(str::trim);
    Ok(match text {
        Some(t)
            if !t.is_empty()
                && t.trim_start_matches("0x")
                    .bytes()
                    .all(|b| b.is_ascii_hexdigit()) =>
        {
            hex::decode(t).with_context(|| format!("{}: odd-length hex", path.display()))?
        }
        _ => bytes,
    })
}

/// A development root (x ‖ y, 64 bytes of hex, `0x` optional) given by `flag`, which the error
/// names along with the bad value.
pub(crate) fn parse_dev_root(flag: &str, value: &str) -> anyhow::Result<[u8; 64]> {
    let mut root = [0u8; 64];
    hex::decode_to_slice(value.trim().trim_start_matches("0x"), &mut root)
        .map_err(|_| anyhow::anyhow!("{flag} {value:?} is not 64 bytes of hex"))?;
    Ok(root)
}

/// What `--collateral` / `--dev-root` say a quote must chain to.
fn quote_trust<'a>(
    collateral: Option<&'a [u8]>,
    at: u64,
    dev_root: Option<&'a [u8; 64]>,
) -> anyhow::Result<QuoteTrust<'a>> {
    match (collateral, dev_root) {
        (Some(collateral), _) => Ok(QuoteTrust::Dcap { collateral, at }),
        (None, Some(root)) => Ok(QuoteTrust::DevRoot(root)),
        (None, None) => bail!("give --collateral (real quotes) or --dev-root (simulator quotes)"),
    }
}

pub(crate) fn attest_command(command: AttestCommand) -> anyhow::Result<()> {
    match command {
        AttestCommand::Verify {
            quote,
            collateral,
            at,
            dev_root,
        } => {
            let bytes = read_quote(&quote)?;
            let at = match &at {
                Some(text) => aegis_tee::parse_rfc3339(text)
                    .map_err(|e| anyhow::anyhow!("--at {text:?}: {e}"))?,
                None => crate::now(),
            };
            let collateral = collateral
                .map(|p| std::fs::read(&p).with_context(|| format!("reading {}", p.display())))
                .transpose()?;
            let dev_root = dev_root
                .as_deref()
                .map(|value| parse_dev_root("--dev-root", value))
                .transpose()?;
            // Print what parses even when verification fails: that is what one debugs.
            let parsed = aegis_tee::Quote::parse(&bytes)
                .with_context(|| format!("{} is not a TDX v4 quote", quote.display()))?;
            let trust = quote_trust(collateral.as_deref(), at, dev_root.as_ref())?;
            match verify_quote(&bytes, trust) {
                Ok(verified) => {
                    println!(
                        "{}",
                        serde_json::to_string_pretty(&json!({
                            "verified": true,
                            "tcbStatus": verified.tcb_status,
                            "advisoryIds": verified.advisory_ids,
                            "workloadId": verified.workload_id,
                            "quote": parsed,
                        }))?
                    );
                    Ok(())
                }
                Err(e) => {
                    println!(
                        "{}",
                        serde_json::to_string_pretty(&json!({
                            "verified": false,
                            "error": e.to_string(),
                            "quote": parsed,
                        }))?
                    );
                    bail!("{}: quote does not verify: {e}", quote.display())
                }
            }
        }
        AttestCommand::Simulate {
            seed_file,
            report_data,
        } => {
            let mut data = [0u8; 64];
            hex::decode_to_slice(report_data.trim().trim_start_matches("0x"), &mut data).map_err(
                |_| anyhow::anyhow!("--report-data {report_data:?} is not 64 bytes of hex"),
            )?;
            let sim = Simulator::from_seed_file(&seed_file)
                .with_context(|| format!("simulator seed {}", seed_file.display()))?;
            eprintln!(
                "dev root public key: {}",
                hex::encode_prefixed(sim.dev_root_public_key())
            );
            eprintln!(
                "PCK public key: {}",
                hex::encode_prefixed(sim.pck_public_key())
            );
            println!("{}", hex::encode(sim.quote(data)));
            Ok(())
        }
    }
}

/// `aegis tx ...`
#[derive(Subcommand, Debug)]
pub(crate) enum TxCommand {
    /// Encrypt a signed raw transaction to the sequencer's attested mempool key.
    Encrypt {
        /// The node's JSON-RPC URL.
        #[arg(long, default_value = "http://127.0.0.1:8545")]
        rpc: String,
        /// The signed raw transaction (hex).
        #[arg(long)]
        raw: String,
        /// Development root public key (x ‖ y hex) the key's quote must chain to.
        #[arg(long = "dev-root")]
        dev_root: Option<String>,
        /// DCAP collateral JSON for a real TDX quote.
        #[arg(long)]
        collateral: Option<PathBuf>,
        /// Submit with aegis_sendEncryptedTransaction and print the transaction hash.
        #[arg(long)]
        send: bool,
    },
}

pub(crate) async fn tx_command(command: TxCommand) -> anyhow::Result<()> {
    match command {
        TxCommand::Encrypt {
            rpc,
            raw,
            dev_root,
            collateral,
            send,
        } => {
            let raw = hex::decode(raw.trim()).map_err(|_| anyhow::anyhow!("--raw is not hex"))?;
            let dev_root = dev_root
                .as_deref()
                .map(|value| parse_dev_root("--dev-root", value))
                .transpose()?;
            let collateral = collateral
                .map(|p| std::fs::read(&p).with_context(|| format!("reading {}", p.display())))
                .transpose()?;
            let trust = quote_trust(collateral.as_deref(), crate::now(), dev_root.as_ref())?;
            let node = AttestedNode::new(&rpc)?;
            let key = node
                .encryption_key(trust)
                .await
                .context("the node's mempool key")?;
            let envelope = aegis_envelope::seal(&key, &raw, &mut rand_core::OsRng)?;
            if send {
                println!("{}", node.send_encrypted(envelope.into()).await?);
            } else {
                println!("{}", hex::encode_prefixed(envelope));
            }
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::parse_dev_root;

    #[test]
    fn a_dev_root_is_64_bytes_of_hex_and_a_bad_one_is_named_with_its_flag() {
        let root = format!("0x{}", "ab".repeat(64));
        assert_eq!(parse_dev_root("--dev-root", &root).unwrap(), [0xab; 64]);
        assert_eq!(
            parse_dev_root("--cluster.tee-roots", &root[2..]).unwrap(),
            [0xab; 64]
        );
        let error = parse_dev_root("--cluster.tee-roots", "0x1234").unwrap_err();
        assert_eq!(
            error.to_string(),
            "--cluster.tee-roots \"0x1234\" is not 64 bytes of hex"
        );
    }
}
