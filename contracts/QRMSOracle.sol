// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {IQRMSOracle} from "./interfaces/IQRMSOracle.sol";
import {ISemver} from "./interfaces/ISemver.sol";
import {Governed} from "./lib/Governed.sol";

/// @title QRMSOracle
/// @notice Quantum-risk oracle; see {IQRMSOracle} for the aggregation rule and the level rule.
/// @dev Storage is packed for a cheap {submitReport} (well under 50k gas):
///      - `_state`: score, level, last update and the status of all three algorithms in one slot,
///        so {signaturePolicy} costs a single SLOAD;
///      - `_config`: thresholds, quorum, reporter count, lane high-water mark and max report age;
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

    struct State {
        uint16 score;
        RiskLevel level;
        uint40 updatedAt;
        AlgorithmStatus ecdsaStatus;
        uint40 ecdsaDeprecatedFrom;
        AlgorithmStatus mldsaStatus;
        uint40 mldsaDeprecatedFrom;
        AlgorithmStatus slhdsaStatus;
        uint40 slhdsaDeprecatedFrom;
    }

    struct Config {
        uint16 scheduledThreshold;
        uint16 emergencyThreshold;
        uint8 quorum;
        uint8 reporterCount;
        // Number of reporter positions ever used (lane slots above it are never read).
        uint8 positionsUsed;
        uint32 maxReportAge;
    }

    State private _state;
    Config private _config;
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
        Config memory cfg = Config({
            scheduledThreshold: scheduledThreshold,
            emergencyThreshold: emergencyThreshold,
            quorum: 0,
            reporterCount: 0,
            positionsUsed: 0,
            maxReportAge: initialMaxReportAge
        });
        if (initialReporters.length > MAX_REPORTERS) revert QRMSOracle_TooManyReporters();
        for (uint256 i = 0; i < initialReporters.length; ++i) {
            _insertReporter(cfg, initialReporters[i]);
        }
        if (initialQuorum == 0 || initialQuorum > cfg.reporterCount) {
            revert QRMSOracle_InvalidQuorum(initialQuorum, cfg.reporterCount);
        }
        cfg.quorum = initialQuorum;
        _config = cfg;
        emit ThresholdsUpdated(scheduledThreshold, emergencyThreshold);
        emit QuorumUpdated(initialQuorum);
        emit MaxReportAgeUpdated(initialMaxReportAge);
        // Score 0 / NORMAL at deployment; a non-zero `updatedAt` also keeps the slot non-zero.
        _state.updatedAt = uint40(block.timestamp);
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

        Config memory cfg = _config;
        // Fresh scores, kept sorted (insertion sort over at most MAX_REPORTERS values).
        uint256[MAX_REPORTERS] memory sorted;
        uint256 n;
        uint256 slotsUsed = (uint256(cfg.positionsUsed) + LANES_PER_SLOT - 1) / LANES_PER_SLOT;
        for (uint256 s = 0; s < slotsUsed; ++s) {
            uint256 w = s == slotIndex ? word : _lanes[s];
            for (uint256 j = 0; j < LANES_PER_SLOT; ++j) {
                uint256 l = (w >> (j * LANE_BITS)) & LANE_MASK;
                uint256 reportedAt = l >> 48;
                if (reportedAt == 0 || uint32(block.timestamp) - reportedAt > cfg.maxReportAge) continue;
                uint256 v = l & 0xffff;
                uint256 k = n;
                while (k > 0 && sorted[k - 1] > v) {
                    sorted[k] = sorted[k - 1];
                    --k;
                }
                sorted[k] = v;
                ++n;
            }
        }
        if (n < cfg.quorum) return;

        // Every value is a 16-bit score <= MAX_SCORE, and so is the mean of two of them; n <= 9.
        // forge-lint: disable-next-line(unsafe-typecast)
        uint16 median = uint16(n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2);
        // forge-lint: disable-next-line(unsafe-typecast)
        uint8 freshReports = uint8(n);
        State memory st = _state;
        uint16 previousScore = st.score;
        RiskLevel previousLevel = st.level;
        RiskLevel newLevel = _levelFor(median, cfg.scheduledThreshold, cfg.emergencyThreshold);
        st.score = median;
        st.level = newLevel;
        st.updatedAt = uint40(block.timestamp);
        _state = st;
        emit RiskScoreUpdated(previousScore, median, freshReports);
        if (newLevel != previousLevel) emit RiskLevelChanged(previousLevel, newLevel, median);
    }

    // ---------------------------------------------------------------------------------------
    // Views
    // ---------------------------------------------------------------------------------------

    /// @inheritdoc IQRMSOracle
    function riskScore() external view returns (uint16) {
        return _state.score;
    }

    /// @inheritdoc IQRMSOracle
    function riskLevel() external view returns (RiskLevel) {
        return _state.level;
    }

    /// @inheritdoc IQRMSOracle
    function riskState() external view returns (uint16 score, RiskLevel level, uint40 updatedAt) {
        State memory st = _state;
        return (st.score, st.level, st.updatedAt);
    }

    /// @inheritdoc IQRMSOracle
    function levelForScore(uint256 score) external view returns (RiskLevel) {
        Config memory cfg = _config;
        return _levelFor(score, cfg.scheduledThreshold, cfg.emergencyThreshold);
    }

    /// @inheritdoc IQRMSOracle
    function thresholds() external view returns (uint16 scheduledThreshold, uint16 emergencyThreshold) {
        Config memory cfg = _config;
        return (cfg.scheduledThreshold, cfg.emergencyThreshold);
    }

    /// @inheritdoc IQRMSOracle
    function algorithmStatus(Algorithm algorithm) public view returns (AlgorithmStatus status, uint40 deprecatedFrom) {
        return _algorithmStatus(_state, algorithm);
    }

    /// @inheritdoc IQRMSOracle
    function isAlgorithmAllowed(Algorithm algorithm) external view returns (bool) {
        (AlgorithmStatus status, uint40 deprecatedFrom) = algorithmStatus(algorithm);
        return _allowed(status, deprecatedFrom);
    }

    /// @inheritdoc IQRMSOracle
    function isAlgorithmRequired(Algorithm algorithm) external view returns (bool) {
        (AlgorithmStatus status,) = algorithmStatus(algorithm);
        return status == AlgorithmStatus.REQUIRED;
    }

    /// @inheritdoc IQRMSOracle
    function signaturePolicy() external view returns (SignaturePolicy memory policy) {
        State memory st = _state;
        policy.level = st.level;
        policy.ecdsaAllowed = _allowed(st.ecdsaStatus, st.ecdsaDeprecatedFrom);
        policy.mldsaAllowed = _allowed(st.mldsaStatus, st.mldsaDeprecatedFrom);
        policy.mldsaRequired = st.mldsaStatus == AlgorithmStatus.REQUIRED;
        policy.slhdsaAllowed = _allowed(st.slhdsaStatus, st.slhdsaDeprecatedFrom);
        policy.slhdsaRequired = st.slhdsaStatus == AlgorithmStatus.REQUIRED;
    }

    /// @inheritdoc IQRMSOracle
    function reporters() external view returns (address[] memory list) {
        list = new address[](_config.reporterCount);
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
        return _config.quorum;
    }

    /// @inheritdoc IQRMSOracle
    function maxReportAge() external view returns (uint32) {
        return _config.maxReportAge;
    }

    // ---------------------------------------------------------------------------------------
    // Governance
    // ---------------------------------------------------------------------------------------

    /// @inheritdoc IQRMSOracle
    function addReporter(address reporter) external onlyGovernance {
        Config memory cfg = _config;
        _insertReporter(cfg, reporter);
        _config = cfg;
    }

    /// @inheritdoc IQRMSOracle
    function removeReporter(address reporter) external onlyGovernance {
        uint256 position = _positionOf[reporter];
        if (position == 0) revert QRMSOracle_NotReporter(reporter);
        Config memory cfg = _config;
        if (cfg.quorum > cfg.reporterCount - 1) revert QRMSOracle_InvalidQuorum(cfg.quorum, cfg.reporterCount - 1);
        --position;
        uint256 slotIndex = position / LANES_PER_SLOT;
        _lanes[slotIndex] &= ~(LANE_MASK << ((position % LANES_PER_SLOT) * LANE_BITS));
        delete _reporterAt[position];
        delete _positionOf[reporter];
        cfg.reporterCount -= 1;
        _config = cfg;
        emit ReporterRemoved(reporter);
    }

    /// @inheritdoc IQRMSOracle
    function setQuorum(uint8 newQuorum) external onlyGovernance {
        uint8 count = _config.reporterCount;
        if (newQuorum == 0 || newQuorum > count) revert QRMSOracle_InvalidQuorum(newQuorum, count);
        _config.quorum = newQuorum;
        emit QuorumUpdated(newQuorum);
    }

    /// @inheritdoc IQRMSOracle
    function setMaxReportAge(uint32 newMaxReportAge) external onlyGovernance {
        if (newMaxReportAge == 0) revert QRMSOracle_InvalidMaxReportAge(newMaxReportAge);
        _config.maxReportAge = newMaxReportAge;
        emit MaxReportAgeUpdated(newMaxReportAge);
    }

    /// @inheritdoc IQRMSOracle
    function setThresholds(uint16 scheduledThreshold, uint16 emergencyThreshold) external onlyGovernance {
        _checkThresholds(scheduledThreshold, emergencyThreshold);
        _config.scheduledThreshold = scheduledThreshold;
        _config.emergencyThreshold = emergencyThreshold;
        emit ThresholdsUpdated(scheduledThreshold, emergencyThreshold);
        State storage st = _state;
        RiskLevel previousLevel = st.level;
        RiskLevel newLevel = _levelFor(st.score, scheduledThreshold, emergencyThreshold);
        if (newLevel != previousLevel) {
            st.level = newLevel;
            emit RiskLevelChanged(previousLevel, newLevel, st.score);
        }
    }

    /// @inheritdoc IQRMSOracle
    function setAlgorithmStatus(Algorithm algorithm, AlgorithmStatus status, uint40 deprecatedFrom)
        external
        onlyGovernance
    {
        if ((status == AlgorithmStatus.DEPRECATED) != (deprecatedFrom != 0)) {
            revert QRMSOracle_InvalidDeprecationTime(status, deprecatedFrom);
        }
        State storage st = _state;
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

    function _insertReporter(Config memory cfg, address reporter) private {
        if (reporter == address(0)) revert QRMSOracle_ZeroAddress();
        if (_positionOf[reporter] != 0) revert QRMSOracle_ReporterExists(reporter);
        if (cfg.reporterCount >= MAX_REPORTERS) revert QRMSOracle_TooManyReporters();
        uint256 position;
        while (_reporterAt[position] != address(0)) {
            ++position;
        }
        _reporterAt[position] = reporter;
        _positionOf[reporter] = position + 1;
        cfg.reporterCount += 1;
        // forge-lint: disable-next-line(unsafe-typecast) position < MAX_REPORTERS
        if (position + 1 > cfg.positionsUsed) cfg.positionsUsed = uint8(position + 1);
        emit ReporterAdded(reporter);
    }

    function _checkThresholds(uint16 scheduledThreshold, uint16 emergencyThreshold) private pure {
        if (scheduledThreshold >= emergencyThreshold || emergencyThreshold > MAX_SCORE) {
            revert QRMSOracle_InvalidThresholds(scheduledThreshold, emergencyThreshold);
        }
    }

    function _levelFor(uint256 score, uint16 scheduledThreshold, uint16 emergencyThreshold)
        private
        pure
        returns (RiskLevel)
    {
        if (score >= emergencyThreshold) return RiskLevel.EMERGENCY;
        if (score >= scheduledThreshold) return RiskLevel.SCHEDULED;
        return RiskLevel.NORMAL;
    }

    function _algorithmStatus(State memory st, Algorithm algorithm)
        private
        pure
        returns (AlgorithmStatus status, uint40 deprecatedFrom)
    {
        if (algorithm == Algorithm.ECDSA_SECP256K1) return (st.ecdsaStatus, st.ecdsaDeprecatedFrom);
        if (algorithm == Algorithm.ML_DSA_87) return (st.mldsaStatus, st.mldsaDeprecatedFrom);
        return (st.slhdsaStatus, st.slhdsaDeprecatedFrom);
    }

    function _allowed(AlgorithmStatus status, uint40 deprecatedFrom) private view returns (bool) {
        return status != AlgorithmStatus.DEPRECATED || block.timestamp < deprecatedFrom;
    }

    function _revertUnauthorized(address caller) internal pure override {
        revert QRMSOracle_Unauthorized(caller);
    }

    function _revertZeroAddress() internal pure override {
        revert QRMSOracle_ZeroAddress();
    }
}
