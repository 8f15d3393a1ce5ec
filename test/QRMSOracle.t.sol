// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {QRMSOracle} from "../contracts/QRMSOracle.sol";
import {IGoverned} from "../contracts/interfaces/IGoverned.sol";
import {IQRMSOracle} from "../contracts/interfaces/IQRMSOracle.sol";
import {Test} from "./lib/Test.sol";

/// @notice Shared set-up and helpers of the QRMSOracle tests, one contract per function under test below.
abstract contract QRMSOracle_TestInit is Test {
    /// @dev Emitted with measured gas; forge prints it with `-vv`.
    event log_named_uint(string key, uint256 val);

    address internal constant GOVERNANCE = address(0x60f);
    uint32 internal constant MAX_AGE = 1 hours;

    QRMSOracle internal oracle;
    address[] internal reporters;

    function setUp() public {
        vm.warp(1_750_000_000);
        for (uint256 i = 1; i <= 3; ++i) {
            reporters.push(address(uint160(0xa0 + i)));
        }
        oracle = new QRMSOracle(GOVERNANCE, reporters, 2, MAX_AGE, 6000, 9000, address(0));
    }

    function r(uint256 i) internal view returns (address) {
        return reporters[i];
    }

    function report(address reporter, uint32 round, uint16 score) internal {
        vm.prank(reporter);
        oracle.submitReport(round, score);
    }

    function unauthorized(address caller) internal pure returns (bytes memory) {
        return abi.encodeWithSelector(IQRMSOracle.QRMSOracle_Unauthorized.selector, caller);
    }

    function level() internal view returns (uint256) {
        return uint256(oracle.riskLevel());
    }

    function newOracle(address[] memory list, uint8 quorum) internal returns (QRMSOracle) {
        return new QRMSOracle(GOVERNANCE, list, quorum, MAX_AGE, 6000, 9000, address(0));
    }

    function addresses(uint256 n) internal pure returns (address[] memory list) {
        list = new address[](n);
        for (uint256 i = 0; i < n; ++i) {
            list[i] = address(uint160(0x1000 + i));
        }
    }

    // =========================================================================================
    // Deployment
    // =========================================================================================

    // =========================================================================================
    // Reports and aggregation
    // =========================================================================================

    // --- manipulation, expiry, fall-back (issue 13) ---------------------------------------------

    // --- fuzz -------------------------------------------------------------------------------------

    // =========================================================================================
    // Governance
    // =========================================================================================
}

contract QRMSOracle_Constructor_Test is QRMSOracle_TestInit {
    function test_constructor_state() public view {
        assertEq(oracle.version(), "2.1.0");
        assertEq(oracle.attestation(), address(0));
        assertEq(oracle.freshReports(), 0);
        assertEq(oracle.governance(), GOVERNANCE);
        assertEq(oracle.riskScore(), 0);
        assertEq(level(), uint256(IQRMSOracle.RiskLevel.NORMAL));
        (uint16 score, IQRMSOracle.RiskLevel lvl, uint32 updatedAt) = oracle.riskState();
        assertEq(score, 0);
        assertEq(uint256(lvl), 0);
        assertEq(updatedAt, 1_750_000_000);
        (uint16 scheduled, uint16 emergency) = oracle.thresholds();
        assertEq(scheduled, 6000);
        assertEq(emergency, 9000);
        assertEq(oracle.quorum(), 2);
        assertEq(oracle.maxReportAge(), MAX_AGE);
        address[] memory list = oracle.reporters();
        assertEq(list.length, 3);
        for (uint256 i = 0; i < 3; ++i) {
            assertEq(list[i], r(i));
            assertTrue(oracle.isReporter(r(i)));
        }
        assertFalse(oracle.isReporter(address(this)));
        for (uint256 a = 0; a < 3; ++a) {
            IQRMSOracle.Algorithm alg = IQRMSOracle.Algorithm(a);
            (IQRMSOracle.AlgorithmStatus status, uint32 from) = oracle.algorithmStatus(alg);
            assertEq(uint256(status), uint256(IQRMSOracle.AlgorithmStatus.ALLOWED));
            assertEq(from, 0);
            assertTrue(oracle.isAlgorithmAllowed(alg));
            assertFalse(oracle.isAlgorithmRequired(alg));
        }
        assertEq(oracle.MAX_SCORE(), 10_000);
        assertEq(oracle.MAX_REPORTERS(), 9);
    }

    function test_constructor_reverts() public {
        vm.expectRevert(IQRMSOracle.QRMSOracle_ZeroAddress.selector);
        new QRMSOracle(address(0), reporters, 2, MAX_AGE, 6000, 9000, address(0));
        vm.expectRevert(abi.encodeWithSelector(IQRMSOracle.QRMSOracle_InvalidThresholds.selector, 9000, 9000));
        new QRMSOracle(GOVERNANCE, reporters, 2, MAX_AGE, 9000, 9000, address(0));
        vm.expectRevert(abi.encodeWithSelector(IQRMSOracle.QRMSOracle_InvalidThresholds.selector, 6000, 10_001));
        new QRMSOracle(GOVERNANCE, reporters, 2, MAX_AGE, 6000, 10_001, address(0));
        vm.expectRevert(abi.encodeWithSelector(IQRMSOracle.QRMSOracle_InvalidMaxReportAge.selector, 0));
        new QRMSOracle(GOVERNANCE, reporters, 2, 0, 6000, 9000, address(0));
        vm.expectRevert(abi.encodeWithSelector(IQRMSOracle.QRMSOracle_InvalidQuorum.selector, 0, 3));
        new QRMSOracle(GOVERNANCE, reporters, 0, MAX_AGE, 6000, 9000, address(0));
        vm.expectRevert(abi.encodeWithSelector(IQRMSOracle.QRMSOracle_InvalidQuorum.selector, 4, 3));
        new QRMSOracle(GOVERNANCE, reporters, 4, MAX_AGE, 6000, 9000, address(0));
        vm.expectRevert(abi.encodeWithSelector(IQRMSOracle.QRMSOracle_InvalidQuorum.selector, 1, 0));
        new QRMSOracle(GOVERNANCE, new address[](0), 1, MAX_AGE, 6000, 9000, address(0));
        // With two or more reporters one report must not decide.
        vm.expectRevert(abi.encodeWithSelector(IQRMSOracle.QRMSOracle_InvalidQuorum.selector, 1, 3));
        new QRMSOracle(GOVERNANCE, reporters, 1, MAX_AGE, 6000, 9000, address(0));
        vm.expectRevert(IQRMSOracle.QRMSOracle_TooManyReporters.selector);
        newOracle(addresses(10), 1);
        address[] memory dup = new address[](2);
        (dup[0], dup[1]) = (address(0xa1), address(0xa1));
        vm.expectRevert(abi.encodeWithSelector(IQRMSOracle.QRMSOracle_ReporterExists.selector, address(0xa1)));
        newOracle(dup, 1);
        dup[1] = address(0);
        vm.expectRevert(IQRMSOracle.QRMSOracle_ZeroAddress.selector);
        newOracle(dup, 1);
    }

    function test_constructor_maxReporters() public {
        QRMSOracle o = newOracle(addresses(9), 5);
        assertEq(o.reporters().length, 9);
        assertEq(o.quorum(), 5);
    }
}

