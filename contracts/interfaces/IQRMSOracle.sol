// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {ISemver} from "./ISemver.sol";

/// @title IQRMSOracle
/// @notice Quantum Risk Management System oracle: a quantum-risk score in basis points
///         (0 ..= 10_000) aggregated from a bounded set of authorised reporters, the risk level it
///         implies, and the governance-set status of each signature algorithm.
///
///         Aggregation rule: every reporter keeps one latest report `(score, round, reportedAt)`.
///         A report must carry a round strictly greater than the reporter's previous round (replay
///         and reordering protection). A report is fresh while
///         `block.timestamp - reportedAt <= maxReportAge`; older ones stop counting. With at least
///         `quorum` fresh reports the score is their lower median (the middle value, or the lower
///         of the two middle values for an even count); with fewer it is 0 (no current
///         assessment: the level falls back to NORMAL until a quorum reports again). The score is
///         recomputed at every read ({riskScore}, {riskLevel}, {riskState}, {signaturePolicy}),
///         so it falls back as soon as reports expire, with no transaction; {refresh} (anyone)
///         records the recomputed value and emits the events.
///
///         Manipulation bounds: with `n` fresh reports of which `f` are dishonest, the score is
///         never above the highest honest report when `f <= n / 2` (so one dishonest reporter out
///         of 2 or more cannot raise the level: honest 8000 + attacker 10000 gives 8000), and never
///         below the lowest honest report when `f < n / 2`. The quorum is at least 2 whenever
///         there are two or more reporters (enforced), so no single report decides the score.
///
///         Revocation: {attestation} is the {ISequencerAttestation} registry; a reporter it lists
///         as a revoked sequencer is removed by {removeRevokedReporter} (the registry calls it on
///         every revocation and rotation; anyone may call it for earlier ones).
///
///         All timestamps are 32-bit unix seconds (valid until 2106).
///
///         Level: `EMERGENCY` if `score >= emergencyThreshold`, else `SCHEDULED` if
///         `score >= scheduledThreshold`, else `NORMAL`. Thresholds satisfy
///         `scheduled < emergency <= 10_000`.
///
///         Emergency latch: once a transaction records level `EMERGENCY` the level stays
///         `EMERGENCY`, whatever later reports say and however long they go stale, until
///         governance calls {releaseEmergency}. Reporters authenticate by ECDSA (`msg.sender`), and
///         the adversary EMERGENCY exists for can forge ECDSA: reporters alone can raise the level
///         but never lower it from EMERGENCY.
interface IQRMSOracle is ISemver {
    /// @notice Risk level derived from the score and the thresholds.
    enum RiskLevel {
        NORMAL,
        SCHEDULED,
        EMERGENCY
    }

    /// @notice Signature algorithms whose status the oracle tracks.
    enum Algorithm {
        ECDSA_SECP256K1,
        ML_DSA_87,
        SLH_DSA_256S
    }

    /// @notice Governance-set status of an algorithm. `DEPRECATED` takes effect at its
    ///         `deprecatedFrom` timestamp (before it the algorithm is still allowed).
    enum AlgorithmStatus {
        ALLOWED,
        DEPRECATED,
        REQUIRED
    }

    /// @notice Everything a signature consumer needs, read from a single storage slot.
    struct SignaturePolicy {
        RiskLevel level;
        bool ecdsaAllowed;
        bool mldsaAllowed;
        bool mldsaRequired;
        bool slhdsaAllowed;
        bool slhdsaRequired;
    }

    /// @notice A reporter's latest report.
    struct Report {
        uint16 score;
        uint32 round;
        uint32 reportedAt;
    }

    /// @notice Emitted for every accepted report.
    event ReportSubmitted(address indexed reporter, uint32 indexed round, uint16 score);
    /// @notice Emitted whenever a quorum of fresh reports recomputed the score.
    event RiskScoreUpdated(uint16 previousScore, uint16 newScore, uint8 freshReports);
    /// @notice Emitted whenever the level changes (score update or threshold change).
    event RiskLevelChanged(RiskLevel indexed previousLevel, RiskLevel indexed newLevel, uint16 score);
    /// @notice Emitted when governance changes the thresholds.
    event ThresholdsUpdated(uint16 scheduledThreshold, uint16 emergencyThreshold);
    /// @notice Emitted when governance adds a reporter.
    event ReporterAdded(address indexed reporter);
    /// @notice Emitted when a reporter is removed (its latest report is discarded).
    event ReporterRemoved(address indexed reporter);
    /// @notice Emitted when a reporter is removed because the attestation registry revoked it.
    event RevokedReporterRemoved(address indexed reporter, address indexed caller);
    /// @notice Emitted when governance links the oracle to a sequencer registry (zero: none).
    event AttestationUpdated(address indexed attestation);
    /// @notice Emitted when the quorum changes (governance, or a reporter count change forcing it).
    event QuorumUpdated(uint8 quorum);
    /// @notice Emitted when governance changes the maximum report age.
    event MaxReportAgeUpdated(uint32 maxReportAge);
    /// @notice Emitted when governance releases the emergency latch; `level` is the level the
    ///         fresh reports give right after (EMERGENCY again if they still say so).
    event EmergencyReleased(address indexed by, RiskLevel level, uint16 score);
    /// @notice Emitted when governance changes an algorithm's status.
    event AlgorithmStatusUpdated(Algorithm indexed algorithm, AlgorithmStatus status, uint32 deprecatedFrom);

