// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {P256} from "@openzeppelin/contracts/utils/cryptography/P256.sol";
import {IPckVerifier} from "./interfaces/IPckVerifier.sol";
import {ISemver} from "./interfaces/ISemver.sol";
import {Governed} from "./lib/Governed.sol";

/// @title DevPckVerifier
/// @notice Development trust anchor for PCK keys (devnets, tests): governance allow-lists PCK
///         public keys; a registration passes its PCK key as the hint and this verifier accepts
///         it if allow-listed. The PEM chain in the quote is not examined. NOT for production:
///         it trusts whatever keys governance lists, not Intel's PKI.
/// @dev Keys are identified by `keccak256(x ‖ y)` (64-byte uncompressed key without the 0x04 prefix).
/// @custom:semver 1.0.0
contract DevPckVerifier is IPckVerifier, Governed {
    /// @notice An uncompressed P-256 public key (big-endian coordinates).
    struct PublicKey {
        bytes32 x;
        bytes32 y;
    }

    /// @notice Emitted when governance allow-lists or removes a PCK key.
    event PckKeyAllowed(bytes32 indexed pckKeyHash, bytes32 pckKeyX, bytes32 pckKeyY, bool allowed);

    /// @notice The caller is not governance (or not the pending governance).
    error DevPckVerifier_Unauthorized(address caller);
    /// @notice A zero address was given where an account is required.
    error DevPckVerifier_ZeroAddress();
    /// @notice The hint is not a 64-byte `x ‖ y` key.
    error DevPckVerifier_InvalidHintLength(uint256 length);
    /// @notice The hinted key is not allow-listed.
    error DevPckVerifier_PckKeyNotAllowed(bytes32 pckKeyHash);
    /// @notice The key is not a valid P-256 public key.
    error DevPckVerifier_InvalidPublicKey(bytes32 pckKeyX, bytes32 pckKeyY);

    mapping(bytes32 => bool) private _allowed;

    /// @param initialGovernance Governance account (two-step transferable).
    /// @param initialKeys PCK keys allow-listed from the start (lets a deployment script that is
    ///        not governance configure the devnet in one transaction).
    constructor(address initialGovernance, PublicKey[] memory initialKeys) Governed(initialGovernance) {
        for (uint256 i = 0; i < initialKeys.length; ++i) {
            _setAllowed(initialKeys[i].x, initialKeys[i].y, true);
        }
    }

    /// @inheritdoc ISemver
    function version() external pure returns (string memory) {
        return "1.0.0";
    }

    /// @notice Allow-lists (or removes) a PCK public key (governance only).
    /// @param pckKeyX The key's x coordinate.
    /// @param pckKeyY The key's y coordinate.
    /// @param allowed True to allow, false to remove.
    function setPckKeyAllowed(bytes32 pckKeyX, bytes32 pckKeyY, bool allowed) external onlyGovernance {
        _setAllowed(pckKeyX, pckKeyY, allowed);
    }

    function _setAllowed(bytes32 pckKeyX, bytes32 pckKeyY, bool allowed) private {
        if (allowed && !P256.isValidPublicKey(pckKeyX, pckKeyY)) {
            revert DevPckVerifier_InvalidPublicKey(pckKeyX, pckKeyY);
        }
        bytes32 keyHash = keccak256(abi.encodePacked(pckKeyX, pckKeyY));
        _allowed[keyHash] = allowed;
        emit PckKeyAllowed(keyHash, pckKeyX, pckKeyY, allowed);
    }

    /// @notice Whether the key with hash `pckKeyHash` (`keccak256(x ‖ y)`) is allow-listed.
    /// @param pckKeyHash The key hash.
    /// @return True if allowed.
    function isPckKeyAllowed(bytes32 pckKeyHash) external view returns (bool) {
        return _allowed[pckKeyHash];
    }

    /// @inheritdoc IPckVerifier
    /// @dev Ignores `quote` and `pckCertChain`; requires `pckKeyHint` = allow-listed `x ‖ y`.
    function verifyPck(bytes calldata, bytes calldata, bytes calldata pckKeyHint)
        external
        view
        returns (bytes32 pckKeyX, bytes32 pckKeyY)
    {
        if (pckKeyHint.length != 64) revert DevPckVerifier_InvalidHintLength(pckKeyHint.length);
        bytes32 keyHash = keccak256(pckKeyHint);
        if (!_allowed[keyHash]) revert DevPckVerifier_PckKeyNotAllowed(keyHash);
        pckKeyX = bytes32(pckKeyHint[0:32]);
        pckKeyY = bytes32(pckKeyHint[32:64]);
    }

    function _revertUnauthorized(address caller) internal pure override {
        revert DevPckVerifier_Unauthorized(caller);
    }

    function _revertZeroAddress() internal pure override {
        revert DevPckVerifier_ZeroAddress();
    }
}
