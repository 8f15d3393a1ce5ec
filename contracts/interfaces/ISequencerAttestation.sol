// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {IMlDsaExpandedVerifier} from "./IMlDsaVerifier.sol";
import {IPckVerifier} from "./IPckVerifier.sol";
import {IQRMSOracle} from "./IQRMSOracle.sol";
import {ISemver} from "./ISemver.sol";

/// @title ISequencerAttestation
/// @notice Registry of TDX-attested QuantumAegis sequencers and of the batch commitments and
///         migration checkpoints they sign.
///
///         Registration. A sequencer registers with a TDX quote v4 (ECDSA-256-with-P-256
///         attestation key, TEE type 0x81, certification data type 6 carrying the QE report and a
///         type-5 PEM PCK chain; at most `MAX_QUOTE_LENGTH` bytes; bytes after the signed auth data
///         must be zero padding). The contract checks the attestation key's signature over
///         `sha256(quote[0:632])`, the QE report data binding
///         `qeReport.reportData == sha256(attestationKey ‖ qeAuthData) ‖ 0^32`, obtains the PCK key
///         from the {IPckVerifier} and checks the QE report signature
///         `P256(pck, sha256(quote[770:1154]))`. The TD must not have the DEBUG attribute
///         (TDATTRIBUTES bit 0, quote byte 168).
///
///         Workload id: `keccak256(MRTD ‖ RTMR0 ‖ RTMR1 ‖ RTMR2 ‖ RTMR3)`, the raw 48-byte
///         measurements in that order (240 bytes; quote offsets [184,232) and [376,568)). It must be
///         allow-listed by governance, at registration and at every commitment.
///
///         REPORTDATA commitment, format v3 (64 bytes, quote offsets [568,632)):
///           - `reportData[0:20]`  = the sequencer's secp256k1 ECDSA address;
///           - `reportData[20:52]` = `keccak256(abi.encodePacked(mldsaKeyHash, slhdsaKeyHash,
///             encryptionKeyHash, binding, domain))` (5 × 32 bytes) where
///             `mldsaKeyHash = keccak256(ML-DSA-87 public key, 2,592 bytes)`,
///             `slhdsaKeyHash = keccak256(SLH-DSA-256s public key, 64 bytes)`,
///             `encryptionKeyHash = keccak256(mempool encryption public key encoding)`,
///             `binding` is a nonce (registration, key update, RPC quotes) or a batch commitment,
///             and `domain = keccak256(abi.encode(uint8 purpose, uint256 chainId, address
///             verifyingContract))` ({reportDataDomain}) says what the quote is for and where;
///           - `reportData[52:64]` = zero.
///         This contract accepts a quote only for its purpose on its own deployment: registration
///         needs `domain(REGISTRATION, block.chainid, address(this))`, a key update
///         `domain(KEY_UPDATE, block.chainid, address(this))`. Quotes the node serves off chain
///         (batch, mempool key, identity) bind their purpose, the L2 chain id and
///         `verifyingContract = address(0)`, so none of them is accepted here, and no quote made
///         for another chain or another contract is.
///         Nonces are non-zero and single-use per sequencer address: a quote, once used, cannot
///         be submitted again under the same nonce.
///
///         Batch commitments are authorised by an EIP-712 signature of a registered, non-revoked
///         sequencer (anyone may relay them):
///           domain `EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)`
///           with name "QuantumAegis SequencerAttestation", version "1";
///           struct `BatchCommitment(uint64 batchId,uint64 l2StartBlock,uint64 l2EndBlock,bytes32 commitment,bytes32 mldsaSigHash,bytes32 slhdsaSigHash)`;
///           digest `keccak256(0x1901 ‖ domainSeparator ‖ structHash)`; signature 65 bytes `r ‖ s ‖ v`
///           (v in {27, 28} or {0, 1}; s in the lower half order).
///         `mldsaSigHash` / `slhdsaSigHash` are `keccak256` of the full ML-DSA-87 / SLH-DSA-256s
///         signatures (published off chain; zero = not signed with that algorithm).
///
///         Post-quantum path ({commitBatchPq}): the commitment is authorised by an ML-DSA-87
///         signature (FIPS 204, empty context) of the sequencer's registered ML-DSA key over the
///         EIP-712 digest of `PqBatchCommitment(address sequencer,uint64 batchId,uint64
///         l2StartBlock,uint64 l2EndBlock,bytes32 commitment,bytes32 slhdsaSigHash)` in the same
///         domain, verified on chain by {mldsaVerifier} from the key's expansion
///         ({IMlDsaExpandedVerifier}; `MlDsa87Verifier.expandKey`). No ECDSA signature is involved, so
///         breaking secp256k1 does not allow committing a batch through it.
///
///         Ordering (replay protection): `l2StartBlock <= l2EndBlock`; after the first batch,
///         `batchId > lastBatchId` and `l2EndBlock > lastL2EndBlock`. So a batch id is committed
///         at most once and the committed range only grows. A batch may overlap the previous one
///         (a restarted batcher posts again the blocks not yet derived) as long as it extends it;
///         gaps (in ids and in blocks) are allowed. The first batch may have any id and range. Commitments are not kept in storage
///         (that alone would cost 22,100 gas per batch): the `BatchCommitted` event, indexed by
///         batch id, sequencer and commitment, is the record.
interface ISequencerAttestation is ISemver {
    /// @notice What a quote's REPORTDATA (v3) is for: the `purpose` of its domain.
    enum ReportDataPurpose {
        NONE,
        REGISTRATION,
        KEY_UPDATE,
        BATCH,
        MEMPOOL_KEY,
        IDENTITY
    }