contract QRMSOracle_SubmitReport_Test is QRMSOracle_TestInit {
    function test_report_belowQuorumOnlyStores() public {
        vm.expectEmit(address(oracle));
        emit IQRMSOracle.ReportSubmitted(r(0), 1, 7000);
        report(r(0), 1, 7000);
        assertEq(oracle.riskScore(), 0, "one report < quorum 2");
        IQRMSOracle.Report memory rep = oracle.latestReport(r(0));
        assertEq(rep.score, 7000);
        assertEq(rep.round, 1);
        assertEq(rep.reportedAt, block.timestamp);
        IQRMSOracle.Report memory none = oracle.latestReport(address(this));
        assertEq(none.reportedAt, 0);
    }

    function test_report_quorumSetsMedianAndLevel() public {
        report(r(0), 1, 7000);
        vm.warp(block.timestamp + 10);
        vm.expectEmit(address(oracle));
        emit IQRMSOracle.ReportSubmitted(r(1), 1, 6000);
        vm.expectEmit(address(oracle));
        emit IQRMSOracle.RiskScoreUpdated(0, 6000, 2);
        vm.expectEmit(address(oracle));
        emit IQRMSOracle.RiskLevelChanged(IQRMSOracle.RiskLevel.NORMAL, IQRMSOracle.RiskLevel.SCHEDULED, 6000);
        report(r(1), 1, 6000);
        assertEq(oracle.riskScore(), 6000, "the lower of the two middle values");
        assertEq(level(), uint256(IQRMSOracle.RiskLevel.SCHEDULED));
        (,, uint32 updatedAt) = oracle.riskState();
        assertEq(updatedAt, block.timestamp);

        report(r(2), 1, 9900);
        assertEq(oracle.riskScore(), 7000, "median of 6000, 7000, 9900");
        assertEq(level(), uint256(IQRMSOracle.RiskLevel.SCHEDULED));
    }

    function test_report_oneBadReporterCannotMoveScore() public {
        vm.prank(GOVERNANCE);
        oracle.setQuorum(3);
        report(r(0), 1, 1000);
        report(r(1), 1, 1200);
        report(r(2), 1, 10_000); // malicious
        assertEq(oracle.riskScore(), 1200);
        assertEq(level(), uint256(IQRMSOracle.RiskLevel.NORMAL));
        report(r(2), 2, 0); // malicious the other way
        assertEq(oracle.riskScore(), 1000);
    }

    function test_report_levelCrossingsEmitEvents() public {
        report(r(0), 1, 9500);
        vm.expectEmit(address(oracle));
        emit IQRMSOracle.RiskLevelChanged(IQRMSOracle.RiskLevel.NORMAL, IQRMSOracle.RiskLevel.EMERGENCY, 9500);
        report(r(1), 1, 9500);
        assertEq(level(), uint256(IQRMSOracle.RiskLevel.EMERGENCY));
        report(r(0), 2, 100);
        assertEq(oracle.riskScore(), 100);
        assertEq(level(), uint256(IQRMSOracle.RiskLevel.EMERGENCY), "latched");
        vm.expectEmit(address(oracle));
        emit IQRMSOracle.RiskLevelChanged(IQRMSOracle.RiskLevel.EMERGENCY, IQRMSOracle.RiskLevel.NORMAL, 100);
        vm.prank(GOVERNANCE);
        oracle.releaseEmergency();
        assertEq(level(), uint256(IQRMSOracle.RiskLevel.NORMAL));
        // Exactly at the thresholds.
        report(r(0), 3, 6000);
        report(r(1), 2, 6000);
        assertEq(level(), uint256(IQRMSOracle.RiskLevel.SCHEDULED));
        report(r(0), 4, 9000);
        report(r(1), 3, 9000);
        assertEq(level(), uint256(IQRMSOracle.RiskLevel.EMERGENCY));
    }

    function test_report_noLevelEventWithoutCrossing() public {
        report(r(0), 1, 100);
        vm.recordLogs();
        report(r(1), 1, 200);
        assertEq(vm.getRecordedLogs().length, 2, "ReportSubmitted + RiskScoreUpdated only");
    }

    function test_report_staleReportsIgnored() public {
        report(r(0), 1, 8000);
        vm.warp(block.timestamp + MAX_AGE + 1);
        report(r(1), 1, 2000);
        assertEq(oracle.riskScore(), 0, "r0's report is too old: 1 fresh < quorum");
        report(r(2), 1, 3000);
        assertEq(oracle.riskScore(), 2000);
        // A report exactly maxReportAge old still counts.
        vm.warp(block.timestamp + MAX_AGE);
        report(r(0), 2, 5000);
        assertEq(oracle.riskScore(), 3000, "median of 2000, 3000, 5000");
    }

    function test_report_revert_notReporter() public {
        vm.expectRevert(abi.encodeWithSelector(IQRMSOracle.QRMSOracle_NotReporter.selector, address(this)));
        oracle.submitReport(1, 1);
    }

    function test_report_revert_scoreOutOfRange() public {
        vm.prank(r(0));
        vm.expectRevert(abi.encodeWithSelector(IQRMSOracle.QRMSOracle_ScoreOutOfRange.selector, 10_001));
        oracle.submitReport(1, 10_001);
        report(r(0), 1, 10_000); // the maximum is fine
    }

    function test_report_revert_staleRound() public {
        vm.prank(r(0));
        vm.expectRevert(abi.encodeWithSelector(IQRMSOracle.QRMSOracle_StaleRound.selector, 0, 0));
        oracle.submitReport(0, 1);
        report(r(0), 5, 1);
        vm.startPrank(r(0));
        vm.expectRevert(abi.encodeWithSelector(IQRMSOracle.QRMSOracle_StaleRound.selector, 5, 5));
        oracle.submitReport(5, 1);
        vm.expectRevert(abi.encodeWithSelector(IQRMSOracle.QRMSOracle_StaleRound.selector, 4, 5));
        oracle.submitReport(4, 1);
        vm.stopPrank();
        report(r(0), type(uint32).max, 2);
        assertEq(oracle.latestReport(r(0)).round, type(uint32).max);
    }

    /// @dev `submitReport` stays within 50,000 gas as a transaction, with the largest reporter
    ///      set all reporting fresh scores and a level crossing.
    function test_report_gas() public {
        QRMSOracle o = newOracle(addresses(9), 5);
        for (uint256 i = 0; i < 8; ++i) {
            vm.prank(address(uint160(0x1000 + i)));
            o.submitReport(1, uint16(9000 + i));
        }
        address[] memory cold = new address[](1);
        cold[0] = address(o);
        uint256 g = txGas(address(uint160(0x1000 + 8)), address(o), abi.encodeCall(o.submitReport, (2, 9999)), cold);
        emit log_named_uint("submitReport transaction gas (9 reporters, all fresh)", g);
        assertLe(g, 50_000, "submitReport transaction gas");
        assertEq(o.riskScore(), 9004);
    }

    /// @dev Gas-report sample: a typical update (3 reporters, quorum 2).
    function test_report_gasTypical() public {
        report(r(0), 1, 500);
        report(r(1), 1, 700);
        report(r(2), 1, 9000);
        report(r(0), 2, 600);
        assertEq(oracle.riskScore(), 700);
    }

    /// @dev Two reporters (quorum 2): honest 8000 + attacker 10000 used to average to 9000,
    ///      EMERGENCY. Now the score stays at the honest 8000 (SCHEDULED), in either order.
    function test_manipulation_oneDishonestOfTwo_notEmergency() public {
        address[] memory two = new address[](2);
        (two[0], two[1]) = (r(0), r(1));
        QRMSOracle o = newOracle(two, 2);
        vm.prank(r(0));
        o.submitReport(1, 8000); // honest
        vm.prank(r(1));
        o.submitReport(1, 10_000); // attacker
        assertEq(o.riskScore(), 8000);
        assertEq(uint256(o.riskLevel()), uint256(IQRMSOracle.RiskLevel.SCHEDULED));
        assertEq(uint256(o.signaturePolicy().level), uint256(IQRMSOracle.RiskLevel.SCHEDULED));
        // The attacker reporting first changes nothing.
        QRMSOracle o2 = newOracle(two, 2);
        vm.prank(r(1));
        o2.submitReport(1, 10_000);
        assertEq(uint256(o2.riskLevel()), uint256(IQRMSOracle.RiskLevel.NORMAL), "alone: below quorum");
        vm.prank(r(0));
        o2.submitReport(1, 8000);
        assertEq(uint256(o2.riskLevel()), uint256(IQRMSOracle.RiskLevel.SCHEDULED));
        // Nor does it alone (the honest report expired): no quorum, no level.
        vm.warp(block.timestamp + MAX_AGE / 2);
        vm.prank(r(1));
        o2.submitReport(2, 10_000);
        vm.warp(block.timestamp + MAX_AGE / 2 + 1);
        assertEq(uint256(o2.riskLevel()), uint256(IQRMSOracle.RiskLevel.NORMAL));
    }

    /// @dev Three reporters (quorum 2): one attacker at 10000 never makes EMERGENCY out of honest
    ///      8000s, whether one or two honest reports are fresh.
    function test_manipulation_oneDishonestOfThree_notEmergency() public {
        report(r(0), 1, 8000);
        report(r(2), 1, 10_000); // attacker
        assertEq(oracle.riskScore(), 8000, "1 honest + attacker");
        assertEq(level(), uint256(IQRMSOracle.RiskLevel.SCHEDULED));
        report(r(1), 1, 8000);
        assertEq(oracle.riskScore(), 8000, "2 honest + attacker");
        assertEq(level(), uint256(IQRMSOracle.RiskLevel.SCHEDULED));
        // Downwards, with two honest reports fresh, the attacker cannot lower it either.
        report(r(2), 2, 0);
        assertEq(oracle.riskScore(), 8000);
        // With quorum 3 as well.
        vm.prank(GOVERNANCE);
        oracle.setQuorum(3);
        report(r(2), 3, 10_000);
        assertEq(level(), uint256(IQRMSOracle.RiskLevel.SCHEDULED));
    }

    /// @dev For any reporter count n >= 2 with a quorum of 2 or more, one reporter reporting
    ///      anything cannot raise the score above the highest honest report (so not to a level
    ///      no honest report has).
    function testFuzz_manipulation_oneDishonestCannotRaise(
        uint16[9] memory honest,
        uint16 bad,
        uint8 count,
        uint8 quorum_
    ) public {
        uint256 n = bound(count, 2, 9);
        uint8 q = uint8(bound(quorum_, 2, n));
        QRMSOracle o = newOracle(addresses(n), q);
        uint256 maxHonest;
        for (uint256 i = 0; i + 1 < n; ++i) {
            uint16 h = uint16(bound(honest[i], 0, 10_000));
            if (h > maxHonest) maxHonest = h;
            vm.prank(address(uint160(0x1000 + i)));
            o.submitReport(1, h);
        }
        vm.prank(address(uint160(0x1000 + n - 1)));
        o.submitReport(1, uint16(bound(bad, 0, 10_000)));
        assertLe(o.riskScore(), maxHonest, "above every honest report");
        assertLe(uint256(o.riskLevel()), uint256(o.levelForScore(maxHonest)), "level above the honest ones");
    }

    /// @dev Reports older than maxReportAge stop counting at once: the views fall back without a
    ///      transaction, {refresh} records it and emits the events.
    function test_staleReports_expireWithoutTransaction() public {
        report(r(0), 1, 7500);
        report(r(1), 1, 7500);
        assertEq(level(), uint256(IQRMSOracle.RiskLevel.SCHEDULED));
        uint256 reportedAt = block.timestamp;
        vm.warp(reportedAt + MAX_AGE);
        assertEq(level(), uint256(IQRMSOracle.RiskLevel.SCHEDULED), "exactly maxReportAge old: fresh");
        vm.warp(reportedAt + MAX_AGE + 1);
        assertEq(oracle.freshReports(), 0);
        assertEq(oracle.riskScore(), 0);
        assertEq(level(), uint256(IQRMSOracle.RiskLevel.NORMAL));
        assertEq(uint256(oracle.signaturePolicy().level), uint256(IQRMSOracle.RiskLevel.NORMAL));
        (uint16 score, IQRMSOracle.RiskLevel lvl, uint32 updatedAt) = oracle.riskState();
        assertEq(score, 0);
        assertEq(uint256(lvl), 0);
        assertEq(updatedAt, block.timestamp, "as of now");
        // Anyone records it.
        vm.expectEmit(address(oracle));
        emit IQRMSOracle.RiskScoreUpdated(7500, 0, 0);
        vm.expectEmit(address(oracle));
        emit IQRMSOracle.RiskLevelChanged(IQRMSOracle.RiskLevel.SCHEDULED, IQRMSOracle.RiskLevel.NORMAL, 0);
        vm.prank(address(0xbeef));
        oracle.refresh();
        (,, updatedAt) = oracle.riskState();
        assertEq(updatedAt, block.timestamp);
        // A second refresh has nothing to record.
        vm.recordLogs();
        oracle.refresh();
        assertEq(vm.getRecordedLogs().length, 0);
    }

    /// @dev With n fresh reports (n >= quorum) the score is their median, always in range, and
    ///      the level matches the thresholds.
    function testFuzz_medianOfFreshReports(uint16[9] memory scores, uint8 count) public {
        uint256 n = bound(count, 2, 9);
        QRMSOracle o = newOracle(addresses(9), uint8(n));
        uint256[] memory sorted = new uint256[](n);
        for (uint256 i = 0; i < n; ++i) {
            uint16 s = uint16(bound(scores[i], 0, 10_000));
            vm.prank(address(uint160(0x1000 + i)));
            o.submitReport(1, s);
            uint256 k = i;
            while (k > 0 && sorted[k - 1] > s) {
                sorted[k] = sorted[k - 1];
                --k;
            }
            sorted[k] = s;
        }
        uint256 expected = sorted[(n - 1) / 2];
        assertEq(o.riskScore(), expected, "lower median");
        assertLe(o.riskScore(), sorted[n - 2], "not above the second highest report");
        assertLe(o.riskScore(), 10_000, "range");
        assertGe(o.riskScore(), sorted[0], "not below the lowest report");
        assertLe(o.riskScore(), sorted[n - 1], "not above the highest report");
        assertEq(uint256(o.riskLevel()), uint256(o.levelForScore(o.riskScore())), "level");
    }

    /// @dev With quorum 3 of 3, one arbitrary reporter cannot push the score outside the honest range.
    function testFuzz_singleBadReporterBounded(uint16 honestA, uint16 honestB, uint16 bad) public {
        honestA = uint16(bound(honestA, 0, 10_000));
        honestB = uint16(bound(honestB, 0, 10_000));
        bad = uint16(bound(bad, 0, 10_000));
        vm.prank(GOVERNANCE);
        oracle.setQuorum(3);
        report(r(0), 1, honestA);
        report(r(1), 1, honestB);
        report(r(2), 1, bad);
        uint256 lo = honestA < honestB ? honestA : honestB;
        uint256 hi = honestA < honestB ? honestB : honestA;
        assertGe(oracle.riskScore(), lo, "low");
        assertLe(oracle.riskScore(), hi, "high");
    }
}