    /// @notice The caller is neither governance (governance functions) nor the pending governance.
    error QRMSOracle_Unauthorized(address caller);
    /// @notice A zero address was given where an account is required.
    error QRMSOracle_ZeroAddress();
    /// @notice The caller of {submitReport} is not an authorised reporter.
    error QRMSOracle_NotReporter(address caller);
    /// @notice The reported score exceeds 10_000.
    error QRMSOracle_ScoreOutOfRange(uint256 score);
    /// @notice The report's round is not greater than the reporter's previous round.
    error QRMSOracle_StaleRound(uint32 round, uint32 lastRound);
    /// @notice Thresholds violate `scheduled < emergency <= 10_000`.
    error QRMSOracle_InvalidThresholds(uint16 scheduledThreshold, uint16 emergencyThreshold);
    /// @notice Quorum violates `1 <= quorum <= reporterCount`, or is 1 with two or more reporters.
    error QRMSOracle_InvalidQuorum(uint256 quorum, uint256 reporterCount);
    /// @notice The account is already a reporter.
    error QRMSOracle_ReporterExists(address reporter);
    /// @notice The reporter set is full (`MAX_REPORTERS`).
    error QRMSOracle_TooManyReporters();
    /// @notice The maximum report age is zero.
    error QRMSOracle_InvalidMaxReportAge(uint32 maxReportAge);
    /// @notice `deprecatedFrom` must be non-zero for `DEPRECATED` and zero otherwise.
    error QRMSOracle_InvalidDeprecationTime(AlgorithmStatus status, uint32 deprecatedFrom);
    /// @notice {removeRevokedReporter} needs a linked attestation registry.
    error QRMSOracle_NoAttestation();
    /// @notice The attestation registry does not list the account as a revoked sequencer.
    error QRMSOracle_NotRevoked(address account);
    /// @notice {releaseEmergency} was called while the emergency latch is not set.
    error QRMSOracle_NotLatched();

    /// @notice Submits the caller's risk report for `round` (reporters only).
    /// @dev Replay protection: `round` must exceed the caller's previous round. Recomputes and
    ///      records the score and the level (see the contract description). Rounds and timestamps
    ///      are 32-bit.
    /// @param round The reporter's monotonic round number (e.g. an epoch or L1 block number).
    /// @param score The reporter's risk score in basis points, at most 10_000.
    function submitReport(uint32 round, uint16 score) external;

    /// @notice Recomputes the score from the fresh reports and records it, emitting
    ///         {RiskScoreUpdated} / {RiskLevelChanged} on a change (anyone; e.g. after reports
    ///         expired). Views never need it: they always recompute.
    function refresh() external;

    /// @notice The aggregated risk score (0 ..= 10_000) of the reports fresh now.
    /// @return The current score.
    function riskScore() external view returns (uint16);

    /// @notice The level the current score implies under the current thresholds, or EMERGENCY
    ///         while the emergency latch is set.
    /// @return The current risk level.
    function riskLevel() external view returns (RiskLevel);

    /// @notice Score and level of the reports fresh now, and since when they hold.
    /// @return score The current score.
    /// @return level The current level (EMERGENCY while latched).
    /// @return updatedAt When the score was last recorded (deployment time initially), or
    ///         `block.timestamp` when expired reports changed it since.
    function riskState() external view returns (uint16 score, RiskLevel level, uint32 updatedAt);

    /// @notice How many reports are fresh now.
    /// @return The count.
    function freshReports() external view returns (uint8);

    /// @notice The level a score would have under the current thresholds.
    /// @param score A score (values above 10_000 are treated as EMERGENCY).
    /// @return The corresponding level.
    function levelForScore(uint256 score) external view returns (RiskLevel);

    /// @notice The current thresholds.
    /// @return scheduledThreshold Lowest score at level SCHEDULED.
    /// @return emergencyThreshold Lowest score at level EMERGENCY.
    function thresholds() external view returns (uint16 scheduledThreshold, uint16 emergencyThreshold);

