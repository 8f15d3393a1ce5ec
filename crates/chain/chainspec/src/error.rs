//! The crate's error type.

use std::path::PathBuf;

/// Everything that can go wrong loading, checking or generating a chain configuration.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ChainSpecError {
    /// The genesis JSON is malformed; `path` is the JSON path of the offending value
    /// (e.g. `alloc.0x…​.balance`), `.` for the document itself.
    #[error("invalid genesis JSON at `{path}`: {source}")]
    Json {
        /// JSON path of the bad value.
        path: String,
        /// The underlying parse error.
        #[source]
        source: serde_json::Error,
    },
    /// A genesis file could not be read.
    #[error("cannot read genesis file {}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// A genesis file was read but its content is invalid.
    #[error("genesis file {}: {source}", path.display())]
    File {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        #[source]
        source: Box<ChainSpecError>,
    },
    /// A required genesis field is absent.
    #[error("genesis field `{field}` is missing")]
    MissingField {
        /// JSON path of the field, e.g. `config.optimism.eip1559Denominator`.
        field: &'static str,
    },
    /// A genesis field that must be non-zero is zero.
    #[error("genesis field `{field}` must not be zero")]
    ZeroField {
        /// JSON path of the field.
        field: &'static str,
    },
    /// A genesis field has a value this engine cannot use.
    #[error("genesis field `{field}` is invalid: {reason}")]
    InvalidField {
        /// JSON path of the field.
        field: String,
        /// Why it is invalid.
        reason: String,
    },
    /// `config.bedrockBlock` is not 0: only chains that start at Bedrock are supported.
    #[error("`config.bedrockBlock` must be 0 (Bedrock active at genesis), found {found}")]
    BedrockNotAtGenesis {
        /// The value found (`unset` when the key is absent).
        found: String,
    },
    /// A fork is scheduled before an earlier fork.
    #[error(
        "hardfork `config.{fork}` ({time}) is scheduled before the earlier fork \
         `config.{previous}` ({previous_time}); forks must activate in order"
    )]
    ForkOrder {
        /// Genesis key of the out-of-order fork.
        fork: &'static str,
        /// Its activation time.
        time: u64,
        /// Genesis key of the earlier fork it precedes.
        previous: &'static str,
        /// The earlier fork's activation time.
        previous_time: u64,
    },
    /// A fork is scheduled while an earlier fork is not.
    #[error(
        "hardfork `config.{fork}` ({time}) is scheduled but the earlier fork `config.{missing}` \
         is not; forks must activate in order"
    )]
    ForkGap {
        /// Genesis key of the scheduled fork.
        fork: &'static str,
        /// Its activation time.
        time: u64,
        /// Genesis key of the unscheduled earlier fork.
        missing: &'static str,
    },
    /// An L1 fork that an OP fork implies is not scheduled at the same time (op-geth requires
    /// `shanghaiTime == canyonTime`, `cancunTime == ecotoneTime`, `pragueTime == isthmusTime`).
    #[error(
        "`config.{l1_field}` ({}) must equal `config.{op_field}` ({})",
        fmt_time(*.l1_time),
        fmt_time(*.op_time)
    )]
    L1ForkMismatch {
        /// Genesis key of the L1 fork.
        l1_field: &'static str,
        /// Its activation time.
        l1_time: Option<u64>,
        /// Genesis key of the OP fork.
        op_field: &'static str,
        /// Its activation time.
        op_time: Option<u64>,
    },
    /// The genesis schedules a hardfork this engine does not implement.
    #[error(
        "unsupported hardfork `config.{field}`: this engine implements the OP Stack up to Jovian"
    )]
    UnsupportedHardfork {
        /// Genesis key of the fork, e.g. `interopTime`.
        field: String,
    },
    /// `extraData` is longer than the 32 bytes a header allows.
    #[error("genesis `extraData` is {len} bytes long; at most 32 bytes are allowed")]
    ExtraDataTooLong {
        /// Its length.
        len: usize,
    },
    /// `extraData` does not carry the EIP-1559 parameters that Holocene / Jovian require.
    #[error("genesis `extraData` {extra_data} is not a valid {fork} encoding: {reason}")]
    InvalidExtraData {
        /// The fork whose encoding is required.
        fork: crate::OpFork,
        /// The value found.
        extra_data: alloy_primitives::Bytes,
        /// What is wrong.
        reason: &'static str,
    },
    /// The predeploy artifacts are unusable (missing contract, bad bytecode, unknown layout).
    #[error("predeploy artifacts: {0}")]
    Artifacts(String),
    /// A dev account could not be derived from the mnemonic.
    #[error("cannot derive dev account {index} from the mnemonic: {source}")]
    DevAccount {
        /// Account index (`m/44'/60'/0'/0/<index>`).
        index: u32,
        /// The derivation error.
        #[source]
        source: alloy_signer_local::LocalSignerError,
    },
    /// Devnet genesis options are inconsistent.
    #[error("invalid devnet genesis options: {0}")]
    InvalidOptions(String),
    /// A rollup config that cannot be read, does not parse, or is for another chain.
    #[error("rollup config {}: {reason}", path.display())]
    RollupConfig {
        /// The file.
        path: std::path::PathBuf,
        /// What is wrong (names the field).
        reason: String,
    },
}

fn fmt_time(time: Option<u64>) -> String {
    time.map_or_else(|| "unset".to_owned(), |t| t.to_string())
}

impl ChainSpecError {
    /// Wraps a [`serde_path_to_error`] failure.
    pub(crate) fn json(err: serde_path_to_error::Error<serde_json::Error>) -> Self {
        let path = err.path().to_string();
        Self::Json {
            path,
            source: err.into_inner(),
        }
    }
}
