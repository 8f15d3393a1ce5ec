// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {QRMSOracle} from "../../contracts/QRMSOracle.sol";
import {IQRMSOracle} from "../../contracts/interfaces/IQRMSOracle.sol";
import {Test} from "../lib/Test.sol";
import {VM} from "../lib/Vm.sol";

/// @notice Drives the oracle with reports from random reporters (and outsiders), time jumps,
///         permissionless refreshes, governance changes of thresholds, quorum, maximum report
///         age and reporters, and emergency releases. Keeps its own model of the emergency latch:
///         set by every transaction after which the fresh reports give EMERGENCY, cleared only by
///         a release after which they do not.
contract OracleHandler {
    address internal constant GOVERNANCE = address(0x60f);

    QRMSOracle public immutable oracle;
    address[] internal pool;
    mapping(address => uint32) internal nextRound;
    uint256 public acceptedReports;
    uint256 public unauthorizedAccepted;
    bool public latched;
    uint256 public releases;

    constructor(QRMSOracle oracle_, address[] memory pool_) {
        oracle = oracle_;
        pool = pool_;
    }

    function report(uint256 who, uint16 score, bool replay) external {
        address reporter = pool[who % pool.length];
        bool authorised = oracle.isReporter(reporter);
        uint32 round = replay ? nextRound[reporter] : nextRound[reporter] + 1;
        VM.prank(reporter);
        try oracle.submitReport(round, uint16(score % 10_001)) {
            if (!authorised) ++unauthorizedAccepted;
            if (replay && round != 0) ++unauthorizedAccepted; // a replayed round must never pass
            nextRound[reporter] = round;
            ++acceptedReports;
            recorded();
        } catch {}
    }

    function warp(uint32 seconds_) external {
        VM.warp(block.timestamp + (seconds_ % 2 hours));
    }

    function setThresholds(uint16 a, uint16 b) external {
        VM.prank(GOVERNANCE);
        try oracle.setThresholds(a % 10_001, b % 10_001) {
            recorded();
        } catch {}
    }

    function setQuorum(uint8 q) external {
        VM.prank(GOVERNANCE);
        try oracle.setQuorum(q % 6) {
            recorded();
        } catch {}
    }

    function setMaxReportAge(uint32 age) external {
        VM.prank(GOVERNANCE);
        try oracle.setMaxReportAge(age % 3 hours) {
            recorded();
        } catch {}
    }

    function refresh() external {
        oracle.refresh();
        recorded();
    }

    function releaseEmergency(bool asGovernance) external {
        if (asGovernance) VM.prank(GOVERNANCE);
        try oracle.releaseEmergency() {
            if (!asGovernance || !latched) ++unauthorizedAccepted;
            ++releases;
            latched = false;
            recorded();
        } catch {}
    }

    function toggleReporter(uint256 who) external {
        address reporter = pool[who % pool.length];
        VM.prank(GOVERNANCE);
        if (oracle.isReporter(reporter)) {
            try oracle.removeReporter(reporter) {
                nextRound[reporter] = 0;
                recorded();
            } catch {}
        } else {
            try oracle.addReporter(reporter) {
                recorded();
            } catch {}
        }
    }

    /// @dev A transaction recorded the aggregate: EMERGENCY latches.
    function recorded() internal {
        if (levelOfFreshReports() == IQRMSOracle.RiskLevel.EMERGENCY) latched = true;
    }

    /// @notice The reporters' fresh scores, sorted ascending (independent of the contract's code).
    function freshSorted() public view returns (uint256[] memory sorted, uint256 n) {
        address[] memory list = oracle.reporters();
        sorted = new uint256[](list.length);
        uint256 maxAge = oracle.maxReportAge();
        for (uint256 i = 0; i < list.length; ++i) {
            IQRMSOracle.Report memory rep = oracle.latestReport(list[i]);
            if (rep.reportedAt == 0 || block.timestamp - rep.reportedAt > maxAge) continue;
            uint256 k = n++;
            while (k > 0 && sorted[k - 1] > rep.score) {
                sorted[k] = sorted[k - 1];
                --k;
            }
            sorted[k] = rep.score;
        }
    }

    /// @notice The lower median of the fresh reports with a quorum, else 0.
    function expectedScore() public view returns (uint256) {
        (uint256[] memory sorted, uint256 n) = freshSorted();
        return n >= oracle.quorum() && n > 0 ? sorted[(n - 1) / 2] : 0;
    }

    /// @notice The level rule applied to {expectedScore}, without the latch.
    function levelOfFreshReports() public view returns (IQRMSOracle.RiskLevel) {
        (uint16 scheduled, uint16 emergency) = oracle.thresholds();
        uint256 score = expectedScore();
        if (score >= emergency) return IQRMSOracle.RiskLevel.EMERGENCY;
        if (score >= scheduled) return IQRMSOracle.RiskLevel.SCHEDULED;
        return IQRMSOracle.RiskLevel.NORMAL;
    }
}