contract QRMSOracle_Level_Test is QRMSOracle_TestInit {
    /// @dev The level falls back when the fresh reports say so: by new reports, and when the high
    ///      reports expire and the remaining fresh ones (a quorum) are lower — without a report.
    function test_level_fallsBackWhenFreshReportsDrop() public {
        QRMSOracle o = newOracle(addresses(5), 2);
        address[] memory a = addresses(5);
        uint256 t0 = block.timestamp;
        for (uint256 i = 0; i < 3; ++i) {
            vm.prank(a[i]);
            o.submitReport(1, 8500);
        }
        vm.warp(t0 + 600);
        for (uint256 i = 3; i < 5; ++i) {
            vm.prank(a[i]);
            o.submitReport(1, 3000);
        }
        assertEq(o.riskScore(), 8500, "3 of 5 at 8500");
        assertEq(uint256(o.riskLevel()), uint256(IQRMSOracle.RiskLevel.SCHEDULED));
        // The three high reports expire; the two at 3000 are still fresh.
        vm.warp(t0 + MAX_AGE + 1);
        assertEq(o.freshReports(), 2);
        assertEq(o.riskScore(), 3000);
        assertEq(uint256(o.riskLevel()), uint256(IQRMSOracle.RiskLevel.NORMAL));
        vm.expectEmit(address(o));
        emit IQRMSOracle.RiskLevelChanged(IQRMSOracle.RiskLevel.SCHEDULED, IQRMSOracle.RiskLevel.NORMAL, 3000);
        o.refresh();
        // New lower reports take it down further.
        vm.prank(a[0]);
        o.submitReport(2, 1000);
        vm.prank(a[1]);
        o.submitReport(2, 1000);
        assertEq(o.riskScore(), 1000, "lower median of 1000, 1000, 3000, 3000");
        assertEq(uint256(o.riskLevel()), uint256(IQRMSOracle.RiskLevel.NORMAL));
    }

    /// @dev `levelForScore` agrees with the documented rule for any thresholds and score.
    function testFuzz_levelRule(uint16 scheduled, uint16 emergency, uint256 score) public {
        emergency = uint16(bound(emergency, 1, 10_000));
        scheduled = uint16(bound(scheduled, 0, emergency - 1));
        vm.prank(GOVERNANCE);
        oracle.setThresholds(scheduled, emergency);
        IQRMSOracle.RiskLevel expected = score >= emergency
            ? IQRMSOracle.RiskLevel.EMERGENCY
            : (score >= scheduled ? IQRMSOracle.RiskLevel.SCHEDULED : IQRMSOracle.RiskLevel.NORMAL);
        assertEq(uint256(oracle.levelForScore(score)), uint256(expected));
    }
}

