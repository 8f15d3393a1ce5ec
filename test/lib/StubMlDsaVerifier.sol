// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {IMlDsaExpandedVerifier} from "../../contracts/interfaces/IMlDsaVerifier.sol";

/// @notice A stand-in ML-DSA verifier for tests of everything around the verification: a
///         "signature" is valid for a key and message exactly when it is `keyHash ‖ message`
///         ({stubSignature}), so the tests still see which key and digest the registry asks about.
///         The real verifier is tested with fips204 signatures in MlDsa87Verifier.t.sol and
///         SequencerAttestation.t.sol's PQ tests.
contract StubMlDsaVerifier is IMlDsaExpandedVerifier {
    function verify(bytes calldata, bytes calldata, bytes calldata, bytes calldata) external pure returns (bool) {
        return false;
    }

    function verifyExpanded(bytes32 keyHash, bytes calldata message, bytes calldata context, bytes calldata signature)
        external
        pure
        returns (bool)
    {
        return context.length == 0 && keccak256(signature) == keccak256(abi.encodePacked(keyHash, message));
    }

    function isExpanded(bytes32) external pure returns (bool) {
        return true;
    }

    /// @notice The stub's valid signature of `digest` by the key hashing to `keyHash`.
    function stubSignature(bytes32 keyHash, bytes32 digest) external pure returns (bytes memory) {
        return abi.encodePacked(keyHash, digest);
    }
}
