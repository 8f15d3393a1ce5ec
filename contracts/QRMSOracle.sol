// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {IQRMSOracle} from "./interfaces/IQRMSOracle.sol";
import {ISemver} from "./interfaces/ISemver.sol";
import {Governed} from "./lib/Governed.sol";

/// @title QRMSOracle
/// @notice Quantum-risk oracle; see {IQRMSOracle} for the aggregation rule and the level rule.
/// @dev Storage is packed for a cheap {submitReport} (under 50k gas as a transaction with the
///      largest reporter set):
///      - `_core` (one slot): score, level, last update, thresholds, quorum, lane high-water mark,
///        max report age and the status of all three algorithms. {submitReport} reads and writes it
///        once; {signaturePolicy} costs a single SLOAD;
///      - `_lanes`: the latest report of every reporter position, three 80-bit lanes per slot
///        (`score:16 | round:32 | reportedAt:32`, lowest bits first). Bit 255 of every lane slot is
///        a permanent marker set at construction so lane writes never pay the zero-to-non-zero
///        SSTORE price. A lane whose `reportedAt` is 0 holds no report.
contract QRMSOracle is IQRMSOracle, Governed {
    /// @notice Largest score (basis points).
    uint16 public constant MAX_SCORE = 10_000;
    /// @notice Largest number of reporters (bounds the median computation).
    uint256 public constant MAX_REPORTERS = 9;

    uint256 private constant LANES_PER_SLOT = 3;
    uint256 private constant LANE_SLOTS = MAX_REPORTERS / LANES_PER_SLOT;
    uint256 private constant LANE_BITS = 80;
    uint256 private constant LANE_MASK = (uint256(1) << LANE_BITS) - 1;
    uint256 private constant SLOT_MARKER = uint256(1) << 255;

    /// @dev Exactly 32 bytes.
    struct Core {
        uint16 score;
        RiskLevel level;
        uint32 updatedAt;
        uint16 scheduledThreshold;
        uint16 emergencyThreshold;
        uint8 quorum;
        // Number of reporter positions ever used (lane slots above it are never read).
        uint8 positionsUsed;
        uint32 maxReportAge;
        AlgorithmStatus ecdsaStatus;
        uint32 ecdsaDeprecatedFrom;
        AlgorithmStatus mldsaStatus;
        uint32 mldsaDeprecatedFrom;
        AlgorithmStatus slhdsaStatus;
        uint32 slhdsaDeprecatedFrom;
    }

    // Bit offsets of `Core` fields in its storage word (Solidity packs from the low-order end).
    uint256 private constant CORE_LEVEL = 16;
    uint256 private constant CORE_UPDATED_AT = 24;
    uint256 private constant CORE_SCHEDULED = 56;
    uint256 private constant CORE_EMERGENCY = 72;
    uint256 private constant CORE_QUORUM = 88;
    uint256 private constant CORE_POSITIONS_USED = 96;
    uint256 private constant CORE_MAX_REPORT_AGE = 104;
    uint256 private constant CORE_ECDSA = 136; // status (8 bits), then deprecatedFrom (32 bits)
    uint256 private constant CORE_MLDSA = 176;
    uint256 private constant CORE_SLHDSA = 216;
    uint256 private constant CORE_SCORE_LEVEL_TIME_MASK = (uint256(1) << 56) - 1;

    Core private _core;
    uint8 private _reporterCount;
    uint256[LANE_SLOTS] private _lanes;
    address[MAX_REPORTERS] private _reporterAt;
    /// @dev Reporter position + 1 (0: not a reporter).
    mapping(address => uint256) private _positionOf;

    /// @param initialGovernance Governance account (two-step transferable).
    /// @param initialReporters Authorised reporters (non-zero, distinct, at most `MAX_REPORTERS`).
    /// @param initialQuorum Fresh reports needed to update the score, `1 ..= initialReporters.length`.
    /// @param initialMaxReportAge Reports older than this many seconds are ignored (non-zero).
    /// @param scheduledThreshold Lowest score at level SCHEDULED (default policy: 6000).
    /// @param emergencyThreshold Lowest score at level EMERGENCY (default policy: 9000).
    constructor(
        address initialGovernance,
        address[] memory initialReporters,
        uint8 initialQuorum,
        uint32 initialMaxReportAge,
        uint16 scheduledThreshold,
        uint16 emergencyThreshold
    ) Governed(initialGovernance) {
        _checkThresholds(scheduledThreshold, emergencyThreshold);
        if (initialMaxReportAge == 0) revert QRMSOracle_InvalidMaxReportAge(initialMaxReportAge);
        for (uint256 i = 0; i < LANE_SLOTS; ++i) {
            _lanes[i] = SLOT_MARKER;
        }
        if (initialReporters.length > MAX_REPORTERS) revert QRMSOracle_TooManyReporters();
        for (uint256 i = 0; i < initialReporters.length; ++i) {
            _insertReporter(initialReporters[i]);
        }
        if (initialQuorum == 0 || initialQuorum > _reporterCount) {
            revert QRMSOracle_InvalidQuorum(initialQuorum, _reporterCount);
        }
        Core storage c = _core;
        c.scheduledThreshold = scheduledThreshold;
        c.emergencyThreshold = emergencyThreshold;
        c.quorum = initialQuorum;
        c.maxReportAge = initialMaxReportAge;
        // Score 0 / NORMAL at deployment.
        c.updatedAt = uint32(block.timestamp);
        emit ThresholdsUpdated(scheduledThreshold, emergencyThreshold);
        emit QuorumUpdated(initialQuorum);
        emit MaxReportAgeUpdated(initialMaxReportAge);
    }

    /// @inheritdoc ISemver
    function version() external pure returns (string memory) {
        return "1.0.0";
    }

    // ---------------------------------------------------------------------------------------
    // Reports
    // ---------------------------------------------------------------------------------------

    /// @inheritdoc IQRMSOracle
    function submitReport(uint32 round, uint16 score) external {
        uint256 position = _positionOf[msg.sender];
        if (position == 0) revert QRMSOracle_NotReporter(msg.sender);
        if (score > MAX_SCORE) revert QRMSOracle_ScoreOutOfRange(score);
        unchecked {
            --position;
        }
        uint256 slotIndex = position / LANES_PER_SLOT;
        uint256 shift = (position % LANES_PER_SLOT) * LANE_BITS;
        uint256 word = _lanes[slotIndex];
        // forge-lint: disable-next-line(unsafe-typecast) extracting the 32-bit round field of a lane
        uint32 lastRound = uint32(word >> (shift + 16));
        if (round <= lastRound) revert QRMSOracle_StaleRound(round, lastRound);
        uint256 lane = uint256(score) | (uint256(round) << 16) | (uint256(uint32(block.timestamp)) << 48);
        word = (word & ~(LANE_MASK << shift)) | (lane << shift);
        _lanes[slotIndex] = word;
        emit ReportSubmitted(msg.sender, round, score);

        // Hot path: `_core` is read and written once, as a raw word (layout: see `Core`).
        uint256 core;
        assembly ("memory-safe") {
            core := sload(_core.slot)
        }
        (uint256 median, uint256 n) = _freshMedian(
            word, slotIndex, (core >> CORE_POSITIONS_USED) & 0xff, (core >> CORE_MAX_REPORT_AGE) & 0xffffffff
        );
        if (n < (core >> CORE_QUORUM) & 0xff) return;

        // Scores are <= MAX_SCORE, and so is the mean of two of them; n <= MAX_REPORTERS.
        uint256 previousScore = core & 0xffff;
        uint256 previousLevel = (core >> CORE_LEVEL) & 0xff;
        uint256 newLevel =
            uint256(_levelFor(median, (core >> CORE_SCHEDULED) & 0xffff, (core >> CORE_EMERGENCY) & 0xffff));
        core = (core & ~CORE_SCORE_LEVEL_TIME_MASK) | median | (newLevel << CORE_LEVEL)
            | (uint256(uint32(block.timestamp)) << CORE_UPDATED_AT);
        assembly ("memory-safe") {
            sstore(_core.slot, core)
        }
        // forge-lint: disable-next-item(unsafe-typecast)
        emit RiskScoreUpdated(uint16(previousScore), uint16(median), uint8(n));
        if (newLevel != previousLevel) {
            // forge-lint: disable-next-item(unsafe-typecast)
            emit RiskLevelChanged(RiskLevel(previousLevel), RiskLevel(newLevel), uint16(median));
        }
    }

    /// @dev Median and count of the fresh reports. `word` is the already updated lane slot
    ///      `slotIndex`. Insertion sort in scratch memory (at most MAX_REPORTERS values).
    function _freshMedian(uint256 word, uint256 slotIndex, uint256 positionsUsed, uint256 maxAge)
        private
        view
        returns (uint256 median, uint256 n)
    {
        uint256[MAX_REPORTERS] memory sorted;
        uint256 slotsUsed = (positionsUsed + LANES_PER_SLOT - 1) / LANES_PER_SLOT;
        uint256 nowTs = uint32(block.timestamp);
        unchecked {
            for (uint256 s = 0; s < slotsUsed; ++s) {
                uint256 w = s == slotIndex ? word : _lanes[s];
                for (uint256 j = 0; j < LANES_PER_SLOT; ++j) {
                    uint256 reportedAt = (w >> (j * LANE_BITS + 48)) & 0xffffffff;
                    // reportedAt <= now always holds (timestamps only grow).
                    if (reportedAt == 0 || nowTs - reportedAt > maxAge) continue;
                    uint256 v = (w >> (j * LANE_BITS)) & 0xffff;
                    assembly ("memory-safe") {
                        let k := n
                        for {} gt(k, 0) { k := sub(k, 1) } {
                            let prev := mload(add(sorted, shl(5, sub(k, 1))))
                            if iszero(gt(prev, v)) { break }
                            mstore(add(sorted, shl(5, k)), prev)
                        }
                        mstore(add(sorted, shl(5, k)), v)
                    }
                    ++n;
                }
            }
            if (n == 0) return (0, 0);
            uint256 mid = n >> 1;
            median = n & 1 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) >> 1;
        }
    }

    // ---------------------------------------------------------------------------------------
    // Views
    // ---------------------------------------------------------------------------------------

    /// @inheritdoc IQRMSOracle
    function riskScore() external view returns (uint16) {
        return _core.score;
    }

    /// @inheritdoc IQRMSOracle
    function riskLevel() external view returns (RiskLevel) {
        return _core.level;
    }

    /// @inheritdoc IQRMSOracle
    function riskState() external view returns (uint16 score, RiskLevel level, uint32 updatedAt) {
        Core memory c = _core;
        return (c.score, c.level, c.updatedAt);
    }

    /// @inheritdoc IQRMSOracle
    function levelForScore(uint256 score) external view returns (RiskLevel) {
        Core memory c = _core;
        return _levelFor(score, c.scheduledThreshold, c.emergencyThreshold);
    }

    /// @inheritdoc IQRMSOracle
    function thresholds() external view returns (uint16 scheduledThreshold, uint16 emergencyThreshold) {
        Core memory c = _core;
        return (c.scheduledThreshold, c.emergencyThreshold);
    }

    /// @inheritdoc IQRMSOracle
    function algorithmStatus(Algorithm algorithm) public view returns (AlgorithmStatus status, uint32 deprecatedFrom) {
        return _algorithmStatus(_core, algorithm);
    }

    /// @inheritdoc IQRMSOracle
    function isAlgorithmAllowed(Algorithm algorithm) external view returns (bool) {
        (AlgorithmStatus status, uint32 deprecatedFrom) = algorithmStatus(algorithm);
        return _allowed(status, deprecatedFrom);
    }

    /// @inheritdoc IQRMSOracle
    function isAlgorithmRequired(Algorithm algorithm) external view returns (bool) {
        (AlgorithmStatus status,) = algorithmStatus(algorithm);
        return status == AlgorithmStatus.REQUIRED;
    }

    /// @inheritdoc IQRMSOracle
    function signaturePolicy() external view returns (SignaturePolicy memory policy) {
        // Raw word read: this view is on {SequencerAttestation-commitBatch}'s path.
        uint256 core;
        assembly ("memory-safe") {
            core := sload(_core.slot)
        }
        policy.level = RiskLevel((core >> CORE_LEVEL) & 0xff);
        uint256 ecdsa = core >> CORE_ECDSA;
        uint256 mldsa = core >> CORE_MLDSA;
        uint256 slhdsa = core >> CORE_SLHDSA;
        policy.ecdsaAllowed = _allowedRaw(ecdsa);
        policy.mldsaAllowed = _allowedRaw(mldsa);
        policy.mldsaRequired = mldsa & 0xff == uint256(AlgorithmStatus.REQUIRED);
        policy.slhdsaAllowed = _allowedRaw(slhdsa);
        policy.slhdsaRequired = slhdsa & 0xff == uint256(AlgorithmStatus.REQUIRED);
    }

    /// @inheritdoc IQRMSOracle
    function reporters() external view returns (address[] memory list) {
        list = new address[](_reporterCount);
        uint256 n;
        for (uint256 i = 0; i < MAX_REPORTERS; ++i) {
            address r = _reporterAt[i];
            if (r != address(0)) list[n++] = r;
        }
    }

    /// @inheritdoc IQRMSOracle
    function isReporter(address account) external view returns (bool) {
        return _positionOf[account] != 0;
    }

    /// @inheritdoc IQRMSOracle
    function latestReport(address reporter) external view returns (Report memory report) {
        uint256 position = _positionOf[reporter];
        if (position == 0) return report;
        --position;
        uint256 l = (_lanes[position / LANES_PER_SLOT] >> ((position % LANES_PER_SLOT) * LANE_BITS)) & LANE_MASK;
        // forge-lint: disable-next-item(unsafe-typecast) unpacking the lane's fields
        (report.score, report.round, report.reportedAt) = (uint16(l), uint32(l >> 16), uint32(l >> 48));
    }

    /// @inheritdoc IQRMSOracle
    function quorum() external view returns (uint8) {
        return _core.quorum;
    }

    /// @inheritdoc IQRMSOracle
    function maxReportAge() external view returns (uint32) {
        return _core.maxReportAge;
    }

    // ---------------------------------------------------------------------------------------
    // Governance
    // ---------------------------------------------------------------------------------------

    /// @inheritdoc IQRMSOracle
    function addReporter(address reporter) external onlyGovernance {
        _insertReporter(reporter);
    }

    /// @inheritdoc IQRMSOracle
    function removeReporter(address reporter) external onlyGovernance {
        uint256 position = _positionOf[reporter];
        if (position == 0) revert QRMSOracle_NotReporter(reporter);
        uint8 remaining = _reporterCount - 1;
        if (_core.quorum > remaining) revert QRMSOracle_InvalidQuorum(_core.quorum, remaining);
        --position;
        uint256 slotIndex = position / LANES_PER_SLOT;
        _lanes[slotIndex] &= ~(LANE_MASK << ((position % LANES_PER_SLOT) * LANE_BITS));
        delete _reporterAt[position];
        delete _positionOf[reporter];
        _reporterCount = remaining;
        emit ReporterRemoved(reporter);
    }

    /// @inheritdoc IQRMSOracle
    function setQuorum(uint8 newQuorum) external onlyGovernance {
        uint8 count = _reporterCount;
        if (newQuorum == 0 || newQuorum > count) revert QRMSOracle_InvalidQuorum(newQuorum, count);
        _core.quorum = newQuorum;
        emit QuorumUpdated(newQuorum);
    }

    /// @inheritdoc IQRMSOracle
    function setMaxReportAge(uint32 newMaxReportAge) external onlyGovernance {
        if (newMaxReportAge == 0) revert QRMSOracle_InvalidMaxReportAge(newMaxReportAge);
        _core.maxReportAge = newMaxReportAge;
        emit MaxReportAgeUpdated(newMaxReportAge);
    }

    /// @inheritdoc IQRMSOracle
    function setThresholds(uint16 scheduledThreshold, uint16 emergencyThreshold) external onlyGovernance {
        _checkThresholds(scheduledThreshold, emergencyThreshold);
        Core storage st = _core;
        st.scheduledThreshold = scheduledThreshold;
        st.emergencyThreshold = emergencyThreshold;
        emit ThresholdsUpdated(scheduledThreshold, emergencyThreshold);
        RiskLevel previousLevel = st.level;
        RiskLevel newLevel = _levelFor(st.score, scheduledThreshold, emergencyThreshold);
        if (newLevel != previousLevel) {
            st.level = newLevel;
            emit RiskLevelChanged(previousLevel, newLevel, st.score);
        }
    }

    /// @inheritdoc IQRMSOracle
    function setAlgorithmStatus(Algorithm algorithm, AlgorithmStatus status, uint32 deprecatedFrom)
        external
        onlyGovernance
    {
        if ((status == AlgorithmStatus.DEPRECATED) != (deprecatedFrom != 0)) {
            revert QRMSOracle_InvalidDeprecationTime(status, deprecatedFrom);
        }
        Core storage st = _core;
        if (algorithm == Algorithm.ECDSA_SECP256K1) {
            st.ecdsaStatus = status;
            st.ecdsaDeprecatedFrom = deprecatedFrom;
        } else if (algorithm == Algorithm.ML_DSA_87) {
            st.mldsaStatus = status;
            st.mldsaDeprecatedFrom = deprecatedFrom;
        } else {
            st.slhdsaStatus = status;
            st.slhdsaDeprecatedFrom = deprecatedFrom;
        }
        emit AlgorithmStatusUpdated(algorithm, status, deprecatedFrom);
    }

    // ---------------------------------------------------------------------------------------
    // Internals
    // ---------------------------------------------------------------------------------------

    function _insertReporter(address reporter) private {
        if (reporter == address(0)) revert QRMSOracle_ZeroAddress();
        if (_positionOf[reporter] != 0) revert QRMSOracle_ReporterExists(reporter);
        if (_reporterCount >= MAX_REPORTERS) revert QRMSOracle_TooManyReporters();
        uint256 position;
        while (_reporterAt[position] != address(0)) {
            ++position;
        }
        _reporterAt[position] = reporter;
        _positionOf[reporter] = position + 1;
        _reporterCount += 1;
        // forge-lint: disable-next-line(unsafe-typecast) position < MAX_REPORTERS
        if (position + 1 > _core.positionsUsed) _core.positionsUsed = uint8(position + 1);
        emit ReporterAdded(reporter);
    }

    function _checkThresholds(uint16 scheduledThreshold, uint16 emergencyThreshold) private pure {
        if (scheduledThreshold >= emergencyThreshold || emergencyThreshold > MAX_SCORE) {
            revert QRMSOracle_InvalidThresholds(scheduledThreshold, emergencyThreshold);
        }
    }

    function _levelFor(uint256 score, uint256 scheduledThreshold, uint256 emergencyThreshold)
        private
        pure
        returns (RiskLevel)
    {
        if (score >= emergencyThreshold) return RiskLevel.EMERGENCY;
        if (score >= scheduledThreshold) return RiskLevel.SCHEDULED;
        return RiskLevel.NORMAL;
    }

    function _algorithmStatus(Core memory st, Algorithm algorithm)
        private
        pure
        returns (AlgorithmStatus status, uint32 deprecatedFrom)
    {
        if (algorithm == Algorithm.ECDSA_SECP256K1) return (st.ecdsaStatus, st.ecdsaDeprecatedFrom);
        if (algorithm == Algorithm.ML_DSA_87) return (st.mldsaStatus, st.mldsaDeprecatedFrom);
        return (st.slhdsaStatus, st.slhdsaDeprecatedFrom);
    }

    function _allowed(AlgorithmStatus status, uint32 deprecatedFrom) private view returns (bool) {
        return status != AlgorithmStatus.DEPRECATED || block.timestamp < deprecatedFrom;
    }

    /// @dev `statusAndTime`: status in the low 8 bits, deprecatedFrom in the next 32.
    function _allowedRaw(uint256 statusAndTime) private view returns (bool) {
        return statusAndTime & 0xff != uint256(AlgorithmStatus.DEPRECATED)
            || block.timestamp < (statusAndTime >> 8) & 0xffffffff;
    }

    function _revertUnauthorized(address caller) internal pure override {
        revert QRMSOracle_Unauthorized(caller);
    }

    function _revertZeroAddress() internal pure override {
        revert QRMSOracle_ZeroAddress();
    }
}