contract QRMSOracle_AddReporter_Test is QRMSOracle_TestInit {
    function test_addReporter() public {
        address n = address(0xa9);
        vm.expectRevert(unauthorized(address(this)));
        oracle.addReporter(n);
        vm.expectEmit(address(oracle));
        emit IQRMSOracle.ReporterAdded(n);
        vm.prank(GOVERNANCE);
        oracle.addReporter(n);
        assertTrue(oracle.isReporter(n));
        assertEq(oracle.reporters().length, 4);
        report(n, 1, 5);
        vm.startPrank(GOVERNANCE);
        vm.expectRevert(abi.encodeWithSelector(IQRMSOracle.QRMSOracle_ReporterExists.selector, n));
        oracle.addReporter(n);
        vm.expectRevert(IQRMSOracle.QRMSOracle_ZeroAddress.selector);
        oracle.addReporter(address(0));
        for (uint256 i = 0; i < 5; ++i) {
            oracle.addReporter(address(uint160(0x2000 + i)));
        }
        vm.expectRevert(IQRMSOracle.QRMSOracle_TooManyReporters.selector);
        oracle.addReporter(address(0x3000));
        vm.stopPrank();
    }
}

contract QRMSOracle_RemoveReporter_Test is QRMSOracle_TestInit {
    function test_removeReporter() public {
        report(r(0), 1, 9000);
        report(r(1), 1, 9000);
        vm.expectRevert(unauthorized(address(this)));
        oracle.removeReporter(r(0));
        vm.expectEmit(address(oracle));
        emit IQRMSOracle.ReporterRemoved(r(0));
        vm.prank(GOVERNANCE);
        oracle.removeReporter(r(0));
        assertFalse(oracle.isReporter(r(0)));
        assertEq(oracle.latestReport(r(0)).reportedAt, 0);
        address[] memory list = oracle.reporters();
        assertEq(list.length, 2);
        assertEq(list[0], r(1));
        assertEq(list[1], r(2));
        // Its report no longer counts: r2 + r1 -> lower median of 9000, 1000.
        report(r(2), 1, 1000);
        assertEq(oracle.riskScore(), 1000);
        vm.prank(r(0));
        vm.expectRevert(abi.encodeWithSelector(IQRMSOracle.QRMSOracle_NotReporter.selector, r(0)));
        oracle.submitReport(2, 1);

        vm.startPrank(GOVERNANCE);
        vm.expectRevert(abi.encodeWithSelector(IQRMSOracle.QRMSOracle_NotReporter.selector, r(0)));
        oracle.removeReporter(r(0));
        // One reporter left: the quorum follows it down to 1 (never below).
        vm.expectEmit(address(oracle));
        emit IQRMSOracle.ReporterRemoved(r(1));
        vm.expectEmit(address(oracle));
        emit IQRMSOracle.QuorumUpdated(1);
        oracle.removeReporter(r(1));
        assertEq(oracle.quorum(), 1);
        assertEq(oracle.riskScore(), 1000, "r2 alone");
        // Re-adding reuses the free position and starts with a clean report (round 1 is fresh
        // again); with two reporters the quorum is back at 2.
        vm.expectEmit(address(oracle));
        emit IQRMSOracle.QuorumUpdated(2);
        oracle.addReporter(r(0));
        vm.stopPrank();
        assertEq(oracle.quorum(), 2);
        assertEq(oracle.reporters()[0], r(0));
        report(r(0), 1, 1);
        assertEq(oracle.riskScore(), 1);
        // The last reporter can go too (e.g. a revoked sequencer); the score falls to 0.
        vm.startPrank(GOVERNANCE);
        oracle.removeReporter(r(0));
        oracle.removeReporter(r(2));
        vm.stopPrank();
        assertEq(oracle.reporters().length, 0);
        assertEq(oracle.quorum(), 1);
        assertEq(oracle.riskScore(), 0);
    }
}