contract QRMSOracleInvariantTest is Test {
    QRMSOracle internal oracle;
    OracleHandler internal handler;

    function setUp() public {
        vm.warp(1_750_000_000);
        address[] memory pool = new address[](6);
        for (uint256 i = 0; i < pool.length; ++i) {
            pool[i] = address(uint160(0xa1 + i));
        }
        address[] memory initial = new address[](3);
        (initial[0], initial[1], initial[2]) = (pool[0], pool[1], pool[2]);
        oracle = new QRMSOracle(address(0x60f), initial, 2, 1 hours, 6000, 9000, address(0));
        handler = new OracleHandler(oracle, pool);
        targetContract(address(handler));
        bytes4[] memory selectors = new bytes4[](8);
        selectors[0] = OracleHandler.report.selector;
        selectors[1] = OracleHandler.warp.selector;
        selectors[2] = OracleHandler.setThresholds.selector;
        selectors[3] = OracleHandler.setQuorum.selector;
        selectors[4] = OracleHandler.toggleReporter.selector;
        selectors[5] = OracleHandler.setMaxReportAge.selector;
        selectors[6] = OracleHandler.refresh.selector;
        selectors[7] = OracleHandler.releaseEmergency.selector;
        targetSelector(address(handler), selectors);
    }

    /// @notice The score never leaves [0, 10_000].
    function invariant_scoreInRange() public view {
        assertLe(oracle.riskScore(), 10_000, "score range");
    }

    /// @notice The level is the threshold rule applied to the fresh reports, or EMERGENCY while
    ///         latched; once recorded, EMERGENCY holds whatever the reporters do until governance
    ///         releases it.
    function invariant_levelMatchesThresholdsAndLatch() public view {
        (uint16 scheduled, uint16 emergency) = oracle.thresholds();
        assertTrue(scheduled < emergency && emergency <= 10_000, "threshold order");
        IQRMSOracle.RiskLevel expected =
            handler.latched() ? IQRMSOracle.RiskLevel.EMERGENCY : handler.levelOfFreshReports();
        assertEq(oracle.emergencyLatched(), handler.latched(), "latch");
        assertEq(uint256(oracle.riskLevel()), uint256(expected), "level");
        assertEq(uint256(oracle.signaturePolicy().level), uint256(expected), "policy level");
    }

    /// @notice Only authorised reporters with fresh rounds are ever accepted.
    function invariant_onlyReportersWithFreshRounds() public view {
        assertEq(handler.unauthorizedAccepted(), 0, "unauthorised or replayed report or release accepted");
    }

    /// @notice 1 <= quorum <= max(1, reporter count), reporter count <= MAX_REPORTERS, and
    ///         quorum >= 2 whenever there are two or more reporters (no single report decides).
    function invariant_quorumSatisfiable() public view {
        uint256 count = oracle.reporters().length;
        assertGe(oracle.quorum(), 1, "quorum >= 1");
        assertLe(oracle.quorum(), count > 1 ? count : 1, "quorum <= reporters");
        if (count >= 2) assertGe(oracle.quorum(), 2, "quorum >= 2 with two or more reporters");
        assertLe(count, oracle.MAX_REPORTERS(), "bounded");
    }

    /// @notice The score is the lower median of the reports fresh now when a quorum is fresh,
    ///         else 0 — at every moment, whatever expired since the last transaction.
    function invariant_scoreIsLowerMedianOfFreshReports() public view {
        (, uint256 n) = handler.freshSorted();
        assertEq(oracle.riskScore(), handler.expectedScore(), "score");
        assertEq(oracle.freshReports(), n, "fresh count");
    }

    /// @notice With two or more fresh reports, the score is never above the second highest: no
    ///         single report can raise it above all the others.
    function invariant_noSingleReportRaisesTheScore() public view {
        (uint256[] memory sorted, uint256 n) = handler.freshSorted();
        if (n >= 2) assertLe(oracle.riskScore(), sorted[n - 2], "above the second highest report");
    }
}
