// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {SequencerAttestation} from "../contracts/SequencerAttestation.sol";
import {ISequencerAttestation} from "../contracts/interfaces/ISequencerAttestation.sol";
import {AttestationFixture} from "./lib/AttestationFixture.sol";
import {QuoteBuilder} from "./lib/QuoteBuilder.sol";

/// @notice Registers a quote produced by the Rust TDX simulator (`aegis attest simulate`, see
///         test/fixtures/sim/README.md): REPORTDATA v3 as the node builds it for a registration
///         with the registry at `SIM_REGISTRY` on chain `SIM_CHAIN_ID`, the simulator's
///         measurements and development PCK key, verified by the contract end to end.
contract SimulatorQuoteTest is AttestationFixture {
    /// @dev Inputs of test/fixtures/sim/generate.sh (keep in sync).
    uint256 internal constant SIM_SEQUENCER_KEY = 0x5eed5e9;
    address internal constant SIM_SEQUENCER = 0xd2E65a1a6C3151e2B2b4FA44B11372681Eb819A6;
    bytes32 internal constant SIM_MLDSA_KEY_HASH = keccak256("QuantumAegis sim fixture: ML-DSA-87 public key");
    bytes32 internal constant SIM_SLHDSA_KEY_HASH = keccak256("QuantumAegis sim fixture: SLH-DSA-256s public key");
    bytes32 internal constant SIM_ENCRYPTION_KEY_HASH =
        keccak256("QuantumAegis sim fixture: ML-KEM encryption public key");
    bytes32 internal constant SIM_NONCE = keccak256("QuantumAegis sim fixture: registration nonce 1");
    /// @dev The deployment the quote is made for (REPORTDATA v3 registration domain).
    uint256 internal constant SIM_CHAIN_ID = 901;
    address internal constant SIM_REGISTRY = 0x5FbDB2315678afecb367f032d93F642f64180aa3;
    /// @dev The REPORTDATA generate.sh computed (Python, pycryptodome keccak).
    bytes internal constant SIM_REPORT_DATA = hex"d2e65a1a6c3151e2b2b4fa44b11372681eb819a6"
        hex"4f2857ddb3922ab3f9a9999ce9e4383f1699d2c64a1457e7d38be9455fb08023" hex"000000000000000000000000";

    /// @dev Emitted with the measured gas; forge prints it with `-vv`.
    event log_named_uint(string key, uint256 val);

    bytes internal simQuote;
    bytes internal simPck;
    bytes32 internal simWorkload;

    function setUp() public override {
        super.setUp();
        // The registry the quote names, at its address on its chain: the constructor runs there,
        // so the EIP-712 domain and every REPORTDATA domain use `SIM_REGISTRY` and chain 901.
        vm.chainId(SIM_CHAIN_ID);
        bytes32[] memory workloads = new bytes32[](1);
        workloads[0] = workload;
        vm.etch(
            SIM_REGISTRY,
            abi.encodePacked(
                type(SequencerAttestation).creationCode,
                abi.encode(GOVERNANCE, oracle, pckVerifier, stubVerifier, workloads)
            )
        );
        (bool ok, bytes memory runtime) = SIM_REGISTRY.call("");
        require(ok, "constructor at SIM_REGISTRY failed");
        vm.etch(SIM_REGISTRY, runtime);
        attestation = SequencerAttestation(SIM_REGISTRY);
        vm.prank(GOVERNANCE);
        oracle.setAttestation(SIM_REGISTRY);
        simQuote = readHex("test/fixtures/sim/quote.hex");
        simPck = readHex("test/fixtures/sim/pck.hex");
        // The simulator's default measurements: MRTD = a0×48, RTMR0..3 = a1×48 … a4×48.
        simWorkload = keccak256(
            bytes.concat(
                QuoteBuilder.filled(48, 0xa0),
                QuoteBuilder.filled(48, 0xa1),
                QuoteBuilder.filled(48, 0xa2),
                QuoteBuilder.filled(48, 0xa3),
                QuoteBuilder.filled(48, 0xa4)
            )
        );
        vm.startPrank(GOVERNANCE);
        pckVerifier.setPckKeyAllowed(bytes32(slice(simPck, 0, 32)), bytes32(slice(simPck, 32, 32)), true);
        attestation.setWorkloadAllowed(simWorkload, true);
        vm.stopPrank();
    }

    /// @dev A hex text file (no `0x`, trailing newline allowed) as bytes.
    function readHex(string memory path) internal view returns (bytes memory) {
        bytes memory text = bytes(vm.readFile(path));
        uint256 n = text.length;
        while (n > 0 && (text[n - 1] == "\n" || text[n - 1] == "\r" || text[n - 1] == " ")) --n;
        assembly ("memory-safe") {
            mstore(text, n)
        }
        return vm.parseBytes(string.concat("0x", string(text)));
    }

    function registerSim() internal {
        attestation.registerSequencer(
            simQuote, SIM_SEQUENCER, SIM_MLDSA_KEY_HASH, SIM_SLHDSA_KEY_HASH, SIM_ENCRYPTION_KEY_HASH, SIM_NONCE, simPck
        );
    }

    function test_simulatorQuote_fixtureInputs() public view {
        assertEq(vm.addr(SIM_SEQUENCER_KEY), SIM_SEQUENCER);
        assertEq(address(attestation), SIM_REGISTRY);
        assertEq(block.chainid, SIM_CHAIN_ID);
        assertEq(attestation.governance(), GOVERNANCE, "constructed in place");
        assertTrue(attestation.isWorkloadAllowed(workload));
        bytes32 domain = domainOf(ISequencerAttestation.ReportDataPurpose.REGISTRATION, SIM_CHAIN_ID, SIM_REGISTRY);
        assertEq(domain, registrationDomain());
        assertEq(
            SIM_REPORT_DATA,
            reportDataV3(
                SIM_SEQUENCER, SIM_MLDSA_KEY_HASH, SIM_SLHDSA_KEY_HASH, SIM_ENCRYPTION_KEY_HASH, SIM_NONCE, domain
            ),
            "Python and Solidity agree on REPORTDATA v3"
        );
    }

    function test_simulatorQuote_contents() public view {
        assertEq(simQuote.length, 1605);
        assertEq(
            sha256(simQuote), 0x48311be877fe833ff26ccaed4fb962cacd3eae32497498dae611a525224a1cab, "fixture unchanged"
        );
        assertEq(simPck.length, 64, "PCK key x || y");
        // As `aegis attest verify test/fixtures/sim/quote.hex --dev-root …` prints it.
        assertEq(simWorkload, 0xbde8182149f22e23fa800b0dedb248afe9ba5d5d9ea65985ff4782a333fe660c, "workload id");
        ISequencerAttestation.TdxQuote memory q = attestation.parseQuote(simQuote);
        assertEq(q.version, 4);
        assertEq(q.attestationKeyType, 2);
        assertEq(q.teeType, 0x81);
        assertEq(slice(simQuote, 28, 20), bytes.concat(bytes("aegis-tee-sim"), new bytes(7)), "user data");
        assertEq(q.tdAttributes, bytes8(0), "not a debug TD");
        assertEq(q.mrtd, QuoteBuilder.filled(48, 0xa0));
        assertEq(q.rtmr3, QuoteBuilder.filled(48, 0xa4));
        assertEq(q.workloadId, simWorkload);
        assertEq(q.reportData, SIM_REPORT_DATA);
        assertEq(
            q.reportData,
            attestation.expectedReportData(
                SIM_SEQUENCER,
                SIM_MLDSA_KEY_HASH,
                SIM_SLHDSA_KEY_HASH,
                SIM_ENCRYPTION_KEY_HASH,
                SIM_NONCE,
                attestation.reportDataDomain(
                    ISequencerAttestation.ReportDataPurpose.REGISTRATION, SIM_CHAIN_ID, SIM_REGISTRY
                )
            )
        );
        assertEq(q.qeAuthData, hex"000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f");
        assertEq(q.pckCertDataType, 5);
        assertEq(
            slice(q.pckCertChain, 0, 41), bytes("-----BEGIN AEGIS DEV PCK CERTIFICATE-----"), "development certificate"
        );
        (, bytes32 pckKeyHash) = attestation.verifyQuote(simQuote, simPck);
        assertEq(pckKeyHash, keccak256(simPck));
    }

    function test_simulatorQuote_registers() public {
        vm.warp(1_760_000_000);
        vm.expectEmit(address(attestation));
        emit ISequencerAttestation.SequencerRegistered(
            SIM_SEQUENCER,
            simWorkload,
            SIM_MLDSA_KEY_HASH,
            SIM_SLHDSA_KEY_HASH,
            SIM_ENCRYPTION_KEY_HASH,
            SIM_NONCE,
            keccak256(simPck)
        );
        registerSim();

        ISequencerAttestation.Sequencer memory s = attestation.sequencer(SIM_SEQUENCER);
        assertEq(s.workloadId, simWorkload);
        assertEq(s.mldsaKeyHash, SIM_MLDSA_KEY_HASH);
        assertEq(s.slhdsaKeyHash, SIM_SLHDSA_KEY_HASH);
        assertEq(s.encryptionKeyHash, SIM_ENCRYPTION_KEY_HASH);
        assertEq(s.registeredAt, 1_760_000_000);
        assertFalse(s.revoked);
        assertTrue(attestation.usedNonce(SIM_SEQUENCER, SIM_NONCE));
        assertTrue(attestation.isActiveSequencer(SIM_SEQUENCER));

        // The registered key commits batches.
        Batch memory b = batch(1, 1, 10);
        commit(b, signBatch(SIM_SEQUENCER_KEY, b));
        (bool hasBatch, uint64 lastId,) = attestation.lastBatch();
        assertTrue(hasBatch && lastId == 1);

        // The same quote cannot be submitted again.
        bytes memory quote = simQuote;
        bytes memory pck = simPck;
        vm.expectRevert(
            abi.encodeWithSelector(
                ISequencerAttestation.SequencerAttestation_NonceUsed.selector, SIM_SEQUENCER, SIM_NONCE
            )
        );
        attestation.registerSequencer(
            quote, SIM_SEQUENCER, SIM_MLDSA_KEY_HASH, SIM_SLHDSA_KEY_HASH, SIM_ENCRYPTION_KEY_HASH, SIM_NONCE, pck
        );
    }

    function test_simulatorQuote_refusedWithOtherInputs() public {
        bytes memory quote = simQuote;
        bytes memory pck = simPck;
        bytes memory mismatch =
            abi.encodeWithSelector(ISequencerAttestation.SequencerAttestation_ReportDataMismatch.selector);
        vm.expectRevert(mismatch);
        attestation.registerSequencer(
            quote, SIM_SEQUENCER, SIM_MLDSA_KEY_HASH, SIM_SLHDSA_KEY_HASH, keccak256("other key"), SIM_NONCE, pck
        );
        vm.expectRevert(mismatch);
        attestation.registerSequencer(
            quote,
            SIM_SEQUENCER,
            SIM_MLDSA_KEY_HASH,
            SIM_SLHDSA_KEY_HASH,
            SIM_ENCRYPTION_KEY_HASH,
            keccak256("other nonce"),
            pck
        );
        // Without the PCK key allow-listed the development quote is not trusted.
        vm.prank(GOVERNANCE);
        pckVerifier.setPckKeyAllowed(bytes32(slice(pck, 0, 32)), bytes32(slice(pck, 32, 32)), false);
        vm.expectRevert();
        attestation.registerSequencer(
            quote, SIM_SEQUENCER, SIM_MLDSA_KEY_HASH, SIM_SLHDSA_KEY_HASH, SIM_ENCRYPTION_KEY_HASH, SIM_NONCE, pck
        );
        assertEq(attestation.sequencer(SIM_SEQUENCER).registeredAt, 0);
    }

    /// @dev The node's quote names this registry on chain 901 for registration: the same bytes are
    ///      refused by a registry at another address, on another chain, and as a key update.
    function test_simulatorQuote_onlyForItsDeployment() public {
        bytes memory quote = simQuote;
        bytes memory pck = simPck;
        bytes memory mismatch =
            abi.encodeWithSelector(ISequencerAttestation.SequencerAttestation_ReportDataMismatch.selector);
        bytes32[] memory workloads = new bytes32[](1);
        workloads[0] = simWorkload;
        SequencerAttestation other = new SequencerAttestation(GOVERNANCE, oracle, pckVerifier, mldsaVerifier, workloads);
        vm.expectRevert(mismatch);
        other.registerSequencer(
            quote, SIM_SEQUENCER, SIM_MLDSA_KEY_HASH, SIM_SLHDSA_KEY_HASH, SIM_ENCRYPTION_KEY_HASH, SIM_NONCE, pck
        );
        // Another chain (e.g. the same deployer and nonce on L1 and L2, or a fork).
        vm.chainId(SIM_CHAIN_ID + 1);
        vm.expectRevert(mismatch);
        attestation.registerSequencer(
            quote, SIM_SEQUENCER, SIM_MLDSA_KEY_HASH, SIM_SLHDSA_KEY_HASH, SIM_ENCRYPTION_KEY_HASH, SIM_NONCE, pck
        );
        vm.chainId(SIM_CHAIN_ID);
        // Registered here, the sequencer cannot pass it off as a key update.
        registerSim();
        vm.prank(SIM_SEQUENCER);
        vm.expectRevert(mismatch);
        attestation.updateKeys(
            quote, SIM_MLDSA_KEY_HASH, SIM_SLHDSA_KEY_HASH, SIM_ENCRYPTION_KEY_HASH, keccak256("fresh nonce"), pck, ""
        );
    }

    /// @dev Whole-transaction gas of the registration (21,000 and calldata included), registry,
    ///      oracle and verifier storage cold.
    function test_simulatorQuote_registrationGas() public {
        bytes memory data = abi.encodeCall(
            attestation.registerSequencer,
            (
                simQuote,
                SIM_SEQUENCER,
                SIM_MLDSA_KEY_HASH,
                SIM_SLHDSA_KEY_HASH,
                SIM_ENCRYPTION_KEY_HASH,
                SIM_NONCE,
                simPck
            )
        );
        uint256 gas = txGas(address(attestation), data);
        emit log_named_uint("registerSequencer(simulator quote) transaction gas", gas);
        assertLe(gas, 300_000, "registration transaction gas");
        assertTrue(attestation.isActiveSequencer(SIM_SEQUENCER));
    }
}
