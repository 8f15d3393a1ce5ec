// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

/// @title ISemver
/// @notice Contracts that expose a semantic version string.
interface ISemver {
    /// @notice The semantic version of the contract's code (MAJOR.MINOR.PATCH).
    /// @return The version string, e.g. "1.0.0".
    function version() external view returns (string memory);
}
