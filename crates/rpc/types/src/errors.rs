//! JSON-RPC error codes (EIP-1474, and geth where it has its own) and their constructor.

use jsonrpsee::types::ErrorObjectOwned;

/// Malformed params.
pub const INVALID_PARAMS: i32 = -32602;
/// Server-side failure.
pub const INTERNAL: i32 = -32603;
/// A request the server cannot serve now (no keys, not configured …); geth's generic error.
pub const SERVER_ERROR: i32 = -32000;
/// A limit was hit (rate, size, queue).
pub const LIMIT_EXCEEDED: i32 = -32005;
/// A cluster follower could not forward the request to the leader (no leader known, or it could
/// not be reached): no verdict on the request, which may be sent again.
pub const FORWARD_FAILED: i32 = -32050;

/// geth's code for a read of history it pruned (EIP-4444), with the message
/// "pruned history unavailable".
pub const PRUNED_HISTORY: i32 = 4444;

/// An error object with `code` and `message`, no data.
pub fn rpc_error(code: i32, message: impl Into<String>) -> ErrorObjectOwned {
    ErrorObjectOwned::owned(code, message.into(), None::<()>)
}

/// An [`INTERNAL`] error carrying `error`'s text.
pub fn internal(error: impl std::fmt::Display) -> ErrorObjectOwned {
    rpc_error(INTERNAL, error.to_string())
}

/// The error of a state read at a block: geth's `-32000` "header not found" for an unknown
/// block, `-32000` with the reason for a block whose state was pruned (geth: "historical state …
/// is not available"), [`INTERNAL`] for anything else.
pub fn state_read(error: aegis_storage::StorageError) -> ErrorObjectOwned {
    match error {
        aegis_storage::StorageError::UnknownBlock(_) => rpc_error(SERVER_ERROR, "header not found"),
        pruned @ (aegis_storage::StorageError::Pruned { .. }
        | aegis_storage::StorageError::HistoryPruned { .. }) => {
            rpc_error(SERVER_ERROR, pruned.to_string())
        }
        other => internal(other),
    }
}

/// The error of a block read (a block, its transactions, receipts or logs): geth's
/// [`PRUNED_HISTORY`] for a block below the history floor, [`INTERNAL`] for anything else.
pub fn block_read(error: impl Into<aegis_executor::ExecutorError>) -> ErrorObjectOwned {
    match error.into() {
        aegis_executor::ExecutorError::Storage(aegis_storage::StorageError::HistoryPruned {
            ..
        }) => rpc_error(PRUNED_HISTORY, "pruned history unavailable"),
        other => internal(other),
    }
}