    /// @notice A registered sequencer (`registeredAt == 0`: not registered).
    struct Sequencer {
        bytes32 workloadId;
        bytes32 mldsaKeyHash;
        bytes32 slhdsaKeyHash;
        bytes32 encryptionKeyHash;
        uint64 registeredAt;
        bool revoked;
    }

    /// @notice A migration checkpoint (`sequencer == address(0)`: not recorded).
    struct Checkpoint {
        bytes32 stateRoot;
        bytes32 assetSnapshotRoot;
        bytes32 mldsaSigHash;
        address sequencer;
        uint64 blockNumber;
    }

    /// @notice Fields of a parsed TDX quote v4 (see {parseQuote}). Byte strings are raw quote bytes.
    struct TdxQuote {
        uint16 version;
        uint16 attestationKeyType;
        uint32 teeType;
        bytes8 tdAttributes;
        bytes mrtd;
        bytes rtmr0;
        bytes rtmr1;
        bytes rtmr2;
        bytes rtmr3;
        bytes reportData;
        bytes32 workloadId;
        bytes32 attestationKeyX;
        bytes32 attestationKeyY;
        uint16 certificationDataType;
        bytes qeReport;
        bytes qeAuthData;
        uint16 pckCertDataType;
        bytes pckCertChain;
    }

    /// @notice A sequencer registered. `pckKeyHash = keccak256(pckX ‖ pckY)`; `nonce` is the
    ///         registration nonce its quote bound.
    event SequencerRegistered(
        address indexed sequencer,
        bytes32 indexed workloadId,
        bytes32 mldsaKeyHash,
        bytes32 slhdsaKeyHash,
        bytes32 encryptionKeyHash,
        bytes32 nonce,
        bytes32 pckKeyHash
    );
    /// @notice An active sequencer re-attested new keys (its post-quantum and mempool keys rotate
    ///         inside the TEE; its address stays).
    event SequencerKeysUpdated(
        address indexed sequencer,
        bytes32 indexed workloadId,
        bytes32 mldsaKeyHash,
        bytes32 slhdsaKeyHash,
        bytes32 encryptionKeyHash,
        bytes32 nonce,
        bytes32 pckKeyHash
    );
    /// @notice A sequencer was revoked (directly or by rotation).
    event SequencerRevoked(address indexed sequencer);
    /// @notice `previousSequencer` was replaced by the registered `newSequencer`.
    event SequencerRotated(address indexed previousSequencer, address indexed newSequencer);
    /// @notice A batch commitment was accepted; with the range and both PQ signature hashes an
    ///         off-chain verifier can fetch the full signatures and check them.
    event BatchCommitted(
        uint64 indexed batchId,
        address indexed sequencer,
        bytes32 indexed commitment,
        uint64 l2StartBlock,
        uint64 l2EndBlock,
        bytes32 mldsaSigHash,
        bytes32 slhdsaSigHash
    );
    /// @notice The batch committed with the same `batchId` was authorised by an ML-DSA-87
    ///         signature verified on chain ({commitBatchPq}) under the key hashing to `mldsaKeyHash`.
    event BatchPqVerified(uint64 indexed batchId, bytes32 indexed mldsaKeyHash);
    /// @notice The ML-DSA verifier changed.
    event MlDsaVerifierUpdated(address indexed mldsaVerifier);
    /// @notice A migration checkpoint was recorded.
    event CheckpointRecorded(
        uint64 indexed checkpointId,
        address indexed sequencer,
        uint64 blockNumber,
        bytes32 stateRoot,
        bytes32 assetSnapshotRoot,
        bytes32 mldsaSigHash
    );
    /// @notice Governance allowed or disallowed a workload id.
    event WorkloadAllowed(bytes32 indexed workloadId, bool allowed);
    /// @notice Governance replaced the PCK verifier.
    event PckVerifierUpdated(address indexed pckVerifier);
    /// @notice Governance replaced the risk oracle.
    event OracleUpdated(address indexed oracle);
    /// @notice Governance paused registration, commitments and checkpoints.
    event Paused(address indexed account);
    /// @notice Governance unpaused.
    event Unpaused(address indexed account);

