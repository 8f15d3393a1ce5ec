//! What both JSON-RPC ports of aegis share: the block, transaction and proof shapes they
//! answer with ([`convert`]) and the JSON-RPC error codes and constructor they fail with
//! ([`errors`]). The wallet port (`aegis-rpc`) and the engine port (`aegis-engine`) both build on
//! it, so neither depends on the other.

pub mod convert;
pub mod errors;
