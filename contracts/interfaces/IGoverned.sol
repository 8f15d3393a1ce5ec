// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

/// @title IGoverned
/// @notice Two-step governance ownership shared by the QuantumAegis contracts: the current
///         governance nominates a successor, which must accept before it takes over.
interface IGoverned {
    /// @notice Emitted when governance nominates `pendingGovernance` (zero address: nomination cancelled).
    event GovernanceTransferStarted(address indexed previousGovernance, address indexed pendingGovernance);

    /// @notice Emitted when governance changes (also at construction, from the zero address).
    event GovernanceTransferred(address indexed previousGovernance, address indexed newGovernance);

    /// @notice The account allowed to call governance functions.
    /// @return The current governance address.
    function governance() external view returns (address);

    /// @notice The account nominated by {transferGovernance}, zero if none.
    /// @return The pending governance address.
    function pendingGovernance() external view returns (address);

    /// @notice Nominates `newGovernance`; it takes over once it calls {acceptGovernance}.
    ///         Passing the zero address cancels a pending nomination. Governance only.
    /// @param newGovernance The nominated account.
    function transferGovernance(address newGovernance) external;

    /// @notice Completes a governance transfer. Only the pending governance may call it.
    function acceptGovernance() external;
}
