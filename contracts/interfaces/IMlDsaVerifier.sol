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
