// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {IGoverned} from "../interfaces/IGoverned.sol";

/// @title Governed
/// @notice Minimal two-step governance (Ownable2Step-like). Each contract reports unauthorised
///         callers and a zero governance with its own `Contract_Reason` errors through the two
///         hooks below, so the errors stay named after the contract that raised them.
abstract contract Governed is IGoverned {
    address private _governance;
    address private _pendingGovernance;

    /// @dev Restricts a function to the current governance.
    modifier onlyGovernance() {
        if (msg.sender != _governance) _revertUnauthorized(msg.sender);
        _;
    }

    constructor(address initialGovernance) {
        if (initialGovernance == address(0)) _revertZeroAddress();
        _governance = initialGovernance;
        emit GovernanceTransferred(address(0), initialGovernance);
    }

    /// @inheritdoc IGoverned
    function governance() public view returns (address) {
        return _governance;
    }

    /// @inheritdoc IGoverned
    function pendingGovernance() external view returns (address) {
        return _pendingGovernance;
    }

    /// @inheritdoc IGoverned
    function transferGovernance(address newGovernance) external onlyGovernance {
        _pendingGovernance = newGovernance;
        emit GovernanceTransferStarted(msg.sender, newGovernance);
    }

    /// @inheritdoc IGoverned
    function acceptGovernance() external {
        if (msg.sender != _pendingGovernance) _revertUnauthorized(msg.sender);
        address previous = _governance;
        _governance = msg.sender;
        delete _pendingGovernance;
        emit GovernanceTransferred(previous, msg.sender);
    }

    /// @dev Reverts with the inheriting contract's `<Contract>_Unauthorized(caller)` error.
    function _revertUnauthorized(address caller) internal pure virtual;

    /// @dev Reverts with the inheriting contract's `<Contract>_ZeroAddress()` error.
    function _revertZeroAddress() internal pure virtual;
}