    // --- access / state errors ---
    error SequencerAttestation_Unauthorized(address caller);
    error SequencerAttestation_ZeroAddress();
    error SequencerAttestation_Paused();
    error SequencerAttestation_NotPaused();
    // --- quote errors ---
    error SequencerAttestation_QuoteTooShort(uint256 length, uint256 minLength);
    error SequencerAttestation_QuoteTooLong(uint256 length, uint256 maxLength);
    error SequencerAttestation_UnsupportedQuoteVersion(uint16 version);
    error SequencerAttestation_UnsupportedAttestationKeyType(uint16 attestationKeyType);
    error SequencerAttestation_UnsupportedTeeType(uint32 teeType);
    error SequencerAttestation_AuthDataSizeMismatch(uint256 authDataEnd, uint256 quoteLength);
    error SequencerAttestation_UnsupportedCertificationDataType(uint16 certificationDataType);
    error SequencerAttestation_CertificationDataSizeMismatch(uint256 certificationDataEnd, uint256 authDataEnd);
    error SequencerAttestation_QeAuthDataOutOfBounds(uint256 qeAuthDataEnd, uint256 certificationDataEnd);
    error SequencerAttestation_UnsupportedPckCertDataType(uint16 pckCertDataType);
    error SequencerAttestation_PckCertDataSizeMismatch(uint256 pckCertDataEnd, uint256 certificationDataEnd);
    error SequencerAttestation_TrailingData();
    error SequencerAttestation_DebugTd();
    error SequencerAttestation_InvalidQuoteSignature();
    error SequencerAttestation_QeReportDataMismatch();
    error SequencerAttestation_InvalidQeReportSignature();
    // --- registration errors ---
    error SequencerAttestation_WorkloadNotAllowed(bytes32 workloadId);
    error SequencerAttestation_ReportDataMismatch();
    error SequencerAttestation_ZeroKeyHash();
    error SequencerAttestation_ZeroNonce();
    error SequencerAttestation_NonceUsed(address sequencer, bytes32 nonce);
    error SequencerAttestation_AlreadyRegistered(address sequencer);
    error SequencerAttestation_NotRegistered(address sequencer);
    error SequencerAttestation_SequencerRevoked(address sequencer);
    error SequencerAttestation_RotationToSelf(address sequencer);
    // --- commitment / checkpoint errors ---
    error SequencerAttestation_InvalidSignatureLength(uint256 length);
    error SequencerAttestation_InvalidSignature();
    error SequencerAttestation_MalleableSignature();
    error SequencerAttestation_ZeroCommitment();
    error SequencerAttestation_InvalidBlockRange(uint64 l2StartBlock, uint64 l2EndBlock);
    error SequencerAttestation_BlockRangeNotIncreasing(uint64 l2EndBlock, uint64 lastL2EndBlock);
    error SequencerAttestation_BatchIdNotIncreasing(uint64 batchId, uint64 lastBatchId);
    /// @notice A commitment sent by someone other than its signer that is not the next batch
    ///         (`expectedBatchId` 0: nothing is committed yet, so only the sequencer may start).
    error SequencerAttestation_RelayOutOfOrder(uint64 batchId, uint64 expectedBatchId);
    error SequencerAttestation_PqSignatureRequired();
    error SequencerAttestation_InvalidMlDsaSignature();
    error SequencerAttestation_PqPathRequired();
    error SequencerAttestation_AlgorithmRequired(IQRMSOracle.Algorithm algorithm);
    error SequencerAttestation_AlgorithmNotAllowed(IQRMSOracle.Algorithm algorithm);
    error SequencerAttestation_CheckpointExists(uint64 checkpointId);
    error SequencerAttestation_ZeroStateRoot();

