// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {DevPckVerifier} from "../contracts/DevPckVerifier.sol";
import {IGoverned} from "../contracts/interfaces/IGoverned.sol";
import {Test} from "./lib/Test.sol";

contract DevPckVerifierTest is Test {
    address internal constant GOVERNANCE = address(0x60f);
    DevPckVerifier internal verifier;
    bytes32 internal x;
    bytes32 internal y;

    function setUp() public {
        (uint256 px, uint256 py) = vm.publicKeyP256(0x9c4);
        (x, y) = (bytes32(px), bytes32(py));
        verifier = new DevPckVerifier(GOVERNANCE, new DevPckVerifier.PublicKey[](0));
    }

    function unauthorized(address caller) internal pure returns (bytes memory) {
        return abi.encodeWithSelector(DevPckVerifier.DevPckVerifier_Unauthorized.selector, caller);
    }

    function test_constructor() public {
        assertEq(verifier.version(), "1.0.0");
        assertEq(verifier.governance(), GOVERNANCE);
        DevPckVerifier.PublicKey[] memory keys = new DevPckVerifier.PublicKey[](1);
        keys[0] = DevPckVerifier.PublicKey(x, y);
        DevPckVerifier v = new DevPckVerifier(GOVERNANCE, keys);
        assertTrue(v.isPckKeyAllowed(keccak256(abi.encodePacked(x, y))));
        vm.expectRevert(DevPckVerifier.DevPckVerifier_ZeroAddress.selector);
        new DevPckVerifier(address(0), keys);
        keys[0] = DevPckVerifier.PublicKey(x, bytes32(uint256(y) ^ 1)); // not on the curve
        vm.expectRevert(abi.encodeWithSelector(DevPckVerifier.DevPckVerifier_InvalidPublicKey.selector, x, keys[0].y));
        new DevPckVerifier(GOVERNANCE, keys);
    }

    function test_setPckKeyAllowed() public {
        bytes32 keyHash = keccak256(abi.encodePacked(x, y));
        vm.expectRevert(unauthorized(address(this)));
        verifier.setPckKeyAllowed(x, y, true);
        vm.expectEmit(address(verifier));
        emit DevPckVerifier.PckKeyAllowed(keyHash, x, y, true);
        vm.prank(GOVERNANCE);
        verifier.setPckKeyAllowed(x, y, true);
        assertTrue(verifier.isPckKeyAllowed(keyHash));
        vm.prank(GOVERNANCE);
        verifier.setPckKeyAllowed(x, y, false);
        assertFalse(verifier.isPckKeyAllowed(keyHash));
        vm.prank(GOVERNANCE);
        vm.expectRevert(abi.encodeWithSelector(DevPckVerifier.DevPckVerifier_InvalidPublicKey.selector, x, x));
        verifier.setPckKeyAllowed(x, x, true);
        // Removing never needs a valid key.
        vm.prank(GOVERNANCE);
        verifier.setPckKeyAllowed(x, x, false);
    }

    function test_verifyPck() public {
        bytes memory hint = abi.encodePacked(x, y);
        vm.expectRevert(
            abi.encodeWithSelector(DevPckVerifier.DevPckVerifier_PckKeyNotAllowed.selector, keccak256(hint))
        );
        verifier.verifyPck("", "", hint);
        vm.prank(GOVERNANCE);
        verifier.setPckKeyAllowed(x, y, true);
        (bytes32 rx, bytes32 ry) = verifier.verifyPck("quote ignored", "chain ignored", hint);
        assertEq(rx, x);
        assertEq(ry, y);
        vm.expectRevert(abi.encodeWithSelector(DevPckVerifier.DevPckVerifier_InvalidHintLength.selector, 65));
        verifier.verifyPck("", "", bytes.concat(hint, hex"00"));
        vm.expectRevert(abi.encodeWithSelector(DevPckVerifier.DevPckVerifier_InvalidHintLength.selector, 0));
        verifier.verifyPck("", "", "");
    }

    /// @dev Only allow-listed keys pass, whatever the hint.
    function testFuzz_verifyPck_unlistedHintFails(bytes memory hint) public {
        vm.prank(GOVERNANCE);
        verifier.setPckKeyAllowed(x, y, true);
        vm.assume(keccak256(hint) != keccak256(abi.encodePacked(x, y)));
        vm.expectRevert();
        verifier.verifyPck("", "", hint);
    }

    function test_governance_twoStep() public {
        address next = address(0x9e3);
        vm.expectRevert(unauthorized(address(this)));
        verifier.transferGovernance(next);
        vm.prank(GOVERNANCE);
        verifier.transferGovernance(next);
        vm.expectRevert(unauthorized(address(this)));
        verifier.acceptGovernance();
        vm.expectEmit(address(verifier));
        emit IGoverned.GovernanceTransferred(GOVERNANCE, next);
        vm.prank(next);
        verifier.acceptGovernance();
        assertEq(verifier.governance(), next);
        assertEq(verifier.pendingGovernance(), address(0));
    }
}