    /// @notice The governance-set status of `algorithm`.
    /// @param algorithm The algorithm.
    /// @return status Its status.
    /// @return deprecatedFrom For `DEPRECATED`, the timestamp from which it is no longer allowed; else 0.
    function algorithmStatus(Algorithm algorithm) external view returns (AlgorithmStatus status, uint32 deprecatedFrom);

    /// @notice Whether `algorithm` may be used now: not `DEPRECATED`, or deprecated with
    ///         `block.timestamp < deprecatedFrom`.
    /// @param algorithm The algorithm.
    /// @return True if allowed.
    function isAlgorithmAllowed(Algorithm algorithm) external view returns (bool);

    /// @notice Whether `algorithm` is `REQUIRED`.
    /// @param algorithm The algorithm.
    /// @return True if required.
    function isAlgorithmRequired(Algorithm algorithm) external view returns (bool);

    /// @notice Level (of the reports fresh now) plus allowed/required flags of all algorithms, as
    ///         of `block.timestamp`.
    /// @return policy The policy.
    function signaturePolicy() external view returns (SignaturePolicy memory policy);

    /// @notice The authorised reporters (in slot order).
    /// @return The reporter addresses.
    function reporters() external view returns (address[] memory);

    /// @notice Whether `account` is an authorised reporter.
    /// @param account The account.
    /// @return True if it is a reporter.
    function isReporter(address account) external view returns (bool);

    /// @notice `reporter`'s latest report (all zero if none, or if not a reporter).
    /// @param reporter The reporter.
    /// @return The report.
    function latestReport(address reporter) external view returns (Report memory);

    /// @notice Number of fresh reports needed to update the score.
    /// @return The quorum.
    function quorum() external view returns (uint8);

    /// @notice Reports older than this many seconds are ignored.
    /// @return The maximum report age in seconds.
    function maxReportAge() external view returns (uint32);

    /// @notice The sequencer registry whose revoked sequencers stop being reporters (zero: none).
    /// @return The {ISequencerAttestation} address.
    function attestation() external view returns (address);

    /// @notice Adds a reporter (governance only; at most `MAX_REPORTERS`). A quorum of 1 becomes
    ///         2 when this makes two reporters.
    /// @param reporter The new reporter.
    function addReporter(address reporter) external;

    /// @notice Removes a reporter and discards its report (governance only). A quorum above the
    ///         remaining count is lowered to it (never below 1).
    /// @param reporter The reporter to remove.
    function removeReporter(address reporter) external;

    /// @notice Removes `reporter` if it is one, when {attestation} lists it as a registered and
    ///         revoked sequencer (anyone may call; {ISequencerAttestation} calls it when it revokes
    ///         or rotates a sequencer). The quorum is adjusted as in {removeReporter}.
    /// @param reporter The revoked sequencer.
    /// @return removed False if it was not a reporter.
    function removeRevokedReporter(address reporter) external returns (bool removed);

    /// @notice Links the oracle to a sequencer registry (governance only; zero unlinks).
    /// @param newAttestation The {ISequencerAttestation} address.
    function setAttestation(address newAttestation) external;

    /// @notice Sets the quorum, `1 <= quorum <= reporterCount` and at least 2 with two or more
    ///         reporters (governance only).
    /// @param newQuorum The quorum.
    function setQuorum(uint8 newQuorum) external;

    /// @notice Sets the maximum report age in seconds, non-zero (governance only).
    /// @param newMaxReportAge The maximum age.
    function setMaxReportAge(uint32 newMaxReportAge) external;

    /// @notice Sets the thresholds, `scheduled < emergency <= 10_000` (governance only). Recomputes
    ///         the level and emits {RiskLevelChanged} if it changes.
    /// @param scheduledThreshold Lowest score at level SCHEDULED.
    /// @param emergencyThreshold Lowest score at level EMERGENCY.
    function setThresholds(uint16 scheduledThreshold, uint16 emergencyThreshold) external;

    /// @notice Whether the emergency latch is set (the level is EMERGENCY until governance
    ///         releases it, see the contract description).
    /// @return True while latched.
    function emergencyLatched() external view returns (bool);

    /// @notice Releases the emergency latch (governance only; reverts with
    ///         {QRMSOracle_NotLatched} when it is not set), then records the level of the fresh
    ///         reports, which latches again at once if they still give EMERGENCY.
    function releaseEmergency() external;

    /// @notice Sets an algorithm's status (governance only).
    /// @param algorithm The algorithm.
    /// @param status The status.
    /// @param deprecatedFrom Non-zero timestamp for `DEPRECATED` (may be in the past), zero otherwise.
    function setAlgorithmStatus(Algorithm algorithm, AlgorithmStatus status, uint32 deprecatedFrom) external;
}