    /// @notice Registers `sequencer` from a TDX quote whose REPORTDATA commits to its keys,
    ///         `nonce` and the registration domain of this contract (format v3, see the interface
    ///         description). Anyone may submit (e.g. a
    ///         relayer). All checks run before any state is written. Reverts when paused, on a zero
    ///         key hash or nonce, if `nonce` was already used for `sequencer`, if `sequencer` was
    ///         ever registered (a revoked address cannot re-register), on any quote defect, if the
    ///         workload is not allowed, if REPORTDATA does not match or if the PCK verifier rejects.
    ///         Marks `nonce` used for `sequencer`.
    /// @param quote Raw TDX quote v4.
    /// @param sequencer The sequencer's ECDSA (secp256k1) address, `reportData[0:20]`.
    /// @param mldsaKeyHash `keccak256` of the raw ML-DSA-87 public key (2,592 bytes).
    /// @param slhdsaKeyHash `keccak256` of the raw SLH-DSA-256s public key (64 bytes).
    /// @param encryptionKeyHash `keccak256` of the mempool encryption public key encoding.
    /// @param nonce The registration nonce bound into REPORTDATA (non-zero, once per sequencer).
    /// @param pckKeyHint Passed to {IPckVerifier.verifyPck}: for {DevPckVerifier} the 64-byte PCK
    ///        public key `x ‖ y`; production verifiers ignore it (may be empty).
    function registerSequencer(
        bytes calldata quote,
        address sequencer,
        bytes32 mldsaKeyHash,
        bytes32 slhdsaKeyHash,
        bytes32 encryptionKeyHash,
        bytes32 nonce,
        bytes calldata pckKeyHint
    ) external;

    /// @notice Replaces the caller's key hashes with new ones attested by a fresh TDX quote: how a
    ///         sequencer publishes post-quantum and mempool keys it rotated inside its TEE. The
    ///         caller (`msg.sender`, `reportData[0:20]`) must be active; the quote is checked as in
    ///         {registerSequencer} (workload allowed — it may be a newer allowed one —, REPORTDATA v3
    ///         binding the caller, the new hashes, `nonce` and the key-update domain of this
    ///         contract, PCK accepted). Reverts when paused, on
    ///         a zero hash or nonce, or a nonce the caller used before. Batch history is unchanged.
    /// @param quote Raw TDX quote v4.
    /// @param mldsaKeyHash `keccak256` of the new ML-DSA-87 public key.
    /// @param slhdsaKeyHash `keccak256` of the new SLH-DSA-256s public key.
    /// @param encryptionKeyHash `keccak256` of the new mempool encryption public key encoding.
    /// @param nonce Nonce bound into REPORTDATA (non-zero, once per sequencer).
    /// @param pckKeyHint As for {registerSequencer}.
    /// @param handoverSignature The registered (outgoing) ML-DSA-87 key's signature, empty
    ///        context, over {keyHandoverDigest} of the caller and the new hashes, verified on chain
    ///        from the key's expansion: breaking secp256k1 (or the quote's P-256 chain) does not
    ///        let anyone roll the keys.
    function updateKeys(
        bytes calldata quote,
        bytes32 mldsaKeyHash,
        bytes32 slhdsaKeyHash,
        bytes32 encryptionKeyHash,
        bytes32 nonce,
        bytes calldata pckKeyHint,
        bytes calldata handoverSignature
    ) external;