contract QRMSOracle_SetQuorum_Test is QRMSOracle_TestInit {
    function test_setQuorum() public {
        vm.expectRevert(unauthorized(address(this)));
        oracle.setQuorum(1);
        vm.startPrank(GOVERNANCE);
        vm.expectRevert(abi.encodeWithSelector(IQRMSOracle.QRMSOracle_InvalidQuorum.selector, 0, 3));
        oracle.setQuorum(0);
        vm.expectRevert(abi.encodeWithSelector(IQRMSOracle.QRMSOracle_InvalidQuorum.selector, 4, 3));
        oracle.setQuorum(4);
        vm.expectRevert(abi.encodeWithSelector(IQRMSOracle.QRMSOracle_InvalidQuorum.selector, 1, 3));
        oracle.setQuorum(1);
        vm.stopPrank();
        report(r(0), 1, 4242);
        report(r(1), 1, 4242);
        assertEq(oracle.riskScore(), 4242);
        // Raising the quorum above the fresh reports takes the score back to 0 at once.
        vm.expectEmit(address(oracle));
        emit IQRMSOracle.QuorumUpdated(3);
        vm.expectEmit(address(oracle));
        emit IQRMSOracle.RiskScoreUpdated(4242, 0, 2);
        vm.prank(GOVERNANCE);
        oracle.setQuorum(3);
        assertEq(oracle.quorum(), 3);
        assertEq(oracle.riskScore(), 0);
    }
}

