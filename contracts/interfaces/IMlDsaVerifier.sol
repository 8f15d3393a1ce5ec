// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

/// @title IMlDsaVerifier
/// @notice Verification of FIPS 204 ML-DSA signatures (ML-DSA.Verify, Algorithm 3), so that a
///         precompile (EIP-8355) can take the place of a Solidity verifier where a chain ships one.
interface IMlDsaVerifier {
    /// @notice Whether `signature` is a valid ML-DSA signature of `message` under `publicKey` with
    ///         the context string `context` (FIPS 204 Algorithm 3: the verifier forms
    ///         M' = 0 || |ctx| || ctx || M itself).
    /// @dev Malformed encodings (wrong lengths, a context longer than 255 bytes, a bad hint) make
    ///      it return false; it never reverts on input.
    /// @param publicKey The FIPS 204 public key encoding (pkEncode).
    /// @param message The message M.
    /// @param context The context string ctx (empty for none), at most 255 bytes.
    /// @param signature The FIPS 204 signature encoding (sigEncode).
    /// @return valid True if and only if the signature verifies.
    function verify(bytes calldata publicKey, bytes calldata message, bytes calldata context, bytes calldata signature)
        external
        view
        returns (bool valid);
}

/// @title IMlDsaExpandedVerifier
/// @notice ML-DSA verification by the keccak256 hash of a public key that was registered (expanded)
///         with the verifier before: what a contract that records key hashes calls.
interface IMlDsaExpandedVerifier is IMlDsaVerifier {
    /// @notice {IMlDsaVerifier.verify} for the public key hashing to `keyHash`.
    /// @dev Reverts if the key is not known to the verifier; returns false for malformed input.
    /// @param keyHash keccak256 of the public key encoding.
    /// @param message The message M.
    /// @param context The context string ctx, at most 255 bytes.
    /// @param signature The FIPS 204 signature encoding.
    /// @return valid True if and only if the signature verifies.
    function verifyExpanded(bytes32 keyHash, bytes calldata message, bytes calldata context, bytes calldata signature)
        external
        view
        returns (bool valid);

    /// @notice Whether {verifyExpanded} can use the key hashing to `keyHash`.
    /// @param keyHash keccak256 of the public key encoding.
    /// @return True if the key is known.
    function isExpanded(bytes32 keyHash) external view returns (bool);
}