    /// @notice Records a batch commitment signed (EIP-712 `BatchCommitment`) by an active sequencer.
    ///         Anyone may relay. Policy from {IQRMSOracle.signaturePolicy}: a non-zero hash for an
    ///         algorithm that is not allowed reverts; a `REQUIRED` algorithm needs a non-zero hash;
    ///         at least one PQ hash must be non-zero when ECDSA is no longer allowed. At level
    ///         EMERGENCY, or when ECDSA is no longer allowed, this ECDSA-authorised path is refused
    ///         altogether ({SequencerAttestation_PqPathRequired}): only {commitBatchPq} commits.
    /// @param batchId Batch id, greater than the previous batch's id.
    /// @param l2StartBlock First L2 block of the batch.
    /// @param l2EndBlock Last L2 block of the batch (inclusive).
    /// @param commitment The batch commitment (non-zero).
    /// @param ecdsaSignature 65-byte `r ‖ s ‖ v` signature over the EIP-712 digest.
    /// @param mldsaSigHash `keccak256` of the ML-DSA-87 signature over `commitment`, or zero.
    /// @param slhdsaSigHash `keccak256` of the SLH-DSA-256s signature over `commitment`, or zero.
    function commitBatch(
        uint64 batchId,
        uint64 l2StartBlock,
        uint64 l2EndBlock,
        bytes32 commitment,
        bytes calldata ecdsaSignature,
        bytes32 mldsaSigHash,
        bytes32 slhdsaSigHash
    ) external;

    /// @notice Records a batch commitment authorised by the ML-DSA-87 signature of `sequencer`'s
    ///         registered key over {pqBatchCommitmentDigest}, verified on chain; anyone may relay
    ///         it under the same ordering and relay rules as {commitBatch}, and the same signature
    ///         policy applies (the ML-DSA hash is `keccak256(mldsaSignature)`). Reverts with
    ///         {SequencerAttestation_InvalidMlDsaSignature} if the signature does not verify, and
    ///         with the verifier's error if the key was not expanded.
    /// @param sequencer The active sequencer whose registered ML-DSA key signed.
    /// @param batchId Batch id, greater than the previous batch's id.
    /// @param l2StartBlock First L2 block of the batch.
    /// @param l2EndBlock Last L2 block of the batch (inclusive).
    /// @param commitment The batch commitment (non-zero).
    /// @param slhdsaSigHash `keccak256` of the SLH-DSA-256s signature over `commitment`, or zero.
    /// @param mldsaSignature The 4,627-byte ML-DSA-87 signature.
    function commitBatchPq(
        address sequencer,
        uint64 batchId,
        uint64 l2StartBlock,
        uint64 l2EndBlock,
        bytes32 commitment,
        bytes32 slhdsaSigHash,
        bytes calldata mldsaSignature
    ) external;

    /// @notice Records an immutable migration checkpoint signed with the caller's registered
    ///         ML-DSA-87 key, verified on chain: the signature (empty context) is over
    ///         `keccak256("QuantumAegis checkpoint v1" ‖ uint64 chainId ‖ uint64 checkpointId ‖
    ///         uint64 blockNumber ‖ blockHash ‖ stateRoot ‖ assetSnapshotRoot)` with this chain's id,
    ///         as the node's migration manager signs it. The caller (`msg.sender`) must be an active
    ///         sequencer; a checkpoint id can be written once; `keccak256(mldsaSignature)` is
    ///         recorded.
    /// @param checkpointId Checkpoint id.
    /// @param blockNumber L2 block the checkpoint refers to.
    /// @param blockHash Its hash.
    /// @param stateRoot L2 state root at `blockNumber` (non-zero).
    /// @param assetSnapshotRoot Root of the asset snapshot taken for the migration.
    /// @param mldsaSignature The 4,627-byte ML-DSA-87 signature over the checkpoint.
    function recordCheckpoint(
        uint64 checkpointId,
        uint64 blockNumber,
        bytes32 blockHash,
        bytes32 stateRoot,
        bytes32 assetSnapshotRoot,
        bytes calldata mldsaSignature
    ) external;

    /// @notice What the outgoing ML-DSA-87 key signs to hand over to new keys ({updateKeys}):
    ///         `keccak256("QuantumAegis key handover v1" ‖ uint64 chainId ‖ account ‖ mldsaKeyHash ‖
    ///         slhdsaKeyHash ‖ encryptionKeyHash)` with this chain's id.
    /// @return The digest.
    function keyHandoverDigest(address account, bytes32 mldsaKeyHash, bytes32 slhdsaKeyHash, bytes32 encryptionKeyHash)
        external
        view
        returns (bytes32);