contract QRMSOracle_SetMaxReportAge_Test is QRMSOracle_TestInit {
    function test_setMaxReportAge() public {
        vm.expectRevert(unauthorized(address(this)));
        oracle.setMaxReportAge(10);
        vm.startPrank(GOVERNANCE);
        vm.expectRevert(abi.encodeWithSelector(IQRMSOracle.QRMSOracle_InvalidMaxReportAge.selector, 0));
        oracle.setMaxReportAge(0);
        vm.expectEmit(address(oracle));
        emit IQRMSOracle.MaxReportAgeUpdated(10);
        oracle.setMaxReportAge(10);
        vm.stopPrank();
        assertEq(oracle.maxReportAge(), 10);
        report(r(0), 1, 100);
        vm.warp(block.timestamp + 11);
        report(r(1), 1, 100);
        assertEq(oracle.riskScore(), 0);
    }
}

/// @notice The emergency latch against its adversary: every reporter's ECDSA key in the hands of
///         someone who wants ECDSA-only commitments allowed again.
contract QRMSOracle_EmergencyLatch_Test is QRMSOracle_TestInit {
    function emergency() internal {
        report(r(0), 1, 9500);
        report(r(1), 1, 9600);
        assertTrue(oracle.emergencyLatched());
    }

    function test_latch_reportersCannotLowerEmergency() public {
        emergency();
        // All three reporters now report 0 (forged or coerced): the score follows, the level not.
        report(r(0), 2, 0);
        report(r(1), 2, 0);
        report(r(2), 1, 0);
        assertEq(oracle.riskScore(), 0);
        assertEq(level(), uint256(IQRMSOracle.RiskLevel.EMERGENCY));
        assertEq(uint256(oracle.signaturePolicy().level), uint256(IQRMSOracle.RiskLevel.EMERGENCY));
        (uint16 score, IQRMSOracle.RiskLevel lvl,) = oracle.riskState();
        assertEq(score, 0);
        assertEq(uint256(lvl), uint256(IQRMSOracle.RiskLevel.EMERGENCY));
        // Nor can a permissionless refresh, the thresholds of a later block, or silence.
        oracle.refresh();
        vm.warp(block.timestamp + 30 days);
        assertEq(oracle.freshReports(), 0);
        assertEq(level(), uint256(IQRMSOracle.RiskLevel.EMERGENCY));
        assertTrue(oracle.emergencyLatched());
    }

    function test_latch_releaseIsGovernanceOnly() public {
        vm.expectRevert(abi.encodeWithSelector(IQRMSOracle.QRMSOracle_NotLatched.selector));
        vm.prank(GOVERNANCE);
        oracle.releaseEmergency();
        emergency();
        report(r(0), 2, 1000);
        report(r(1), 2, 1000);
        for (uint256 i = 0; i < 3; ++i) {
            vm.expectRevert(unauthorized(r(i)));
            vm.prank(r(i));
            oracle.releaseEmergency();
        }
        vm.expectRevert(unauthorized(address(this)));
        oracle.releaseEmergency();
        vm.expectEmit(address(oracle));
        emit IQRMSOracle.RiskLevelChanged(IQRMSOracle.RiskLevel.EMERGENCY, IQRMSOracle.RiskLevel.NORMAL, 1000);
        vm.expectEmit(address(oracle));
        emit IQRMSOracle.EmergencyReleased(GOVERNANCE, IQRMSOracle.RiskLevel.NORMAL, 1000);
        vm.prank(GOVERNANCE);
        oracle.releaseEmergency();
        assertFalse(oracle.emergencyLatched());
        assertEq(level(), uint256(IQRMSOracle.RiskLevel.NORMAL));
        // Released, the level follows the reports both ways again.
        report(r(0), 3, 7000);
        report(r(1), 3, 7000);
        assertEq(level(), uint256(IQRMSOracle.RiskLevel.SCHEDULED));
    }

    /// @dev Governance cannot talk a live emergency away: the reports still say EMERGENCY.
    function test_latch_releaseWhileReportsSayEmergencyLatchesAgain() public {
        emergency();
        vm.expectEmit(address(oracle));
        emit IQRMSOracle.EmergencyReleased(GOVERNANCE, IQRMSOracle.RiskLevel.EMERGENCY, 9500);
        vm.prank(GOVERNANCE);
        oracle.releaseEmergency();
        assertTrue(oracle.emergencyLatched());
        report(r(0), 2, 0);
        report(r(1), 2, 0);
        assertEq(level(), uint256(IQRMSOracle.RiskLevel.EMERGENCY));
    }

    /// @dev Whatever the reporters (and time) do after an emergency, the level stays EMERGENCY.
    function testFuzz_latch_noReportSequenceLowersEmergency(uint16[8] memory scores, uint32[8] memory gaps) public {
        emergency();
        uint32[3] memory rounds = [uint32(1), 1, 0];
        for (uint256 i = 0; i < scores.length; ++i) {
            vm.warp(block.timestamp + gaps[i] % 2 hours);
            uint256 who = uint256(keccak256(abi.encode(i, scores[i]))) % 3;
            report(r(who), ++rounds[who], uint16(bound(scores[i], 0, 10_000)));
            assertEq(level(), uint256(IQRMSOracle.RiskLevel.EMERGENCY));
            assertEq(uint256(oracle.signaturePolicy().level), uint256(IQRMSOracle.RiskLevel.EMERGENCY));
        }
    }
}

