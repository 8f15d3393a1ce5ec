// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {IQRMSOracle} from "./interfaces/IQRMSOracle.sol";
import {ISemver} from "./interfaces/ISemver.sol";
import {ISequencerAttestation} from "./interfaces/ISequencerAttestation.sol";
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
///      The score and level in `_core` are the aggregate as of the last transaction that
///      recomputed it (a report, {refresh}, a reporter or parameter change); they are what the
///      events report. Every view recomputes from the reports fresh at the time of the call, so
///      reports that expire in between stop counting at once, without a transaction.
/// @custom:semver 2.1.0
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
        // The recorded RiskLevel in the low bits, `LATCHED` (bit 7) while the emergency latch is
        // set. A plain integer: an enum field would make every `Core memory` read of a latched
        // word panic.
        uint8 levelAndLatch;
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
    /// @dev The emergency latch bit of the level byte.
    uint256 private constant LATCHED = 0x80;
    uint256 private constant LEVEL_MASK = 0x7f;

    /// @dev Marks "no lane slot given" for {_aggregate}.
    uint256 private constant NO_SLOT = type(uint256).max;

    /// @dev What the fresh reports say now (see {_aggregate}).
    struct Aggregate {
        uint256 score;
        // The effective level: EMERGENCY while latched.
        uint256 level;
        uint256 fresh;
        bool quorumMet;
        // Whether the latch is (or becomes) set.
        bool latched;
    }

    Core private _core;
    uint8 private _reporterCount;
    address private _attestation;
    uint256[LANE_SLOTS] private _lanes;
    address[MAX_REPORTERS] private _reporterAt;
    /// @dev Reporter position + 1 (0: not a reporter).
    mapping(address => uint256) private _positionOf;

    /// @param initialGovernance Governance account (two-step transferable).
    /// @param initialReporters Authorised reporters (non-zero, distinct, at most `MAX_REPORTERS`).
    /// @param initialQuorum Fresh reports needed for a score, `1 ..= initialReporters.length`, and at
    ///        least 2 when there are two or more reporters.
    /// @param initialMaxReportAge Reports older than this many seconds are ignored (non-zero).
    /// @param scheduledThreshold Lowest score at level SCHEDULED (default policy: 6000).
    /// @param emergencyThreshold Lowest score at level EMERGENCY (default policy: 9000).
    /// @param initialAttestation The {ISequencerAttestation} whose revoked sequencers stop being
    ///        reporters ({removeRevokedReporter}); zero for none. It may be deployed later (at a
    ///        predicted address).
    constructor(
        address initialGovernance,
        address[] memory initialReporters,
        uint8 initialQuorum,
        uint32 initialMaxReportAge,
        uint16 scheduledThreshold,
        uint16 emergencyThreshold,
        address initialAttestation
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
        _checkQuorum(initialQuorum, _reporterCount);
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
        if (initialAttestation != address(0)) {
            _attestation = initialAttestation;
            emit AttestationUpdated(initialAttestation);
        }
    }

    /// @inheritdoc ISemver
    function version() external pure returns (string memory) {
        return "2.1.0";
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
        uint256 core = _coreWord();
        _store(core, _aggregate(core, word, slotIndex), true);
    }

    /// @inheritdoc IQRMSOracle
    function refresh() external {
        _refresh();
    }

    /// @dev Recomputes the aggregate from the stored reports and records it if it changed.
    function _refresh() private {
        uint256 core = _coreWord();
        _store(core, _aggregate(core, 0, NO_SLOT), false);
    }

    /// @dev Records `agg` (see {_aggregate}) in `core` and emits the events when the score or the
    ///      level changed, or when `confirmed` (a new report) and a quorum of fresh reports backs
    ///      the score (then `updatedAt` moves on); otherwise `_core` is not written.
    function _store(uint256 core, Aggregate memory agg, bool confirmed) private {
        uint256 previousScore = core & 0xffff;
        uint256 previousLevelByte = (core >> CORE_LEVEL) & 0xff;
        uint256 previousLevel = previousLevelByte & LEVEL_MASK;
        uint256 levelByte = agg.level | (agg.latched ? LATCHED : 0);
        if (!(confirmed && agg.quorumMet) && agg.score == previousScore && levelByte == previousLevelByte) return;
        core = (core & ~CORE_SCORE_LEVEL_TIME_MASK) | agg.score | (levelByte << CORE_LEVEL)
            | (uint256(uint32(block.timestamp)) << CORE_UPDATED_AT);
        assembly ("memory-safe") {
            sstore(_core.slot, core)
        }
        // forge-lint: disable-next-item(unsafe-typecast) scores <= MAX_SCORE, n <= MAX_REPORTERS
        emit RiskScoreUpdated(uint16(previousScore), uint16(agg.score), uint8(agg.fresh));
        if (agg.level != previousLevel) {
            // forge-lint: disable-next-item(unsafe-typecast)
            emit RiskLevelChanged(RiskLevel(previousLevel), RiskLevel(agg.level), uint16(agg.score));
        }
    }

    /// @dev The aggregation rule (see {IQRMSOracle}): with at least `quorum` fresh reports the
    ///      score is their lower median, otherwise 0. `word` is the current value of lane slot
    ///      `slotIndex` (`NO_SLOT`: read every slot from storage).
    function _aggregate(uint256 core, uint256 word, uint256 slotIndex) private view returns (Aggregate memory agg) {
        (agg.score, agg.fresh, agg.quorumMet) = _freshScore(core, word, slotIndex);
        agg.level = uint256(_effectiveLevel(core, agg.score));
        agg.latched = agg.level == uint256(RiskLevel.EMERGENCY);
    }

    /// @dev The level {_aggregate} gives, without its bookkeeping ({signaturePolicy}'s hot path;
    ///      while latched no report is read).
    function _levelNow(uint256 core) private view returns (RiskLevel) {
        if ((core >> CORE_LEVEL) & LATCHED != 0) return RiskLevel.EMERGENCY;
        (uint256 median, uint256 n) =
            _freshMedian(0, NO_SLOT, (core >> CORE_POSITIONS_USED) & 0xff, (core >> CORE_MAX_REPORT_AGE) & 0xffffffff);
        if (n < (core >> CORE_QUORUM) & 0xff) median = 0;
        return _levelFor(median, (core >> CORE_SCHEDULED) & 0xffff, (core >> CORE_EMERGENCY) & 0xffff);
    }

    /// @dev The score of the fresh reports (0 without a quorum) and their count; `word` and
    ///      `slotIndex` as for {_aggregate}.
    function _freshScore(uint256 core, uint256 word, uint256 slotIndex)
        private
        view
        returns (uint256 score, uint256 fresh, bool quorumMet)
    {
        (score, fresh) = _freshMedian(
            word, slotIndex, (core >> CORE_POSITIONS_USED) & 0xff, (core >> CORE_MAX_REPORT_AGE) & 0xffffffff
        );
        quorumMet = fresh >= (core >> CORE_QUORUM) & 0xff;
        if (!quorumMet) score = 0;
    }

    /// @dev The level rule for `score` under `core`'s thresholds, EMERGENCY while latched: only
    ///      governance clears the latch; reports (ECDSA-authenticated) can set it, never lower it.
    function _effectiveLevel(uint256 core, uint256 score) private pure returns (RiskLevel) {
        if ((core >> CORE_LEVEL) & LATCHED != 0) return RiskLevel.EMERGENCY;
        return _levelFor(score, (core >> CORE_SCHEDULED) & 0xffff, (core >> CORE_EMERGENCY) & 0xffff);
    }

    /// @dev The raw `_core` word.
    function _coreWord() private view returns (uint256 core) {
        assembly ("memory-safe") {
            core := sload(_core.slot)
        }
    }

    /// @dev Lower median and count of the fresh reports. `word` is the already updated lane slot
    ///      `slotIndex`. Insertion sort in scratch memory (at most MAX_REPORTERS values).
    function _freshMedian(uint256 word, uint256 slotIndex, uint256 positionsUsed, uint256 maxAge)
        private
        view
        returns (uint256 median, uint256 n)
    {
        // Scratch space past the free memory pointer, not allocated: nothing allocates while it is
        // in use, and every word is written before it is read.
        uint256 sorted;
        assembly ("memory-safe") {
            sorted := mload(0x40)
        }
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
            // The middle value, or the lower of the two middle values: a single report can never
            // raise the score above the highest of the others.
            assembly ("memory-safe") {
                median := mload(add(sorted, shl(5, shr(1, sub(n, 1)))))
            }
        }
    }

    // ---------------------------------------------------------------------------------------
    // Views
    // ---------------------------------------------------------------------------------------

    /// @inheritdoc IQRMSOracle
    function riskScore() external view returns (uint16 score) {
        (score,,) = riskState();
    }

    /// @inheritdoc IQRMSOracle
    function riskLevel() external view returns (RiskLevel level) {
        (, level,) = riskState();
    }

    /// @inheritdoc IQRMSOracle
    function riskState() public view returns (uint16 score, RiskLevel level, uint32 updatedAt) {
        uint256 core = _coreWord();
        Aggregate memory agg = _aggregate(core, 0, NO_SLOT);
        // forge-lint: disable-next-item(unsafe-typecast) score <= MAX_SCORE, level < 3
        (score, level) = (uint16(agg.score), RiskLevel(agg.level));
        // forge-lint: disable-next-line(unsafe-typecast) the 32-bit updatedAt field
        updatedAt = uint32(core >> CORE_UPDATED_AT);
        // Reports expired since the last recomputation: the score is as of now.
        if (agg.score != core & 0xffff || agg.level != (core >> CORE_LEVEL) & LEVEL_MASK) {
            updatedAt = uint32(block.timestamp);
        }
    }

    /// @inheritdoc IQRMSOracle
    function freshReports() external view returns (uint8) {
        // forge-lint: disable-next-line(unsafe-typecast) at most MAX_REPORTERS
        return uint8(_aggregate(_coreWord(), 0, NO_SLOT).fresh);
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
        // Raw word read: this view is on {SequencerAttestation-commitBatch}'s path. The level is
        // recomputed from the fresh reports (expired reports do not count).
        uint256 core = _coreWord();
        policy.level = _levelNow(core);
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

    /// @inheritdoc IQRMSOracle
    function attestation() external view returns (address) {
        return _attestation;
    }

    /// @inheritdoc IQRMSOracle
    function emergencyLatched() external view returns (bool) {
        return (_coreWord() >> CORE_LEVEL) & LATCHED != 0;
    }

    // ---------------------------------------------------------------------------------------
    // Governance
    // ---------------------------------------------------------------------------------------

    /// @inheritdoc IQRMSOracle
    function addReporter(address reporter) external onlyGovernance {
        _insertReporter(reporter);
        // A second reporter: one report alone no longer decides.
        if (_reporterCount >= 2 && _core.quorum < 2) {
            _core.quorum = 2;
            emit QuorumUpdated(2);
        }
        _refresh();
    }

    /// @inheritdoc IQRMSOracle
    function removeReporter(address reporter) external onlyGovernance {
        if (_positionOf[reporter] == 0) revert QRMSOracle_NotReporter(reporter);
        _removeReporter(reporter);
    }

    /// @inheritdoc IQRMSOracle
    function removeRevokedReporter(address reporter) external returns (bool removed) {
        address registry = _attestation;
        if (registry == address(0)) revert QRMSOracle_NoAttestation();
        ISequencerAttestation.Sequencer memory s = ISequencerAttestation(registry).sequencer(reporter);
        if (s.registeredAt == 0 || !s.revoked) revert QRMSOracle_NotRevoked(reporter);
        if (_positionOf[reporter] == 0) return false;
        _removeReporter(reporter);
        emit RevokedReporterRemoved(reporter, msg.sender);
        return true;
    }

    /// @inheritdoc IQRMSOracle
    function setAttestation(address newAttestation) external onlyGovernance {
        _attestation = newAttestation;
        emit AttestationUpdated(newAttestation);
    }

    /// @inheritdoc IQRMSOracle
    function setQuorum(uint8 newQuorum) external onlyGovernance {
        _checkQuorum(newQuorum, _reporterCount);
        _core.quorum = newQuorum;
        emit QuorumUpdated(newQuorum);
        _refresh();
    }

    /// @inheritdoc IQRMSOracle
    function setMaxReportAge(uint32 newMaxReportAge) external onlyGovernance {
        if (newMaxReportAge == 0) revert QRMSOracle_InvalidMaxReportAge(newMaxReportAge);
        _core.maxReportAge = newMaxReportAge;
        emit MaxReportAgeUpdated(newMaxReportAge);
        _refresh();
    }

    /// @inheritdoc IQRMSOracle
    function setThresholds(uint16 scheduledThreshold, uint16 emergencyThreshold) external onlyGovernance {
        _checkThresholds(scheduledThreshold, emergencyThreshold);
        Core storage st = _core;
        st.scheduledThreshold = scheduledThreshold;
        st.emergencyThreshold = emergencyThreshold;
        emit ThresholdsUpdated(scheduledThreshold, emergencyThreshold);
        _refresh();
    }

    /// @inheritdoc IQRMSOracle
    function releaseEmergency() external onlyGovernance {
        uint256 core = _coreWord();
        if ((core >> CORE_LEVEL) & LATCHED == 0) revert QRMSOracle_NotLatched();
        core &= ~(LATCHED << CORE_LEVEL);
        Aggregate memory agg = _aggregate(core, 0, NO_SLOT);
        _store(core, agg, false);
        // forge-lint: disable-next-item(unsafe-typecast) level < 3, score <= MAX_SCORE
        emit EmergencyReleased(msg.sender, RiskLevel(agg.level), uint16(agg.score));
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

    /// @dev Removes a reporter (it must be one) and its report, lowers the quorum to the remaining
    ///      count if needed (never below 1), and recomputes the aggregate.
    function _removeReporter(address reporter) private {
        uint256 position = _positionOf[reporter] - 1;
        uint8 remaining = _reporterCount - 1;
        uint256 slotIndex = position / LANES_PER_SLOT;
        _lanes[slotIndex] &= ~(LANE_MASK << ((position % LANES_PER_SLOT) * LANE_BITS));
        delete _reporterAt[position];
        delete _positionOf[reporter];
        _reporterCount = remaining;
        emit ReporterRemoved(reporter);
        uint8 q = _core.quorum;
        if (q > remaining && q > 1) {
            q = remaining > 1 ? remaining : 1;
            _core.quorum = q;
            emit QuorumUpdated(q);
        }
        _refresh();
    }

    /// @dev `1 <= quorum <= count`, and `quorum >= 2` once there are two or more reporters.
    function _checkQuorum(uint8 newQuorum, uint8 count) private pure {
        if (newQuorum == 0 || newQuorum > count || (count >= 2 && newQuorum < 2)) {
            revert QRMSOracle_InvalidQuorum(newQuorum, count);
        }
    }

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
