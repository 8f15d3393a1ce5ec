// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {QRMSOracle} from "../contracts/QRMSOracle.sol";
import {IQRMSOracle} from "../contracts/interfaces/IQRMSOracle.sol";
import {ISequencerAttestation} from "../contracts/interfaces/ISequencerAttestation.sol";
import {AttestationFixture} from "./lib/AttestationFixture.sol";

/// @notice A revoked (or rotated-out) sequencer stops being a risk reporter: the registry tells
///         the oracle it is linked to, and anyone can make the oracle catch up on earlier ones.
contract OracleRevocationTest is AttestationFixture {
    address internal seq;
    address internal seq2;

    function setUp() public override {
        super.setUp();
        seq = vm.addr(SEQUENCER_KEY);
        seq2 = vm.addr(SEQUENCER2_KEY);
        register(SEQUENCER_KEY);
        // The sequencer is one of the oracle's four reporters (quorum 2).
        vm.prank(GOVERNANCE);
        oracle.addReporter(seq);
    }

    function reportAs(address reporter, uint32 r, uint16 score) internal {
        vm.prank(reporter);
        oracle.submitReport(r, score);
    }

    function test_link() public view {
        assertEq(oracle.attestation(), address(attestation));
        assertTrue(oracle.isReporter(seq));
    }

    function test_revokeSequencer_removesReporterAndItsReport() public {
        reportAs(seq, 1, 7500);
        reportAs(REPORTER_A, 1, 7500);
        assertEq(uint256(oracle.riskLevel()), uint256(IQRMSOracle.RiskLevel.SCHEDULED));
        vm.expectEmit(address(oracle));
        emit IQRMSOracle.ReporterRemoved(seq);
        vm.expectEmit(address(oracle));
        emit IQRMSOracle.RiskScoreUpdated(7500, 0, 1);
        vm.expectEmit(address(oracle));
        emit IQRMSOracle.RevokedReporterRemoved(seq, address(attestation));
        vm.prank(GOVERNANCE);
        attestation.revokeSequencer(seq);
        assertFalse(oracle.isReporter(seq));
        assertEq(oracle.latestReport(seq).reportedAt, 0);
        // Its report no longer counts: one fresh report, below quorum.
        assertEq(oracle.freshReports(), 1);
        assertEq(uint256(oracle.riskLevel()), uint256(IQRMSOracle.RiskLevel.NORMAL));
        // And it cannot report any more.
        vm.prank(seq);
        vm.expectRevert(abi.encodeWithSelector(IQRMSOracle.QRMSOracle_NotReporter.selector, seq));
        oracle.submitReport(2, 10_000);
        assertEq(oracle.reporters().length, 3);
    }

    function test_rotateSequencer_removesThePreviousReporter() public {
        register(SEQUENCER2_KEY);
        reportAs(seq, 1, 7000);
        vm.prank(seq); // a planned hand-over by the sequencer itself
        attestation.rotateSequencer(seq, seq2);
        assertFalse(oracle.isReporter(seq));
        assertFalse(oracle.isReporter(seq2), "the successor is added by governance only");
        vm.prank(seq);
        vm.expectRevert(abi.encodeWithSelector(IQRMSOracle.QRMSOracle_NotReporter.selector, seq));
        oracle.submitReport(2, 7000);
    }

    function test_revocation_lowersAQuorumItWouldBreak() public {
        // Two reporters, quorum 2: the sequencer and A.
        vm.startPrank(GOVERNANCE);
        oracle.removeReporter(REPORTER_B);
        oracle.removeReporter(REPORTER_C);
        vm.stopPrank();
        assertEq(oracle.quorum(), 2);
        vm.expectEmit(address(oracle));
        emit IQRMSOracle.QuorumUpdated(1);
        vm.prank(GOVERNANCE);
        attestation.revokeSequencer(seq);
        assertEq(oracle.quorum(), 1);
        assertEq(oracle.reporters().length, 1);
        // Even the last reporter goes: revocation never fails on the oracle.
        vm.prank(GOVERNANCE);
        oracle.removeReporter(REPORTER_A);
        register(SEQUENCER2_KEY);
        vm.prank(GOVERNANCE);
        oracle.addReporter(seq2);
        vm.prank(GOVERNANCE);
        attestation.revokeSequencer(seq2);
        assertEq(oracle.reporters().length, 0);
    }

    function test_revocation_ofANonReporter_isANoOp() public {
        register(SEQUENCER2_KEY);
        vm.recordLogs();
        vm.prank(GOVERNANCE);
        attestation.revokeSequencer(seq2);
        assertEq(vm.getRecordedLogs().length, 1, "SequencerRevoked only");
        assertEq(oracle.reporters().length, 4);
        assertFalse(oracle.removeRevokedReporter(seq2));
    }

    /// @dev An oracle not linked to the registry is left alone (revocation still succeeds); once
    ///      linked, anyone can remove a reporter the registry lists as revoked.
    function test_removeRevokedReporter_catchUpAfterLinking() public {
        vm.prank(GOVERNANCE);
        oracle.setAttestation(address(0));
        vm.prank(GOVERNANCE);
        attestation.revokeSequencer(seq);
        assertTrue(oracle.isReporter(seq), "not linked: untouched");
        vm.expectRevert(IQRMSOracle.QRMSOracle_NoAttestation.selector);
        oracle.removeRevokedReporter(seq);

        vm.expectRevert(abi.encodeWithSelector(IQRMSOracle.QRMSOracle_Unauthorized.selector, address(this)));
        oracle.setAttestation(address(attestation));
        vm.expectEmit(address(oracle));
        emit IQRMSOracle.AttestationUpdated(address(attestation));
        vm.prank(GOVERNANCE);
        oracle.setAttestation(address(attestation));
        vm.prank(address(0xbeef)); // anyone
        assertTrue(oracle.removeRevokedReporter(seq));
        assertFalse(oracle.isReporter(seq));
    }

    /// @dev Nobody can remove a reporter the registry does not list as revoked.
    function test_removeRevokedReporter_revert_notRevoked() public {
        // An active sequencer.
        vm.expectRevert(abi.encodeWithSelector(IQRMSOracle.QRMSOracle_NotRevoked.selector, seq));
        oracle.removeRevokedReporter(seq);
        // A reporter that was never a sequencer.
        vm.expectRevert(abi.encodeWithSelector(IQRMSOracle.QRMSOracle_NotRevoked.selector, REPORTER_A));
        oracle.removeRevokedReporter(REPORTER_A);
        // A registry whose governance withdrew the workload: not revoked either.
        vm.prank(GOVERNANCE);
        attestation.setWorkloadAllowed(workload, false);
        vm.expectRevert(abi.encodeWithSelector(IQRMSOracle.QRMSOracle_NotRevoked.selector, seq));
        oracle.removeRevokedReporter(seq);
        assertTrue(oracle.isReporter(seq) && oracle.isReporter(REPORTER_A));
    }

    /// @dev An oracle linked to another registry is not called by this one.
    function test_revocation_oracleLinkedElsewhere() public {
        address[] memory list = new address[](1);
        list[0] = seq;
        QRMSOracle other = new QRMSOracle(GOVERNANCE, list, 1, 1 days, 6000, 9000, address(0xdead));
        vm.prank(GOVERNANCE);
        attestation.setOracle(other);
        vm.prank(GOVERNANCE);
        attestation.revokeSequencer(seq);
        assertTrue(other.isReporter(seq));
        ISequencerAttestation.Sequencer memory s = attestation.sequencer(seq);
        assertTrue(s.revoked);
    }
}

/// @notice An oracle without `attestation()` (e.g. QRMSOracle 1.0.0) does not block revocation.
contract OldOracle {
    function signaturePolicy() external pure returns (IQRMSOracle.SignaturePolicy memory policy) {
        policy.ecdsaAllowed = true;
        policy.mldsaAllowed = true;
        policy.slhdsaAllowed = true;
    }
}

contract OracleRevocationOldOracleTest is AttestationFixture {
    function test_revocation_withAnOracleWithoutTheLink() public {
        register(SEQUENCER_KEY);
        OldOracle old = new OldOracle();
        vm.startPrank(GOVERNANCE);
        attestation.setOracle(IQRMSOracle(address(old)));
        attestation.revokeSequencer(vm.addr(SEQUENCER_KEY));
        vm.stopPrank();
        assertTrue(attestation.sequencer(vm.addr(SEQUENCER_KEY)).revoked);
    }
}