contract QRMSOracle_SetThresholds_Test is QRMSOracle_TestInit {
    function test_setThresholds() public {
        report(r(0), 1, 7000);
        report(r(1), 1, 7000);
        assertEq(level(), uint256(IQRMSOracle.RiskLevel.SCHEDULED));
        vm.expectRevert(unauthorized(address(this)));
        oracle.setThresholds(1000, 2000);
        vm.startPrank(GOVERNANCE);
        vm.expectRevert(abi.encodeWithSelector(IQRMSOracle.QRMSOracle_InvalidThresholds.selector, 5000, 4000));
        oracle.setThresholds(5000, 4000);
        vm.expectRevert(abi.encodeWithSelector(IQRMSOracle.QRMSOracle_InvalidThresholds.selector, 5000, 10_001));
        oracle.setThresholds(5000, 10_001);
        // Lowering the emergency threshold below the score crosses a level.
        vm.expectEmit(address(oracle));
        emit IQRMSOracle.ThresholdsUpdated(5000, 7000);
        vm.expectEmit(address(oracle));
        emit IQRMSOracle.RiskLevelChanged(IQRMSOracle.RiskLevel.SCHEDULED, IQRMSOracle.RiskLevel.EMERGENCY, 7000);
        oracle.setThresholds(5000, 7000);
        assertEq(level(), uint256(IQRMSOracle.RiskLevel.EMERGENCY));
        oracle.setThresholds(9999, 10_000);
        assertEq(level(), uint256(IQRMSOracle.RiskLevel.EMERGENCY), "latched until released");
        oracle.releaseEmergency();
        assertEq(level(), uint256(IQRMSOracle.RiskLevel.NORMAL));
        // No crossing: no level event.
        vm.recordLogs();
        oracle.setThresholds(9000, 10_000);
        assertEq(vm.getRecordedLogs().length, 1);
        vm.stopPrank();
        (uint16 s, uint16 e) = oracle.thresholds();
        assertEq(s, 9000);
        assertEq(e, 10_000);
    }
}

