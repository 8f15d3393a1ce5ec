// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {QRMSOracle} from "../../contracts/QRMSOracle.sol";
import {SequencerAttestation} from "../../contracts/SequencerAttestation.sol";
import {IQRMSOracle} from "../../contracts/interfaces/IQRMSOracle.sol";
import {AttestationFixture} from "../lib/AttestationFixture.sol";
import {QuoteBuilder} from "../lib/QuoteBuilder.sol";
import {VM} from "../lib/Vm.sol";

/// @notice Random batch commitments signed by registered, revoked and unknown keys, replays,
///         revocations, workload withdrawals, pauses and risk changes, and re-registrations of the
///         registered sequencers (their original quote replayed, or fresh quotes binding random
///         nonces). Ghost counters record every acceptance that would break a property; the
///         invariants require them to stay zero.
contract AttestationHandler {
    address internal constant GOVERNANCE = address(0x60f);
    address internal constant RELAYER = address(0x7e1a);

    struct Call {
        uint64 batchId;
        uint64 start;
        uint64 end;
        bytes32 commitment;
        bytes signature;
        bytes32 mldsaSigHash;
        bytes32 slhdsaSigHash;
        /// @dev Who sends it: the signer, or a relayer.
        address sender;
    }

    /// @notice What a registered sequencer's quote binds (REPORTDATA v2 inputs).
    struct Registered {
        address account;
        bytes32 mldsaKeyHash;
        bytes32 slhdsaKeyHash;
        bytes32 encryptionKeyHash;
        bytes32 nonce;
    }

    SequencerAttestation public immutable attestation;
    QRMSOracle public immutable oracle;
    bytes32 public immutable workload;
    uint256[3] internal keys;
    address[2] internal reporters;

    Call[] internal accepted;
    mapping(uint64 => bool) public committedIds;
    uint256 public acceptedCount;
    uint256 public acceptedFromInactive;
    uint256 public acceptedTwice;
    uint256 public acceptedReplays;
    uint256 public acceptedEcdsaOnlyInEmergency;
    uint256 public acceptedWhilePaused;
    uint256 public acceptedRelayOutOfOrder;
    uint64 public maxEnd;
    uint32 internal round;
    Registered[] internal registered;
    bytes internal pckHint;
    uint256 public reRegistrationAttempts;
    uint256 public acceptedReRegistrations;

    constructor(
        SequencerAttestation attestation_,
        QRMSOracle oracle_,
        bytes32 workload_,
        uint256[3] memory keys_,
        address[2] memory reporters_
    ) {
        attestation = attestation_;
        oracle = oracle_;
        workload = workload_;
        keys = keys_;
        reporters = reporters_;
    }

    function commit(uint256 keySeed, uint8 idStep, uint8 gap, uint8 len, uint8 pqMask, bytes32 salt) public {
        uint256 key = keys[keySeed % 3];
        (bool hasBatch, uint64 lastId, uint64 lastEnd) = attestation.lastBatch();
        Call memory c;
        // Steps of 0 (invalid after the first batch) are drawn a quarter of the time.
        c.batchId = hasBatch ? lastId + (idStep % 4) : idStep % 4;
        c.start = hasBatch ? lastEnd + (gap % 4) : gap % 4;
        c.end = c.start + (len % 5);
        c.commitment = keccak256(abi.encode(salt, c.batchId));
        c.mldsaSigHash = pqMask & 1 != 0 ? keccak256(abi.encode("mldsa", salt)) : bytes32(0);
        c.slhdsaSigHash = pqMask & 2 != 0 ? keccak256(abi.encode("slhdsa", salt)) : bytes32(0);
        bytes32 digest =
            attestation.batchCommitmentDigest(c.batchId, c.start, c.end, c.commitment, c.mldsaSigHash, c.slhdsaSigHash);
        (uint8 v, bytes32 r, bytes32 s) = VM.sign(key, digest);
        c.signature = abi.encodePacked(r, s, v);
        // A third of the commitments are relayed by someone else.
        c.sender = keySeed % 3 == 0 ? RELAYER : VM.addr(key);
        bool nextInLine = hasBatch && c.batchId == lastId + 1;

        bool active = attestation.isActiveSequencer(VM.addr(key));
        bool emergency = oracle.riskLevel() == IQRMSOracle.RiskLevel.EMERGENCY;
        bool paused = attestation.paused();
        if (_submit(c)) {
            if (!active) ++acceptedFromInactive;
            if (committedIds[c.batchId]) ++acceptedTwice;
            if (emergency && pqMask & 3 == 0) ++acceptedEcdsaOnlyInEmergency;
            if (paused) ++acceptedWhilePaused;
            if (c.sender == RELAYER && !nextInLine) ++acceptedRelayOutOfOrder;
            committedIds[c.batchId] = true;
            if (c.end > maxEnd) maxEnd = c.end;
            accepted.push(c);
            ++acceptedCount;
        }
    }

    /// @dev Called once from `setUp` for each sequencer registered there.
    function addRegistered(Registered calldata r, bytes calldata hint) external {
        registered.push(r);
        pckHint = hint;
    }

    function registeredCount() external view returns (uint256) {
        return registered.length;
    }

    function registeredAt(uint256 i) external view returns (Registered memory) {
        return registered[i];
    }

    /// @dev Re-registers an already registered sequencer with a valid quote binding either its
    ///      original nonce (a replay) or a random one.
    function reRegister(uint256 which, bytes32 nonce, bool replayOriginal) external {
        Registered memory r = registered[which % registered.length];
        bytes32 n = replayOriginal ? r.nonce : nonce;
        bytes memory reportData = abi.encodePacked(
            r.account, keccak256(abi.encodePacked(r.mldsaKeyHash, r.slhdsaKeyHash, r.encryptionKeyHash, n)), bytes12(0)
        );
        bytes memory quote = QuoteBuilder.build(QuoteBuilder.defaults(reportData));
        ++reRegistrationAttempts;
        try attestation.registerSequencer(
            quote, r.account, r.mldsaKeyHash, r.slhdsaKeyHash, r.encryptionKeyHash, n, pckHint
        ) {
            ++acceptedReRegistrations;
        } catch {}
    }

    function replay(uint256 index) external {
        if (accepted.length == 0) return;
        if (_submit(accepted[index % accepted.length])) ++acceptedReplays;
    }

    /// @dev Revokes the second sequencer (the first stays, so commitments keep flowing).
    function revokeSecond() external {
        VM.prank(GOVERNANCE);
        try attestation.revokeSequencer(VM.addr(keys[1])) {} catch {}
    }

    /// @dev Commits while the workload is withdrawn, then allows it again.
    function commitWithWorkloadWithdrawn(uint256 keySeed, uint8 idStep, uint8 gap, uint8 pqMask) external {
        VM.prank(GOVERNANCE);
        attestation.setWorkloadAllowed(workload, false);
        commit(keySeed, idStep, gap, 0, pqMask, bytes32(keySeed));
        VM.prank(GOVERNANCE);
        attestation.setWorkloadAllowed(workload, true);
    }

    /// @dev Commits while paused, then unpauses.
    function commitWhilePaused(uint256 keySeed, uint8 idStep, uint8 gap, uint8 pqMask) external {
        VM.prank(GOVERNANCE);
        attestation.pause();
        commit(keySeed, idStep, gap, 0, pqMask, bytes32(keySeed));
        VM.prank(GOVERNANCE);
        attestation.unpause();
    }

    function setRisk(uint16 score) external {
        ++round;
        for (uint256 i = 0; i < 2; ++i) {
            VM.prank(reporters[i]);
            oracle.submitReport(round, score % 10_001);
        }
    }

    function _submit(Call memory c) internal returns (bool) {
        VM.prank(c.sender);
        try attestation.commitBatch(
            c.batchId, c.start, c.end, c.commitment, c.signature, c.mldsaSigHash, c.slhdsaSigHash
        ) {
            return true;
        } catch {
            return false;
        }
    }
}