    /// @notice What a checkpoint's ML-DSA-87 signature signs on this chain (see {recordCheckpoint}).
    /// @return The digest.
    function checkpointDigest(
        uint64 checkpointId,
        uint64 blockNumber,
        bytes32 blockHash,
        bytes32 stateRoot,
        bytes32 assetSnapshotRoot
    ) external view returns (bytes32);

    /// @notice Revokes an active sequencer (governance only). It can no longer commit, checkpoint
    ///         or re-register; when the oracle is linked to this contract it is also removed from
    ///         the oracle's reporters ({IQRMSOracle.removeRevokedReporter}).
    /// @param sequencer The sequencer.
    function revokeSequencer(address sequencer) external;

    /// @notice Key rotation: revokes `previousSequencer` in favour of `newSequencer`, which must
    ///         already be registered (with its own quote) and active. Callable by governance or by
    ///         `previousSequencer` itself (a planned hand-over to a freshly attested key). The
    ///         previous sequencer leaves the oracle's reporters as in {revokeSequencer}; the new one
    ///         becomes a reporter only if governance adds it.
    /// @param previousSequencer The sequencer being replaced.
    /// @param newSequencer Its registered successor.
    function rotateSequencer(address previousSequencer, address newSequencer) external;

    /// @notice Pauses registration, commitments and checkpoints (governance only).
    function pause() external;

    /// @notice Unpauses (governance only).
    function unpause() external;

    /// @notice Allows or disallows a workload id (governance only).
    /// @param workloadId `keccak256(MRTD ‖ RTMR0 ‖ RTMR1 ‖ RTMR2 ‖ RTMR3)`.
    /// @param allowed True to allow.
    function setWorkloadAllowed(bytes32 workloadId, bool allowed) external;

    /// @notice Replaces the PCK verifier (governance only).
    /// @param newPckVerifier The new verifier (non-zero).
    function setPckVerifier(IPckVerifier newPckVerifier) external;

    /// @notice Replaces the ML-DSA verifier, e.g. by a precompile's adapter (governance only).
    /// @param newMlDsaVerifier The new verifier (non-zero).
    function setMlDsaVerifier(IMlDsaExpandedVerifier newMlDsaVerifier) external;

    /// @notice Replaces the risk oracle (governance only).
    /// @param newOracle The new oracle (non-zero).
    function setOracle(IQRMSOracle newOracle) external;

    /// @notice The stored record of `account` (all zero if never registered).
    /// @param account The sequencer address.
    /// @return The record.
    function sequencer(address account) external view returns (Sequencer memory);

    /// @notice Whether `account` is registered, not revoked and its workload still allowed.
    /// @param account The sequencer address.
    /// @return True if it may commit.
    function isActiveSequencer(address account) external view returns (bool);

    /// @notice The latest committed batch (the replay-protection state).
    /// @return hasBatch Whether any batch was committed.
    /// @return lastBatchId The id of the latest batch (0 if none).
    /// @return lastL2EndBlock The end block of the latest batch (0 if none).
    function lastBatch() external view returns (bool hasBatch, uint64 lastBatchId, uint64 lastL2EndBlock);

    /// @notice The checkpoint stored under `checkpointId` (all zero if none).
    /// @param checkpointId The checkpoint id.
    /// @return The checkpoint.
    function checkpoint(uint64 checkpointId) external view returns (Checkpoint memory);

    /// @notice Whether `nonce` was used to register `sequencer`.
    /// @param sequencer The sequencer address.
    /// @param nonce The registration nonce.
    /// @return True if used.
    function usedNonce(address sequencer, bytes32 nonce) external view returns (bool);

    /// @notice Whether `workloadId` is allowed.
    /// @param workloadId The workload id.
    /// @return True if allowed.
    function isWorkloadAllowed(bytes32 workloadId) external view returns (bool);

    /// @notice Whether the contract is paused.
    /// @return True if paused.
    function paused() external view returns (bool);

    /// @notice The risk oracle consulted by {commitBatch}.
    /// @return The oracle.
    function oracle() external view returns (IQRMSOracle);

