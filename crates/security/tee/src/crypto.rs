//! P-256 and SHA-256 helpers on raw `x ‖ y` keys and `r ‖ s` signatures.

use p256::ecdsa::{
    Signature, SigningKey, VerifyingKey,
    signature::hazmat::{PrehashSigner, PrehashVerifier},
};
use sha2::{Digest, Sha256};

/// `sha256(part0 ‖ part1 ‖ ...)`.
pub(crate) fn sha256(parts: &[&[u8]]) -> [u8; 32] {
    let mut h = Sha256::new();
    for p in parts {
        h.update(p);
    }
    h.finalize().into()
}

/// Parses a 64-byte `x ‖ y` (big-endian) public key; `None` unless it is a point of the curve.
pub(crate) fn verifying_key(xy: &[u8; 64]) -> Option<VerifyingKey> {
    let mut sec1 = [0u8; 65];
    sec1[0] = 0x04;
    sec1[1..].copy_from_slice(xy);
    VerifyingKey::from_sec1_bytes(&sec1).ok()
}

/// The `x ‖ y` encoding of a public key.
pub(crate) fn public_xy(key: &VerifyingKey) -> [u8; 64] {
    let point = key.to_encoded_point(false);
    let mut out = [0u8; 64];
    // An uncompressed SEC1 point of a valid key is 0x04 ‖ x ‖ y.
    if let Some(xy) = point.as_bytes().get(1..65) {
        out.copy_from_slice(xy);
    }
    out
}

/// ECDSA verification of `r ‖ s` over a SHA-256 digest. High `s` is accepted (quoting
/// enclaves do not normalise it).
pub(crate) fn verify_digest(key: &VerifyingKey, digest: &[u8; 32], sig: &[u8; 64]) -> bool {
    Signature::from_slice(sig)
        .and_then(|s| key.verify_prehash(digest, &s))
        .is_ok()
}

/// Deterministic (RFC 6979) ECDSA signature `r ‖ s` over a SHA-256 digest.
pub(crate) fn sign_digest(key: &SigningKey, digest: &[u8; 32]) -> Option<[u8; 64]> {
    let sig: Signature = key.sign_prehash(digest).ok()?;
    Some(sig.to_bytes().into())
}
