// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {IMlDsaExpandedVerifier} from "./interfaces/IMlDsaVerifier.sol";
import {IPckVerifier} from "./interfaces/IPckVerifier.sol";
import {IQRMSOracle} from "./interfaces/IQRMSOracle.sol";
import {ISemver} from "./interfaces/ISemver.sol";
import {ISequencerAttestation} from "./interfaces/ISequencerAttestation.sol";
import {Governed} from "./lib/Governed.sol";
import {TdxQuoteLib} from "./lib/TdxQuoteLib.sol";

/// @title SequencerAttestation
/// @notice TDX-attested sequencer registry with EIP-712 batch commitments and migration
///         checkpoints; formats and rules are documented in {ISequencerAttestation}.
/// @dev Gas: {commitBatch} writes no new storage slot (a fresh slot alone costs 22,100 gas). Batch
///      ids and L2 ranges only move forward, so the last batch id and end block (packed with the
///      pause flag in `_commitState`) are all the replay protection needs; the commitments
///      themselves live in the `BatchCommitted` events. Per commitment: `_commitState` (read +
///      write), `_oracle`, the signer's status slot and workload slot, the workload flag and the
///      oracle's single policy slot. {registerSequencer} writes six fresh slots: the record
///      (workload id, three key hashes, then time and revocation flag packed) and the nonce flag.
/// @custom:semver 1.6.0
contract SequencerAttestation is ISequencerAttestation, Governed {
    /// @notice EIP-712 type hash of `BatchCommitment`.
    bytes32 public constant BATCH_COMMITMENT_TYPEHASH = keccak256(
        "BatchCommitment(uint64 batchId,uint64 l2StartBlock,uint64 l2EndBlock,bytes32 commitment,bytes32 mldsaSigHash,bytes32 slhdsaSigHash)"
    );
    /// @notice EIP-712 type hash of `PqBatchCommitment`, what {commitBatchPq}'s ML-DSA-87
    ///         signatures are over.
    bytes32 public constant PQ_BATCH_COMMITMENT_TYPEHASH = keccak256(
        "PqBatchCommitment(address sequencer,uint64 batchId,uint64 l2StartBlock,uint64 l2EndBlock,bytes32 commitment,bytes32 slhdsaSigHash)"
    );
    /// @notice EIP-712 domain type hash.
    bytes32 public constant EIP712_DOMAIN_TYPEHASH =
        keccak256("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)");
    /// @notice EIP-712 domain name.
    string public constant EIP712_NAME = "QuantumAegis SequencerAttestation";
    /// @notice EIP-712 domain version.
    string public constant EIP712_VERSION = "1";
    /// @notice Largest accepted quote (bytes).
    uint256 public constant MAX_QUOTE_LENGTH = TdxQuoteLib.MAX_QUOTE_LENGTH;
    /// @notice Smallest structurally possible quote (bytes).
    uint256 public constant MIN_QUOTE_LENGTH = TdxQuoteLib.MIN_QUOTE_LENGTH;

    /// @dev secp256k1 group order / 2: larger `s` values are malleable duplicates.
    uint256 private constant SECP256K1_HALF_N = 0x7FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF5D576E7357A4501DDFE92F46681B20A0;

    struct CommitState {
        uint64 lastBatchId;
        uint64 lastL2EndBlock;
        bool hasBatch;
        bool paused;
        // Always true: keeps the slot non-zero so the first commitment does not pay the
        // zero-to-non-zero SSTORE price.
        bool slotMarker;
    }

    uint256 private immutable _cachedChainId;
    bytes32 private immutable _cachedDomainSeparator;

    CommitState private _commitState;
    IQRMSOracle private _oracle;
    IPckVerifier private _pckVerifier;
    IMlDsaExpandedVerifier private _mldsaVerifier;
    mapping(bytes32 => bool) private _allowedWorkloads;
    mapping(address => Sequencer) private _sequencers;
    mapping(address => mapping(bytes32 => bool)) private _usedNonces;
    mapping(uint64 => Checkpoint) private _checkpoints;

    /// @param initialGovernance Governance account (two-step transferable).
    /// @param initialOracle The risk oracle consulted by {commitBatch}.
    /// @param initialPckVerifier The PCK verifier consulted by {registerSequencer}.
    /// @param initialMlDsaVerifier The ML-DSA-87 verifier consulted by {commitBatchPq}.
    /// @param initialWorkloads Workload ids allowed from the start (may be empty).
    constructor(
        address initialGovernance,
        IQRMSOracle initialOracle,
        IPckVerifier initialPckVerifier,
        IMlDsaExpandedVerifier initialMlDsaVerifier,
        bytes32[] memory initialWorkloads
    ) Governed(initialGovernance) {
        if (
            address(initialOracle) == address(0) || address(initialPckVerifier) == address(0)
                || address(initialMlDsaVerifier) == address(0)
        ) {
            revert SequencerAttestation_ZeroAddress();
        }
        _commitState.slotMarker = true;
        _oracle = initialOracle;
        _pckVerifier = initialPckVerifier;
        _mldsaVerifier = initialMlDsaVerifier;
        emit OracleUpdated(address(initialOracle));
        emit PckVerifierUpdated(address(initialPckVerifier));
        emit MlDsaVerifierUpdated(address(initialMlDsaVerifier));
        for (uint256 i = 0; i < initialWorkloads.length; ++i) {
            _allowedWorkloads[initialWorkloads[i]] = true;
            emit WorkloadAllowed(initialWorkloads[i], true);
        }
        _cachedChainId = block.chainid;
        _cachedDomainSeparator = _buildDomainSeparator();
    }

    /// @inheritdoc ISemver
    function version() external pure returns (string memory) {
        return "1.6.0";
    }

    // ---------------------------------------------------------------------------------------
    // Registration
    // ---------------------------------------------------------------------------------------

    /// @inheritdoc ISequencerAttestation
    /// @dev The nonce is checked before the registration status so that resubmitting a registered
    ///      quote reports the replay as such.
    function registerSequencer(
        bytes calldata quote,
        address account,
        bytes32 mldsaKeyHash,
        bytes32 slhdsaKeyHash,
        bytes32 encryptionKeyHash,
        bytes32 nonce,
        bytes calldata pckKeyHint
    ) external {
        if (account == address(0)) revert SequencerAttestation_ZeroAddress();
        _checkKeyArguments(account, mldsaKeyHash, slhdsaKeyHash, encryptionKeyHash, nonce);
        if (_sequencers[account].registeredAt != 0) revert SequencerAttestation_AlreadyRegistered(account);

        (bytes32 workload, bytes32 pckKeyHash) = _attest(
            quote,
            account,
            mldsaKeyHash,
            slhdsaKeyHash,
            encryptionKeyHash,
            nonce,
            pckKeyHint,
            ReportDataPurpose.REGISTRATION
        );

        // All checks passed: write the record in one go.
        _usedNonces[account][nonce] = true;
        _sequencers[account] = Sequencer({
            workloadId: workload,
            mldsaKeyHash: mldsaKeyHash,
            slhdsaKeyHash: slhdsaKeyHash,
            encryptionKeyHash: encryptionKeyHash,
            registeredAt: uint64(block.timestamp),
            revoked: false
        });
        emit SequencerRegistered(account, workload, mldsaKeyHash, slhdsaKeyHash, encryptionKeyHash, nonce, pckKeyHash);
    }

    /// @inheritdoc ISequencerAttestation
    function updateKeys(
        bytes calldata quote,
        bytes32 mldsaKeyHash,
        bytes32 slhdsaKeyHash,
        bytes32 encryptionKeyHash,
        bytes32 nonce,
        bytes calldata pckKeyHint,
        bytes calldata handoverSignature
    ) external {
        _checkKeyArguments(msg.sender, mldsaKeyHash, slhdsaKeyHash, encryptionKeyHash, nonce);
        _requireActive(msg.sender);
        (bytes32 workload, bytes32 pckKeyHash) = _attest(
            quote,
            msg.sender,
            mldsaKeyHash,
            slhdsaKeyHash,
            encryptionKeyHash,
            nonce,
            pckKeyHint,
            ReportDataPurpose.KEY_UPDATE
        );

        // Chain of custody: the registered ML-DSA-87 key hands over to the new keys.
        bytes32 handover = _keyHandoverDigest(msg.sender, mldsaKeyHash, slhdsaKeyHash, encryptionKeyHash);
        if (!_mldsaVerifier.verifyExpanded(
                _sequencers[msg.sender].mldsaKeyHash, abi.encodePacked(handover), "", handoverSignature
            )) {
            revert SequencerAttestation_InvalidMlDsaSignature();
        }
        _usedNonces[msg.sender][nonce] = true;
        Sequencer storage s = _sequencers[msg.sender];
        (s.workloadId, s.mldsaKeyHash, s.slhdsaKeyHash, s.encryptionKeyHash) =
        (workload, mldsaKeyHash, slhdsaKeyHash, encryptionKeyHash);
        emit SequencerKeysUpdated(
            msg.sender, workload, mldsaKeyHash, slhdsaKeyHash, encryptionKeyHash, nonce, pckKeyHash
        );
    }

    /// @dev The argument checks shared by registration and key updates: not paused, non-zero key
    ///      hashes and nonce, a nonce `account` has not used.
    function _checkKeyArguments(
        address account,
        bytes32 mldsaKeyHash,
        bytes32 slhdsaKeyHash,
        bytes32 encryptionKeyHash,
        bytes32 nonce
    ) private view {
        if (_commitState.paused) revert SequencerAttestation_Paused();
        if (mldsaKeyHash == bytes32(0) || slhdsaKeyHash == bytes32(0) || encryptionKeyHash == bytes32(0)) {
            revert SequencerAttestation_ZeroKeyHash();
        }
        if (nonce == bytes32(0)) revert SequencerAttestation_ZeroNonce();
        if (_usedNonces[account][nonce]) revert SequencerAttestation_NonceUsed(account, nonce);
    }

    /// @dev The quote checks shared by registration and key updates: layout, allowed workload,
    ///      REPORTDATA v3 over `account`, the key hashes, `nonce` and the domain of `purpose` on
    ///      this chain and contract, signatures and the PCK.
    function _attest(
        bytes calldata quote,
        address account,
        bytes32 mldsaKeyHash,
        bytes32 slhdsaKeyHash,
        bytes32 encryptionKeyHash,
        bytes32 nonce,
        bytes calldata pckKeyHint,
        ReportDataPurpose purpose
    ) private view returns (bytes32 workload, bytes32 pckKeyHash) {
        TdxQuoteLib.Layout memory parts = TdxQuoteLib.checkLayout(quote);
        workload = TdxQuoteLib.workloadId(quote);
        if (!_allowedWorkloads[workload]) revert SequencerAttestation_WorkloadNotAllowed(workload);
        if (
            keccak256(quote[TdxQuoteLib.OFFSET_REPORT_DATA:TdxQuoteLib.SIGNED_LENGTH])
                != keccak256(
                    _reportData(
                        account,
                        mldsaKeyHash,
                        slhdsaKeyHash,
                        encryptionKeyHash,
                        nonce,
                        _reportDataDomain(purpose, block.chainid, address(this))
                    )
                )
        ) {
            revert SequencerAttestation_ReportDataMismatch();
        }
        pckKeyHash = _verifyQuote(quote, parts, pckKeyHint);
    }

    // ---------------------------------------------------------------------------------------
    // Batch commitments and checkpoints
    // ---------------------------------------------------------------------------------------

    /// @inheritdoc ISequencerAttestation
    function commitBatch(
        uint64 batchId,
        uint64 l2StartBlock,
        uint64 l2EndBlock,
        bytes32 commitment,
        bytes calldata ecdsaSignature,
        bytes32 mldsaSigHash,
        bytes32 slhdsaSigHash
    ) external {
        CommitState memory cs = _commitState;
        _checkOrder(cs, batchId, l2StartBlock, l2EndBlock, commitment);
        address signer = _recover(
            _batchDigest(batchId, l2StartBlock, l2EndBlock, commitment, mldsaSigHash, slhdsaSigHash), ecdsaSignature
        );
        _accept(cs, signer, false, batchId, l2StartBlock, l2EndBlock, commitment, mldsaSigHash, slhdsaSigHash);
    }

    /// @inheritdoc ISequencerAttestation
    function commitBatchPq(
        address account,
        uint64 batchId,
        uint64 l2StartBlock,
        uint64 l2EndBlock,
        bytes32 commitment,
        bytes32 slhdsaSigHash,
        bytes calldata mldsaSignature
    ) external {
        CommitState memory cs = _commitState;
        _checkOrder(cs, batchId, l2StartBlock, l2EndBlock, commitment);
        bytes32 keyHash = _sequencers[account].mldsaKeyHash;
        if (keyHash == bytes32(0)) revert SequencerAttestation_NotRegistered(account);
        bytes32 digest = _pqBatchDigest(account, batchId, l2StartBlock, l2EndBlock, commitment, slhdsaSigHash);
        if (!_mldsaVerifier.verifyExpanded(keyHash, abi.encodePacked(digest), "", mldsaSignature)) {
            revert SequencerAttestation_InvalidMlDsaSignature();
        }
        _accept(
            cs, account, true, batchId, l2StartBlock, l2EndBlock, commitment, keccak256(mldsaSignature), slhdsaSigHash
        );
        emit BatchPqVerified(batchId, keyHash);
    }

    /// @dev Reverts unless a commitment with these fields may follow the last one (`cs`).
    function _checkOrder(
        CommitState memory cs,
        uint64 batchId,
        uint64 l2StartBlock,
        uint64 l2EndBlock,
        bytes32 commitment
    ) private pure {
        if (cs.paused) revert SequencerAttestation_Paused();
        if (commitment == bytes32(0)) revert SequencerAttestation_ZeroCommitment();
        if (l2StartBlock > l2EndBlock) revert SequencerAttestation_InvalidBlockRange(l2StartBlock, l2EndBlock);
        if (cs.hasBatch) {
            if (batchId <= cs.lastBatchId) revert SequencerAttestation_BatchIdNotIncreasing(batchId, cs.lastBatchId);
            // A batcher restarted before its last batches were derived posts those blocks again:
            // such a batch may overlap the last commitment, but must extend it.
            if (l2EndBlock <= cs.lastL2EndBlock) {
                revert SequencerAttestation_BlockRangeNotIncreasing(l2EndBlock, cs.lastL2EndBlock);
            }
        }
    }

    /// @dev Records a commitment `signer` authorised (by ML-DSA-87 verified here if `pqVerified`,
    ///      else by ECDSA), after the relay rule, its status and the signature policy.
    function _accept(
        CommitState memory cs,
        address signer,
        bool pqVerified,
        uint64 batchId,
        uint64 l2StartBlock,
        uint64 l2EndBlock,
        bytes32 commitment,
        bytes32 mldsaSigHash,
        bytes32 slhdsaSigHash
    ) private {
        // Anyone may relay a signed commitment, but only the next one: a relayed later batch
        // would otherwise make the ones before it uncommittable. The sequencer itself may skip
        // ids (batches whose blocks an earlier commitment already covers).
        if (msg.sender != signer && (!cs.hasBatch || batchId != cs.lastBatchId + 1)) {
            revert SequencerAttestation_RelayOutOfOrder(batchId, cs.hasBatch ? cs.lastBatchId + 1 : 0);
        }
        _requireActive(signer);
        IQRMSOracle.SignaturePolicy memory policy = _oracle.signaturePolicy();
        // Once ECDSA is what an attacker may hold, only what ML-DSA authorised is accepted.
        if (!pqVerified && (policy.level == IQRMSOracle.RiskLevel.EMERGENCY || !policy.ecdsaAllowed)) {
            revert SequencerAttestation_PqPathRequired();
        }
        _checkSignaturePolicy(policy, mldsaSigHash, slhdsaSigHash);

        cs.lastBatchId = batchId;
        cs.lastL2EndBlock = l2EndBlock;
        cs.hasBatch = true;
        _commitState = cs;
        emit BatchCommitted(batchId, signer, commitment, l2StartBlock, l2EndBlock, mldsaSigHash, slhdsaSigHash);
    }

    /// @inheritdoc ISequencerAttestation
    function recordCheckpoint(
        uint64 checkpointId,
        uint64 blockNumber,
        bytes32 blockHash,
        bytes32 stateRoot,
        bytes32 assetSnapshotRoot,
        bytes calldata mldsaSignature
    ) external {
        if (_commitState.paused) revert SequencerAttestation_Paused();
        _requireActive(msg.sender);
        if (stateRoot == bytes32(0)) revert SequencerAttestation_ZeroStateRoot();
        Checkpoint storage cp = _checkpoints[checkpointId];
        if (cp.sequencer != address(0)) revert SequencerAttestation_CheckpointExists(checkpointId);
        bytes32 digest = _checkpointDigest(checkpointId, blockNumber, blockHash, stateRoot, assetSnapshotRoot);
        if (!_mldsaVerifier.verifyExpanded(
                _sequencers[msg.sender].mldsaKeyHash, abi.encodePacked(digest), "", mldsaSignature
            )) {
            revert SequencerAttestation_InvalidMlDsaSignature();
        }
        bytes32 mldsaSigHash = keccak256(mldsaSignature);
        cp.stateRoot = stateRoot;
        cp.assetSnapshotRoot = assetSnapshotRoot;
        cp.mldsaSigHash = mldsaSigHash;
        cp.sequencer = msg.sender;
        cp.blockNumber = blockNumber;
        emit CheckpointRecorded(checkpointId, msg.sender, blockNumber, stateRoot, assetSnapshotRoot, mldsaSigHash);
    }

    /// @inheritdoc ISequencerAttestation
    function revokeSequencer(address account) external onlyGovernance {
        _requireNotRevoked(account);
        _sequencers[account].revoked = true;
        emit SequencerRevoked(account);
        _retireReporter(account);
    }

    /// @inheritdoc ISequencerAttestation
    function rotateSequencer(address previousSequencer, address newSequencer) external {
        if (msg.sender != governance() && msg.sender != previousSequencer) {
            revert SequencerAttestation_Unauthorized(msg.sender);
        }
        if (previousSequencer == newSequencer) revert SequencerAttestation_RotationToSelf(newSequencer);
        _requireNotRevoked(previousSequencer);
        _requireActive(newSequencer);
        _sequencers[previousSequencer].revoked = true;
        emit SequencerRevoked(previousSequencer);
        emit SequencerRotated(previousSequencer, newSequencer);
        _retireReporter(previousSequencer);
    }

    /// @dev A revoked sequencer stops reporting risk: when the oracle is linked to this contract
    ///      ({IQRMSOracle.attestation}), it removes `account` from its reporters (a no-op if it is
    ///      not one). An oracle linked elsewhere, or one without the link (an older version), is
    ///      left alone, so a revocation never fails on the oracle.
    function _retireReporter(address account) private {
        IQRMSOracle o = _oracle;
        try o.attestation() returns (address linked) {
            if (linked == address(this)) o.removeRevokedReporter(account);
        } catch {}
    }

    /// @inheritdoc ISequencerAttestation
    function pause() external onlyGovernance {
        if (_commitState.paused) revert SequencerAttestation_Paused();
        _commitState.paused = true;
        emit Paused(msg.sender);
    }

    /// @inheritdoc ISequencerAttestation
    function unpause() external onlyGovernance {
        if (!_commitState.paused) revert SequencerAttestation_NotPaused();
        _commitState.paused = false;
        emit Unpaused(msg.sender);
    }

    /// @inheritdoc ISequencerAttestation
    function setWorkloadAllowed(bytes32 workloadId, bool allowed) external onlyGovernance {
        _allowedWorkloads[workloadId] = allowed;
        emit WorkloadAllowed(workloadId, allowed);
    }

    /// @inheritdoc ISequencerAttestation
    function setPckVerifier(IPckVerifier newPckVerifier) external onlyGovernance {
        if (address(newPckVerifier) == address(0)) revert SequencerAttestation_ZeroAddress();
        _pckVerifier = newPckVerifier;
        emit PckVerifierUpdated(address(newPckVerifier));
    }

    /// @inheritdoc ISequencerAttestation
    function setMlDsaVerifier(IMlDsaExpandedVerifier newMlDsaVerifier) external onlyGovernance {
        if (address(newMlDsaVerifier) == address(0)) revert SequencerAttestation_ZeroAddress();
        _mldsaVerifier = newMlDsaVerifier;
        emit MlDsaVerifierUpdated(address(newMlDsaVerifier));
    }

    /// @inheritdoc ISequencerAttestation
    function setOracle(IQRMSOracle newOracle) external onlyGovernance {
        if (address(newOracle) == address(0)) revert SequencerAttestation_ZeroAddress();
        _oracle = newOracle;
        emit OracleUpdated(address(newOracle));
    }

    // ---------------------------------------------------------------------------------------
    // Views
    // ---------------------------------------------------------------------------------------

    /// @inheritdoc ISequencerAttestation
    function sequencer(address account) external view returns (Sequencer memory) {
        return _sequencers[account];
    }

    /// @inheritdoc ISequencerAttestation
    function isActiveSequencer(address account) external view returns (bool) {
        Sequencer storage s = _sequencers[account];
        return s.registeredAt != 0 && !s.revoked && _allowedWorkloads[s.workloadId];
    }

    /// @inheritdoc ISequencerAttestation
    function lastBatch() external view returns (bool hasBatch, uint64 lastBatchId, uint64 lastL2EndBlock) {
        CommitState memory cs = _commitState;
        return (cs.hasBatch, cs.lastBatchId, cs.lastL2EndBlock);
    }

    /// @inheritdoc ISequencerAttestation
    function checkpoint(uint64 checkpointId) external view returns (Checkpoint memory) {
        return _checkpoints[checkpointId];
    }

    /// @inheritdoc ISequencerAttestation
    function usedNonce(address account, bytes32 nonce) external view returns (bool) {
        return _usedNonces[account][nonce];
    }

    /// @inheritdoc ISequencerAttestation
    function isWorkloadAllowed(bytes32 workloadId) external view returns (bool) {
        return _allowedWorkloads[workloadId];
    }

    /// @inheritdoc ISequencerAttestation
    function paused() external view returns (bool) {
        return _commitState.paused;
    }

    /// @inheritdoc ISequencerAttestation
    function oracle() external view returns (IQRMSOracle) {
        return _oracle;
    }

    /// @inheritdoc ISequencerAttestation
    function pckVerifier() external view returns (IPckVerifier) {
        return _pckVerifier;
    }

    /// @inheritdoc ISequencerAttestation
    function mldsaVerifier() external view returns (IMlDsaExpandedVerifier) {
        return _mldsaVerifier;
    }

    /// @inheritdoc ISequencerAttestation
    function pqBatchCommitmentDigest(
        address account,
        uint64 batchId,
        uint64 l2StartBlock,
        uint64 l2EndBlock,
        bytes32 commitment,
        bytes32 slhdsaSigHash
    ) external view returns (bytes32) {
        return _pqBatchDigest(account, batchId, l2StartBlock, l2EndBlock, commitment, slhdsaSigHash);
    }

    /// @inheritdoc ISequencerAttestation
    function keyHandoverDigest(address account, bytes32 mldsaKeyHash, bytes32 slhdsaKeyHash, bytes32 encryptionKeyHash)
        external
        view
        returns (bytes32)
    {
        return _keyHandoverDigest(account, mldsaKeyHash, slhdsaKeyHash, encryptionKeyHash);
    }

    /// @inheritdoc ISequencerAttestation
    function checkpointDigest(
        uint64 checkpointId,
        uint64 blockNumber,
        bytes32 blockHash,
        bytes32 stateRoot,
        bytes32 assetSnapshotRoot
    ) external view returns (bytes32) {
        return _checkpointDigest(checkpointId, blockNumber, blockHash, stateRoot, assetSnapshotRoot);
    }

    /// @inheritdoc ISequencerAttestation
    function domainSeparator() public view returns (bytes32) {
        return block.chainid == _cachedChainId ? _cachedDomainSeparator : _buildDomainSeparator();
    }

    /// @inheritdoc ISequencerAttestation
    function batchCommitmentDigest(
        uint64 batchId,
        uint64 l2StartBlock,
        uint64 l2EndBlock,
        bytes32 commitment,
        bytes32 mldsaSigHash,
        bytes32 slhdsaSigHash
    ) external view returns (bytes32) {
        return _batchDigest(batchId, l2StartBlock, l2EndBlock, commitment, mldsaSigHash, slhdsaSigHash);
    }

    /// @inheritdoc ISequencerAttestation
    function expectedReportData(
        address account,
        bytes32 mldsaKeyHash,
        bytes32 slhdsaKeyHash,
        bytes32 encryptionKeyHash,
        bytes32 binding,
        bytes32 domain
    ) external pure returns (bytes memory) {
        return _reportData(account, mldsaKeyHash, slhdsaKeyHash, encryptionKeyHash, binding, domain);
    }

    /// @inheritdoc ISequencerAttestation
    function reportDataDomain(ReportDataPurpose purpose, uint256 chainId, address verifyingContract)
        external
        pure
        returns (bytes32)
    {
        return _reportDataDomain(purpose, chainId, verifyingContract);
    }

    /// @inheritdoc ISequencerAttestation
    function parseQuote(bytes calldata quote) public pure returns (TdxQuote memory parsed) {
        TdxQuoteLib.Layout memory parts = TdxQuoteLib.checkLayout(quote);
        parsed.version = uint16(TdxQuoteLib.readLe(quote, 0, 2));
        parsed.attestationKeyType = uint16(TdxQuoteLib.readLe(quote, 2, 2));
        parsed.teeType = uint32(TdxQuoteLib.readLe(quote, 4, 4));
        parsed.tdAttributes = bytes8(quote[TdxQuoteLib.OFFSET_TD_ATTRIBUTES:TdxQuoteLib.OFFSET_TD_ATTRIBUTES + 8]);
        parsed.mrtd = quote[TdxQuoteLib.OFFSET_MRTD:TdxQuoteLib.OFFSET_MRTD + 48];
        parsed.rtmr0 = quote[TdxQuoteLib.OFFSET_RTMR0:TdxQuoteLib.OFFSET_RTMR0 + 48];
        parsed.rtmr1 = quote[TdxQuoteLib.OFFSET_RTMR0 + 48:TdxQuoteLib.OFFSET_RTMR0 + 96];
        parsed.rtmr2 = quote[TdxQuoteLib.OFFSET_RTMR0 + 96:TdxQuoteLib.OFFSET_RTMR0 + 144];
        parsed.rtmr3 = quote[TdxQuoteLib.OFFSET_RTMR0 + 144:TdxQuoteLib.OFFSET_RTMR0 + 192];
        parsed.reportData = quote[TdxQuoteLib.OFFSET_REPORT_DATA:TdxQuoteLib.SIGNED_LENGTH];
        parsed.workloadId = TdxQuoteLib.workloadId(quote);
        parsed.attestationKeyX =
            bytes32(quote[TdxQuoteLib.OFFSET_ATTESTATION_KEY:TdxQuoteLib.OFFSET_ATTESTATION_KEY + 32]);
        parsed.attestationKeyY =
            bytes32(quote[TdxQuoteLib.OFFSET_ATTESTATION_KEY + 32:TdxQuoteLib.OFFSET_ATTESTATION_KEY + 64]);
        parsed.certificationDataType = uint16(TdxQuoteLib.readLe(quote, TdxQuoteLib.OFFSET_CERT_DATA_TYPE, 2));
        parsed.qeReport =
            quote[TdxQuoteLib.OFFSET_QE_REPORT:TdxQuoteLib.OFFSET_QE_REPORT + TdxQuoteLib.QE_REPORT_LENGTH];
        parsed.qeAuthData = quote[parts.qeAuthDataOffset:parts.qeAuthDataOffset + parts.qeAuthDataLength];
        parsed.pckCertDataType = uint16(TdxQuoteLib.readLe(quote, parts.pckCertChainOffset - 6, 2));
        parsed.pckCertChain = quote[parts.pckCertChainOffset:parts.pckCertChainOffset + parts.pckCertChainLength];
    }

    /// @inheritdoc ISequencerAttestation
    function verifyQuote(bytes calldata quote, bytes calldata pckKeyHint)
        external
        view
        returns (TdxQuote memory parsed, bytes32 pckKeyHash)
    {
        parsed = parseQuote(quote);
        pckKeyHash = _verifyQuote(quote, TdxQuoteLib.checkLayout(quote), pckKeyHint);
    }

    // ---------------------------------------------------------------------------------------
    // Internals
    // ---------------------------------------------------------------------------------------

    /// @dev Debug attribute, attestation signature, QE binding, PCK, QE signature (in that order).
    function _verifyQuote(bytes calldata quote, TdxQuoteLib.Layout memory parts, bytes calldata pckKeyHint)
        private
        view
        returns (bytes32 pckKeyHash)
    {
        if (TdxQuoteLib.isDebugTd(quote)) revert SequencerAttestation_DebugTd();
        if (!TdxQuoteLib.verifyQuoteSignature(quote)) revert SequencerAttestation_InvalidQuoteSignature();
        if (!TdxQuoteLib.qeReportDataMatches(quote, parts)) revert SequencerAttestation_QeReportDataMismatch();
        (bytes32 pckKeyX, bytes32 pckKeyY) = _pckVerifier.verifyPck(
            quote, quote[parts.pckCertChainOffset:parts.pckCertChainOffset + parts.pckCertChainLength], pckKeyHint
        );
        if (!TdxQuoteLib.verifyQeReportSignature(quote, pckKeyX, pckKeyY)) {
            revert SequencerAttestation_InvalidQeReportSignature();
        }
        pckKeyHash = keccak256(abi.encodePacked(pckKeyX, pckKeyY));
    }

    /// @dev REPORTDATA v3: `account ‖ keccak256(mldsa ‖ slhdsa ‖ encryption ‖ binding ‖ domain) ‖ 0^12`.
    function _reportData(
        address account,
        bytes32 mldsaKeyHash,
        bytes32 slhdsaKeyHash,
        bytes32 encryptionKeyHash,
        bytes32 binding,
        bytes32 domain
    ) private pure returns (bytes memory) {
        return abi.encodePacked(
            account,
            keccak256(abi.encodePacked(mldsaKeyHash, slhdsaKeyHash, encryptionKeyHash, binding, domain)),
            bytes12(0)
        );
    }

    /// @dev `keccak256(abi.encode(uint8 purpose, uint256 chainId, address verifyingContract))`.
    function _reportDataDomain(ReportDataPurpose purpose, uint256 chainId, address verifyingContract)
        private
        pure
        returns (bytes32)
    {
        return keccak256(abi.encode(purpose, chainId, verifyingContract));
    }

    function _requireNotRevoked(address account) private view {
        Sequencer storage s = _sequencers[account];
        if (s.registeredAt == 0) revert SequencerAttestation_NotRegistered(account);
        if (s.revoked) revert SequencerAttestation_SequencerRevoked(account);
    }

    function _requireActive(address account) private view {
        _requireNotRevoked(account);
        bytes32 workload = _sequencers[account].workloadId;
        if (!_allowedWorkloads[workload]) revert SequencerAttestation_WorkloadNotAllowed(workload);
    }

    function _checkSignaturePolicy(
        IQRMSOracle.SignaturePolicy memory policy,
        bytes32 mldsaSigHash,
        bytes32 slhdsaSigHash
    ) private pure {
        bool hasMldsa = mldsaSigHash != bytes32(0);
        bool hasSlhdsa = slhdsaSigHash != bytes32(0);
        if (hasMldsa && !policy.mldsaAllowed) {
            revert SequencerAttestation_AlgorithmNotAllowed(IQRMSOracle.Algorithm.ML_DSA_87);
        }
        if (hasSlhdsa && !policy.slhdsaAllowed) {
            revert SequencerAttestation_AlgorithmNotAllowed(IQRMSOracle.Algorithm.SLH_DSA_256S);
        }
        if (policy.mldsaRequired && !hasMldsa) {
            revert SequencerAttestation_AlgorithmRequired(IQRMSOracle.Algorithm.ML_DSA_87);
        }
        if (policy.slhdsaRequired && !hasSlhdsa) {
            revert SequencerAttestation_AlgorithmRequired(IQRMSOracle.Algorithm.SLH_DSA_256S);
        }
        if ((policy.level == IQRMSOracle.RiskLevel.EMERGENCY || !policy.ecdsaAllowed) && !hasMldsa && !hasSlhdsa) {
            revert SequencerAttestation_PqSignatureRequired();
        }
    }

    function _batchDigest(
        uint64 batchId,
        uint64 l2StartBlock,
        uint64 l2EndBlock,
        bytes32 commitment,
        bytes32 mldsaSigHash,
        bytes32 slhdsaSigHash
    ) private view returns (bytes32) {
        bytes32 structHash = keccak256(
            abi.encode(
                BATCH_COMMITMENT_TYPEHASH, batchId, l2StartBlock, l2EndBlock, commitment, mldsaSigHash, slhdsaSigHash
            )
        );
        return _hashTypedData(structHash);
    }

    function _keyHandoverDigest(address account, bytes32 mldsaKeyHash, bytes32 slhdsaKeyHash, bytes32 encryptionKeyHash)
        private
        view
        returns (bytes32)
    {
        return keccak256(
            abi.encodePacked(
                "QuantumAegis key handover v1",
                uint64(block.chainid),
                account,
                mldsaKeyHash,
                slhdsaKeyHash,
                encryptionKeyHash
            )
        );
    }

    function _checkpointDigest(
        uint64 checkpointId,
        uint64 blockNumber,
        bytes32 blockHash,
        bytes32 stateRoot,
        bytes32 assetSnapshotRoot
    ) private view returns (bytes32) {
        return keccak256(
            abi.encodePacked(
                "QuantumAegis checkpoint v1",
                uint64(block.chainid),
                checkpointId,
                blockNumber,
                blockHash,
                stateRoot,
                assetSnapshotRoot
            )
        );
    }

    function _pqBatchDigest(
        address account,
        uint64 batchId,
        uint64 l2StartBlock,
        uint64 l2EndBlock,
        bytes32 commitment,
        bytes32 slhdsaSigHash
    ) private view returns (bytes32) {
        bytes32 structHash = keccak256(
            abi.encode(
                PQ_BATCH_COMMITMENT_TYPEHASH, account, batchId, l2StartBlock, l2EndBlock, commitment, slhdsaSigHash
            )
        );
        return _hashTypedData(structHash);
    }

    /// @dev The EIP-712 digest `keccak256(0x1901 ‖ domainSeparator ‖ structHash)`, hashed in
    ///      scratch memory (the free memory pointer's word is restored).
    function _hashTypedData(bytes32 structHash) private view returns (bytes32 digest) {
        bytes32 separator = domainSeparator();
        assembly ("memory-safe") {
            let free := mload(0x40)
            mstore(0x00, 0x1901)
            mstore(0x20, separator)
            mstore(0x40, structHash)
            digest := keccak256(0x1e, 0x42)
            mstore(0x40, free)
        }
    }

    /// @dev ecrecover of a 65-byte `r ‖ s ‖ v` signature; rejects high s and unrecoverable input.
    function _recover(bytes32 digest, bytes calldata signature) private pure returns (address signer) {
        if (signature.length != 65) revert SequencerAttestation_InvalidSignatureLength(signature.length);
        bytes32 r = bytes32(signature[0:32]);
        bytes32 s = bytes32(signature[32:64]);
        uint8 v = uint8(signature[64]);
        if (v < 27) v += 27;
        if (uint256(s) > SECP256K1_HALF_N) revert SequencerAttestation_MalleableSignature();
        if (v != 27 && v != 28) revert SequencerAttestation_InvalidSignature();
        signer = ecrecover(digest, v, r, s);
        if (signer == address(0)) revert SequencerAttestation_InvalidSignature();
    }

    function _buildDomainSeparator() private view returns (bytes32) {
        return keccak256(
            abi.encode(
                EIP712_DOMAIN_TYPEHASH,
                keccak256(bytes(EIP712_NAME)),
                keccak256(bytes(EIP712_VERSION)),
                block.chainid,
                address(this)
            )
        );
    }

    function _revertUnauthorized(address caller) internal pure override {
        revert SequencerAttestation_Unauthorized(caller);
    }

    function _revertZeroAddress() internal pure override {
        revert SequencerAttestation_ZeroAddress();
    }
}
