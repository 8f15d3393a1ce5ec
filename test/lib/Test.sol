// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {Vm, VM} from "./Vm.sol";

/// @title Test
/// @notice Minimal test base (forge-std is unavailable offline): cheatcode handle, assertion
///         shorthands backed by the assertion cheatcodes, bounded fuzz inputs and the hooks forge's
///         invariant runner calls (`targetContracts()`, `targetSelectors()`, `targetSenders()`).
abstract contract Test {
    /// @dev Shape forge expects from `targetSelectors()`.
    struct FuzzSelector {
        address addr;
        bytes4[] selectors;
    }

    Vm internal constant vm = VM;

    address[] private _targetContracts;
    FuzzSelector[] private _targetSelectors;
    address[] private _targetSenders;

    // --- invariant runner hooks ---------------------------------------------------------------

    /// @notice Contracts the invariant runner calls (empty: every contract deployed in `setUp`).
    function targetContracts() public view returns (address[] memory) {
        return _targetContracts;
    }

    /// @notice Selectors the invariant runner may call, per target contract.
    function targetSelectors() public view returns (FuzzSelector[] memory) {
        return _targetSelectors;
    }

    /// @notice Senders the invariant runner uses (empty: random senders).
    function targetSenders() public view returns (address[] memory) {
        return _targetSenders;
    }

    function targetContract(address target) internal {
        _targetContracts.push(target);
    }

    function targetSelector(address target, bytes4[] memory selectors) internal {
        _targetSelectors.push(FuzzSelector({addr: target, selectors: selectors}));
    }

    function targetSender(address sender) internal {
        _targetSenders.push(sender);
    }

    // --- assertions -----------------------------------------------------------------------------

    function assertTrue(bool c) internal pure {
        vm.assertTrue(c, "assertTrue");
    }

    function assertTrue(bool c, string memory err) internal pure {
        vm.assertTrue(c, err);
    }

    function assertFalse(bool c) internal pure {
        vm.assertFalse(c, "assertFalse");
    }

    function assertFalse(bool c, string memory err) internal pure {
        vm.assertFalse(c, err);
    }

    function assertEq(bool a, bool b) internal pure {
        vm.assertEq(a, b, "assertEq(bool)");
    }

    function assertEq(uint256 a, uint256 b) internal pure {
        vm.assertEq(a, b, "assertEq(uint256)");
    }

    function assertEq(uint256 a, uint256 b, string memory err) internal pure {
        vm.assertEq(a, b, err);
    }

    function assertEq(address a, address b) internal pure {
        vm.assertEq(a, b, "assertEq(address)");
    }

    function assertEq(address a, address b, string memory err) internal pure {
        vm.assertEq(a, b, err);
    }

    function assertEq(bool a, bool b, string memory err) internal pure {
        vm.assertEq(a, b, err);
    }

    function assertEq(bytes32 a, bytes32 b) internal pure {
        vm.assertEq(a, b, "assertEq(bytes32)");
    }

    function assertEq(bytes32 a, bytes32 b, string memory err) internal pure {
        vm.assertEq(a, b, err);
    }

    function assertEq(bytes memory a, bytes memory b) internal pure {
        vm.assertEq(a, b, "assertEq(bytes)");
    }

    function assertEq(bytes memory a, bytes memory b, string memory err) internal pure {
        vm.assertEq(a, b, err);
    }

    function assertEq(string memory a, string memory b) internal pure {
        vm.assertEq(a, b, "assertEq(string)");
    }

    function assertLe(uint256 a, uint256 b, string memory err) internal pure {
        vm.assertLe(a, b, err);
    }

    function assertGe(uint256 a, uint256 b, string memory err) internal pure {
        vm.assertGe(a, b, err);
    }

    // --- gas ----------------------------------------------------------------------------------------

    /// @dev Gas of a transaction calling `target` with `data` from cold storage (every account in
    ///      `cold` is cooled first): execution plus the intrinsic cost (21,000 + calldata, with the
    ///      EIP-7623 floor). Works with and without `--isolate` (which `--gas-report` implies: there
    ///      every top-level call already is its own transaction and gasleft() includes the
    ///      intrinsic cost). `from` (if non-zero) is pranked as the caller.
    function txGas(address from, address target, bytes memory data, address[] memory cold) internal returns (uint256) {
        uint256 zeros;
        for (uint256 i = 0; i < data.length; ++i) {
            if (data[i] == 0) ++zeros;
        }
        uint256 nonZeros = data.length - zeros;
        uint256 standard = 4 * zeros + 16 * nonZeros;
        uint256 floor = 10 * (zeros + 4 * nonZeros);
        // Probe: does a top-level call pay the intrinsic cost here (isolation mode)?
        uint256 probe = gasleft();
        // An unknown selector: reverts at once, costs a few hundred gas when not isolated.
        (bool probeOk,) = target.call(hex"ffffffff");
        probe -= gasleft();
        require(!probeOk, "probe must revert");
        bool isolated = probe >= 21_000;
        for (uint256 i = 0; i < cold.length; ++i) {
            vm.cool(cold[i]);
        }
        if (from != address(0)) vm.prank(from);
        uint256 g = gasleft();
        (bool ok, bytes memory ret) = target.call(data);
        g -= gasleft();
        if (!ok) {
            assembly ("memory-safe") {
                revert(add(ret, 32), mload(ret))
            }
        }
        uint256 execution = isolated ? g - 21_000 - standard : g;
        return 21_000 + (standard + execution > floor ? standard + execution : floor);
    }

    // --- fuzz helpers ---------------------------------------------------------------------------

    /// @dev Maps `x` into `[lo, hi]` (inclusive) without discarding runs.
    function bound(uint256 x, uint256 lo, uint256 hi) internal pure returns (uint256) {
        require(lo <= hi, "bound: lo > hi");
        if (x >= lo && x <= hi) return x;
        uint256 size = hi - lo;
        if (size == type(uint256).max) return x;
        return lo + (x % (size + 1));
    }
}