contract QRMSOracle_SetAlgorithmStatus_Test is QRMSOracle_TestInit {
    function test_setAlgorithmStatus() public {
        IQRMSOracle.Algorithm ecdsa = IQRMSOracle.Algorithm.ECDSA_SECP256K1;
        IQRMSOracle.Algorithm mldsa = IQRMSOracle.Algorithm.ML_DSA_87;
        IQRMSOracle.Algorithm slhdsa = IQRMSOracle.Algorithm.SLH_DSA_256S;
        vm.expectRevert(unauthorized(address(this)));
        oracle.setAlgorithmStatus(ecdsa, IQRMSOracle.AlgorithmStatus.REQUIRED, 0);
        vm.startPrank(GOVERNANCE);
        vm.expectRevert(
            abi.encodeWithSelector(
                IQRMSOracle.QRMSOracle_InvalidDeprecationTime.selector, IQRMSOracle.AlgorithmStatus.DEPRECATED, 0
            )
        );
        oracle.setAlgorithmStatus(ecdsa, IQRMSOracle.AlgorithmStatus.DEPRECATED, 0);
        vm.expectRevert(
            abi.encodeWithSelector(
                IQRMSOracle.QRMSOracle_InvalidDeprecationTime.selector, IQRMSOracle.AlgorithmStatus.REQUIRED, 5
            )
        );
        oracle.setAlgorithmStatus(mldsa, IQRMSOracle.AlgorithmStatus.REQUIRED, 5);

        uint32 later = uint32(block.timestamp + 100);
        vm.expectEmit(address(oracle));
        emit IQRMSOracle.AlgorithmStatusUpdated(ecdsa, IQRMSOracle.AlgorithmStatus.DEPRECATED, later);
        oracle.setAlgorithmStatus(ecdsa, IQRMSOracle.AlgorithmStatus.DEPRECATED, later);
        oracle.setAlgorithmStatus(mldsa, IQRMSOracle.AlgorithmStatus.REQUIRED, 0);
        oracle.setAlgorithmStatus(slhdsa, IQRMSOracle.AlgorithmStatus.DEPRECATED, 1);
        vm.stopPrank();

        (IQRMSOracle.AlgorithmStatus st, uint32 from) = oracle.algorithmStatus(ecdsa);
        assertEq(uint256(st), uint256(IQRMSOracle.AlgorithmStatus.DEPRECATED));
        assertEq(from, later);
        assertTrue(oracle.isAlgorithmAllowed(ecdsa), "before its deprecation time");
        assertTrue(oracle.isAlgorithmAllowed(mldsa));
        assertTrue(oracle.isAlgorithmRequired(mldsa));
        assertFalse(oracle.isAlgorithmAllowed(slhdsa));
        assertFalse(oracle.isAlgorithmRequired(slhdsa));

        IQRMSOracle.SignaturePolicy memory p = oracle.signaturePolicy();
        assertTrue(p.ecdsaAllowed);
        assertTrue(p.mldsaAllowed && p.mldsaRequired);
        assertFalse(p.slhdsaAllowed || p.slhdsaRequired);
        assertEq(uint256(p.level), 0);

        vm.warp(later);
        assertFalse(oracle.isAlgorithmAllowed(ecdsa), "from its deprecation time");
        assertFalse(oracle.signaturePolicy().ecdsaAllowed);

        // Statuses survive score updates (they share the state slot).
        report(r(0), 1, 9500);
        report(r(1), 1, 9500);
        p = oracle.signaturePolicy();
        assertEq(uint256(p.level), uint256(IQRMSOracle.RiskLevel.EMERGENCY));
        assertTrue(p.mldsaRequired);
        assertFalse(p.ecdsaAllowed);
        (st, from) = oracle.algorithmStatus(slhdsa);
        assertEq(uint256(st), uint256(IQRMSOracle.AlgorithmStatus.DEPRECATED));
        assertEq(from, 1);

        vm.prank(GOVERNANCE);
        oracle.setAlgorithmStatus(slhdsa, IQRMSOracle.AlgorithmStatus.ALLOWED, 0);
        assertTrue(oracle.isAlgorithmAllowed(slhdsa));
        assertEq(oracle.riskScore(), 9500, "score untouched by status changes");
    }
}

contract QRMSOracle_Governance_Test is QRMSOracle_TestInit {
    function test_governance_twoStep() public {
        address next = address(0x9e3);
        vm.expectRevert(unauthorized(address(this)));
        oracle.transferGovernance(next);
        vm.prank(GOVERNANCE);
        oracle.transferGovernance(next);
        assertEq(oracle.pendingGovernance(), next);
        vm.expectRevert(unauthorized(address(this)));
        oracle.acceptGovernance();
        vm.expectEmit(address(oracle));
        emit IGoverned.GovernanceTransferred(GOVERNANCE, next);
        vm.prank(next);
        oracle.acceptGovernance();
        assertEq(oracle.governance(), next);
        vm.prank(GOVERNANCE);
        vm.expectRevert(unauthorized(GOVERNANCE));
        oracle.setQuorum(1);
    }
}