contract SequencerAttestationInvariantTest is AttestationFixture {
    AttestationHandler internal handler;

    function setUp() public override {
        super.setUp();
        register(SEQUENCER_KEY);
        register(SEQUENCER2_KEY);
        // Both sequencers also report risk (the oracle is linked to the registry).
        vm.startPrank(GOVERNANCE);
        oracle.addReporter(vm.addr(SEQUENCER_KEY));
        oracle.addReporter(vm.addr(SEQUENCER2_KEY));
        vm.stopPrank();
        handler = new AttestationHandler(
            attestation, oracle, workload, [SEQUENCER_KEY, SEQUENCER2_KEY, OUTSIDER_KEY], [REPORTER_A, REPORTER_B]
        );
        handler.addRegistered(registeredOf(SEQUENCER_KEY), pckHint);
        handler.addRegistered(registeredOf(SEQUENCER2_KEY), pckHint);
        targetContract(address(handler));
        bytes4[] memory selectors = new bytes4[](10);
        selectors[0] = AttestationHandler.commit.selector;
        selectors[1] = AttestationHandler.commit.selector; // weight commits higher
        selectors[2] = AttestationHandler.commit.selector;
        selectors[3] = AttestationHandler.replay.selector;
        selectors[4] = AttestationHandler.revokeSecond.selector;
        selectors[5] = AttestationHandler.commitWithWorkloadWithdrawn.selector;
        selectors[6] = AttestationHandler.commitWhilePaused.selector;
        selectors[7] = AttestationHandler.setRisk.selector;
        selectors[8] = AttestationHandler.replay.selector;
        selectors[9] = AttestationHandler.reRegister.selector;
        targetSelector(address(handler), selectors);
    }

    function registeredOf(uint256 key) internal pure returns (AttestationHandler.Registered memory) {
        return AttestationHandler.Registered(
            vm.addr(key), mldsaKeyHashOf(key), slhdsaKeyHashOf(key), encryptionKeyHashOf(key), nonceOf(key)
        );
    }

    /// @notice A registration cannot be replayed and a registered address cannot register again;
    ///         the records keep the keys of the original registration.
    function invariant_registrationsAreOnce() public view {
        assertEq(handler.acceptedReRegistrations(), 0, "re-registration accepted");
        for (uint256 i = 0; i < handler.registeredCount(); ++i) {
            AttestationHandler.Registered memory r = handler.registeredAt(i);
            assertTrue(attestation.usedNonce(r.account, r.nonce), "original nonce used");
            assertEq(attestation.sequencer(r.account).encryptionKeyHash, r.encryptionKeyHash, "encryption key kept");
            assertEq(attestation.sequencer(r.account).mldsaKeyHash, r.mldsaKeyHash, "ML-DSA key kept");
        }
    }

    /// @notice Only registered, non-revoked sequencers of an allowed workload get commitments in.
    function invariant_onlyActiveSequencersCommit() public view {
        assertEq(handler.acceptedFromInactive(), 0, "commitment by an inactive key");
        assertFalse(attestation.isActiveSequencer(vm.addr(OUTSIDER_KEY)), "outsider never registered");
    }

    /// @notice A sequencer is a risk reporter exactly while it is not revoked.
    function invariant_revokedSequencersDoNotReport() public view {
        address[2] memory sequencers = [vm.addr(SEQUENCER_KEY), vm.addr(SEQUENCER2_KEY)];
        for (uint256 i = 0; i < 2; ++i) {
            assertEq(
                oracle.isReporter(sequencers[i]),
                !attestation.sequencer(sequencers[i]).revoked,
                "reporter iff not revoked"
            );
        }
    }

    /// @notice No batch id is committed twice and no accepted commitment can be replayed.
    function invariant_noCommitmentTwice() public view {
        assertEq(handler.acceptedTwice(), 0, "batch id committed twice");
        assertEq(handler.acceptedReplays(), 0, "replay accepted");
    }

    /// @notice Policy and pause hold for every accepted commitment.
    function invariant_policyAndPause() public view {
        assertEq(handler.acceptedEcdsaOnlyInEmergency(), 0, "ECDSA-only commitment at EMERGENCY");
        assertEq(handler.acceptedWhilePaused(), 0, "commitment while paused");
    }

    /// @notice A relayer can only commit the batch right after the last one, so no relayed
    ///         commitment ever makes an earlier batch uncommittable.
    function invariant_relaysOnlyInOrder() public view {
        assertEq(handler.acceptedRelayOutOfOrder(), 0, "relayed commitment out of order");
    }

    /// @notice The replay-protection state tracks the accepted batches.
    function invariant_lastBatchTracksAccepted() public view {
        (bool hasBatch,, uint64 lastEnd) = attestation.lastBatch();
        assertEq(hasBatch, handler.acceptedCount() > 0, "hasBatch");
        assertEq(lastEnd, handler.maxEnd(), "last end block is the maximum");
    }
}
