// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {DevPckVerifier} from "../../contracts/DevPckVerifier.sol";
import {MlDsa87Verifier} from "../../contracts/MlDsa87Verifier.sol";
import {QRMSOracle} from "../../contracts/QRMSOracle.sol";
import {SequencerAttestation} from "../../contracts/SequencerAttestation.sol";
import {IQRMSOracle} from "../../contracts/interfaces/IQRMSOracle.sol";
import {ISequencerAttestation} from "../../contracts/interfaces/ISequencerAttestation.sol";
import {QuoteBuilder} from "./QuoteBuilder.sol";
import {StubMlDsaVerifier} from "./StubMlDsaVerifier.sol";
import {Test} from "./Test.sol";

/// @notice Deploys oracle + dev PCK verifier + ML-DSA-87 verifiers (real and stub) + registry and offers quote/signature helpers.
abstract contract AttestationFixture is Test {
    address internal constant GOVERNANCE = address(0x60f);
    address internal constant REPORTER_A = address(0xa1);
    address internal constant REPORTER_B = address(0xa2);
    address internal constant REPORTER_C = address(0xa3);
    uint256 internal constant SEQUENCER_KEY = 0x5e9;
    uint256 internal constant SEQUENCER2_KEY = 0x5e92;
    uint256 internal constant OUTSIDER_KEY = 0xbad;

    QRMSOracle internal oracle;
    DevPckVerifier internal pckVerifier;
    MlDsa87Verifier internal mldsaVerifier;
    /// @dev The registry's verifier outside the PQ tests (see {StubMlDsaVerifier}).
    StubMlDsaVerifier internal stubVerifier;
    SequencerAttestation internal attestation;
    bytes32 internal workload;
    bytes internal pckHint;

    function setUp() public virtual {
        vm.warp(1_750_000_000);
        address[] memory reporters = new address[](3);
        (reporters[0], reporters[1], reporters[2]) = (REPORTER_A, REPORTER_B, REPORTER_C);
        oracle = new QRMSOracle(GOVERNANCE, reporters, 2, 1 days, 6000, 9000, address(0));

        QuoteBuilder.Params memory p = QuoteBuilder.defaults(new bytes(64));
        workload = QuoteBuilder.workloadId(p);
        pckHint = QuoteBuilder.pckPublicKey(p);
        DevPckVerifier.PublicKey[] memory keys = new DevPckVerifier.PublicKey[](1);
        keys[0] = DevPckVerifier.PublicKey(bytes32(slice(pckHint, 0, 32)), bytes32(slice(pckHint, 32, 32)));
        pckVerifier = new DevPckVerifier(GOVERNANCE, keys);

        bytes32[] memory workloads = new bytes32[](1);
        workloads[0] = workload;
        mldsaVerifier = new MlDsa87Verifier();
        stubVerifier = new StubMlDsaVerifier();
        attestation = new SequencerAttestation(GOVERNANCE, oracle, pckVerifier, stubVerifier, workloads);
        // Revoked sequencers leave the oracle's reporters.
        vm.prank(GOVERNANCE);
        oracle.setAttestation(address(attestation));
    }

    // --- keys ---------------------------------------------------------------------------------

    function mldsaKeyHashOf(uint256 key) internal pure returns (bytes32) {
        return keccak256(abi.encodePacked("ml-dsa-87 public key", key));
    }

    function slhdsaKeyHashOf(uint256 key) internal pure returns (bytes32) {
        return keccak256(abi.encodePacked("slh-dsa-256s public key", key));
    }

    function encryptionKeyHashOf(uint256 key) internal pure returns (bytes32) {
        return keccak256(abi.encodePacked("ml-kem encryption public key", key));
    }

    function nonceOf(uint256 key) internal pure returns (bytes32) {
        return keccak256(abi.encodePacked("registration nonce", key));
    }

    /// @dev The REPORTDATA v3 domain, built here independently of the contract:
    ///      `keccak256(uint8 purpose ‖ uint256 chainId ‖ address verifyingContract)`, 32-byte words.
    function domainOf(ISequencerAttestation.ReportDataPurpose purpose, uint256 chainId, address verifyingContract)
        internal
        pure
        returns (bytes32)
    {
        return keccak256(
            bytes.concat(bytes32(uint256(purpose)), bytes32(chainId), bytes32(uint256(uint160(verifyingContract))))
        );
    }

    /// @dev The registration domain of the fixture's registry on this chain.
    function registrationDomain() internal view returns (bytes32) {
        return domainOf(ISequencerAttestation.ReportDataPurpose.REGISTRATION, block.chainid, address(attestation));
    }

    /// @dev The key-update domain of the fixture's registry on this chain.
    function keyUpdateDomain() internal view returns (bytes32) {
        return domainOf(ISequencerAttestation.ReportDataPurpose.KEY_UPDATE, block.chainid, address(attestation));
    }

    /// @dev REPORTDATA v3, built here independently of the contract.
    function reportDataV3(address account, bytes32 mh, bytes32 sh, bytes32 eh, bytes32 binding, bytes32 domain)
        internal
        pure
        returns (bytes memory)
    {
        return abi.encodePacked(account, keccak256(abi.encodePacked(mh, sh, eh, binding, domain)), bytes12(0));
    }

    /// @dev The registration REPORTDATA of test key `key`.
    function reportDataOf(uint256 key) internal view returns (bytes memory) {
        return reportDataV3(
            vm.addr(key),
            mldsaKeyHashOf(key),
            slhdsaKeyHashOf(key),
            encryptionKeyHashOf(key),
            nonceOf(key),
            registrationDomain()
        );
    }

    // --- quotes -------------------------------------------------------------------------------

    function paramsFor(uint256 key) internal view returns (QuoteBuilder.Params memory) {
        return QuoteBuilder.defaults(reportDataOf(key));
    }

    function quoteFor(uint256 key) internal view returns (bytes memory) {
        return QuoteBuilder.build(paramsFor(key));
    }

    function register(uint256 key) internal {
        attestation.registerSequencer(
            quoteFor(key),
            vm.addr(key),
            mldsaKeyHashOf(key),
            slhdsaKeyHashOf(key),
            encryptionKeyHashOf(key),
            nonceOf(key),
            pckHint
        );
    }

    // --- batch signatures ---------------------------------------------------------------------

    struct Batch {
        uint64 batchId;
        uint64 start;
        uint64 end;
        bytes32 commitment;
        bytes32 mldsaSigHash;
        bytes32 slhdsaSigHash;
    }

    function batch(uint64 id, uint64 start, uint64 end) internal pure returns (Batch memory b) {
        b = Batch(id, start, end, keccak256(abi.encode("batch", id)), keccak256(abi.encode("mldsa", id)), bytes32(0));
    }

    /// @dev Who made each signature `signBatch` returned: `commit` sends as that sequencer.
    mapping(bytes32 => address) internal signerOf;

    function signBatch(uint256 key, Batch memory b) internal returns (bytes memory) {
        bytes32 digest =
            attestation.batchCommitmentDigest(b.batchId, b.start, b.end, b.commitment, b.mldsaSigHash, b.slhdsaSigHash);
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(key, digest);
        bytes memory signature = abi.encodePacked(r, s, v);
        signerOf[keccak256(signature)] = vm.addr(key);
        return signature;
    }

    /// @dev Sends the commitment as its signer (the anchor's way); other signatures as this test.
    function commit(Batch memory b, bytes memory signature) internal {
        address signer = signerOf[keccak256(signature)];
        if (signer != address(0)) vm.prank(signer);
        attestation.commitBatch(b.batchId, b.start, b.end, b.commitment, signature, b.mldsaSigHash, b.slhdsaSigHash);
    }

    /// @dev Sends the commitment as `relayer`, a third party.
    function relay(address relayer, Batch memory b, bytes memory signature) internal {
        vm.prank(relayer);
        attestation.commitBatch(b.batchId, b.start, b.end, b.commitment, signature, b.mldsaSigHash, b.slhdsaSigHash);
    }

    // --- oracle helpers -------------------------------------------------------------------------

    uint32 internal round;

    /// @dev Moves the oracle score to `score` with two concurring reports (quorum 2).
    function setRiskScore(uint16 score) internal {
        ++round;
        vm.prank(REPORTER_A);
        oracle.submitReport(round, score);
        vm.prank(REPORTER_B);
        oracle.submitReport(round, score);
    }

    function setAlgorithm(IQRMSOracle.Algorithm alg, IQRMSOracle.AlgorithmStatus status, uint32 from) internal {
        vm.prank(GOVERNANCE);
        oracle.setAlgorithmStatus(alg, status, from);
    }

    /// @dev Transaction gas of a call into the registry, oracle and verifier storage cold.
    function txGas(address target, bytes memory data) internal returns (uint256) {
        address[] memory cold = new address[](3);
        (cold[0], cold[1], cold[2]) = (address(attestation), address(oracle), address(pckVerifier));
        return txGas(address(0), target, data, cold);
    }

    function slice(bytes memory b, uint256 offset, uint256 length) internal pure returns (bytes memory) {
        return QuoteBuilder.slice(b, offset, length);
    }
}