    /// @notice The PCK verifier consulted by {registerSequencer}.
    /// @return The verifier.
    function pckVerifier() external view returns (IPckVerifier);

    /// @notice The ML-DSA-87 verifier consulted by {commitBatchPq}.
    /// @return The verifier.
    function mldsaVerifier() external view returns (IMlDsaExpandedVerifier);

    /// @notice The EIP-712 domain separator for the current chain.
    /// @return The domain separator.
    function domainSeparator() external view returns (bytes32);

    /// @notice The EIP-712 digest a sequencer signs for {commitBatch}.
    /// @param batchId Batch id.
    /// @param l2StartBlock First L2 block.
    /// @param l2EndBlock Last L2 block.
    /// @param commitment The commitment.
    /// @param mldsaSigHash ML-DSA-87 signature hash or zero.
    /// @param slhdsaSigHash SLH-DSA-256s signature hash or zero.
    /// @return The digest.
    function batchCommitmentDigest(
        uint64 batchId,
        uint64 l2StartBlock,
        uint64 l2EndBlock,
        bytes32 commitment,
        bytes32 mldsaSigHash,
        bytes32 slhdsaSigHash
    ) external view returns (bytes32);

    /// @notice The EIP-712 digest a sequencer signs with ML-DSA-87 for {commitBatchPq}.
    /// @param account The sequencer.
    /// @param batchId Batch id.
    /// @param l2StartBlock First L2 block.
    /// @param l2EndBlock Last L2 block.
    /// @param commitment The commitment.
    /// @param slhdsaSigHash SLH-DSA-256s signature hash or zero.
    /// @return The digest (the message M of the ML-DSA signature).
    function pqBatchCommitmentDigest(
        address account,
        uint64 batchId,
        uint64 l2StartBlock,
        uint64 l2EndBlock,
        bytes32 commitment,
        bytes32 slhdsaSigHash
    ) external view returns (bytes32);

    /// @notice The REPORTDATA (format v3) of a quote.
    /// @param account The sequencer's ECDSA address.
    /// @param mldsaKeyHash `keccak256` of the ML-DSA-87 public key.
    /// @param slhdsaKeyHash `keccak256` of the SLH-DSA-256s public key.
    /// @param encryptionKeyHash `keccak256` of the mempool encryption public key encoding.
    /// @param binding The nonce (or, for batch quotes, the batch commitment).
    /// @param domain {reportDataDomain} of the quote's purpose, chain id and verifying contract.
    /// @return reportData The 64 bytes.
    function expectedReportData(
        address account,
        bytes32 mldsaKeyHash,
        bytes32 slhdsaKeyHash,
        bytes32 encryptionKeyHash,
        bytes32 binding,
        bytes32 domain
    ) external pure returns (bytes memory reportData);

    /// @notice The REPORTDATA v3 domain: `keccak256(abi.encode(uint8 purpose, uint256 chainId,
    ///         address verifyingContract))` (96 bytes hashed). This contract's registrations use
    ///         `(REGISTRATION, block.chainid, address(this))`, key updates `(KEY_UPDATE, …)`.
    /// @param purpose What the quote is for.
    /// @param chainId The chain id (of the contract's chain, or the L2 for off-chain quotes).
    /// @param verifyingContract The contract that checks the quote, or zero for off-chain quotes.
    /// @return The domain hash.
    function reportDataDomain(ReportDataPurpose purpose, uint256 chainId, address verifyingContract)
        external
        pure
        returns (bytes32);

    /// @notice Parses a quote and checks its structure (no signatures, no policy).
    /// @param quote Raw TDX quote v4.
    /// @return parsed The fields.
    function parseQuote(bytes calldata quote) external pure returns (TdxQuote memory parsed);

    /// @notice Fully verifies a quote (structure, debug attribute, attestation signature, QE
    ///         binding, PCK via the verifier, QE signature) without policy checks or state changes.
    /// @param quote Raw TDX quote v4.
    /// @param pckKeyHint Passed to the PCK verifier.
    /// @return parsed The fields.
    /// @return pckKeyHash `keccak256(pckX ‖ pckY)` of the accepted PCK key.
    function verifyQuote(bytes calldata quote, bytes calldata pckKeyHint)
        external
        view
        returns (TdxQuote memory parsed, bytes32 pckKeyHash);
}
