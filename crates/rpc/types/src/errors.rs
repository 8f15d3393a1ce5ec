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

/// An error object with `code` and `message`, no data.
pub fn rpc_error(code: i32, message: impl Into<String>) -> ErrorObjectOwned {
    ErrorObjectOwned::owned(code, message.into(), None::<()>)
}

/// An [`INTERNAL`] error carrying `error`'s text.
pub fn internal(error: impl std::fmt::Display) -> ErrorObjectOwned {
    rpc_error(INTERNAL, error.to_string())
}
