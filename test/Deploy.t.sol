// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {DevPckVerifier} from "../contracts/DevPckVerifier.sol";
import {QRMSOracle} from "../contracts/QRMSOracle.sol";
import {SequencerAttestation} from "../contracts/SequencerAttestation.sol";
import {IPckVerifier} from "../contracts/interfaces/IPckVerifier.sol";
import {DeployAll} from "../script/DeployAll.s.sol";
import {DeployQRMSOracle} from "../script/DeployQRMSOracle.s.sol";
import {DeploySequencerAttestation} from "../script/DeploySequencerAttestation.s.sol";
import {AttestationFixture} from "./lib/AttestationFixture.sol";
import {QuoteBuilder} from "./lib/QuoteBuilder.sol";

/// @notice Runs the deployment scripts with AEGIS_* variables and uses what they deployed.
/// @dev Environment variables are process-wide: everything that sets them is in one test.
contract DeployScriptsTest is AttestationFixture {
    address internal constant GOV = address(0x6006);

    function test_scripts_fromEnvironment() public {
        // --- DeployAll ---------------------------------------------------------------------------
        vm.setEnv("AEGIS_GOVERNANCE", vm.toString(GOV));
        vm.setEnv("AEGIS_ORACLE_REPORTERS", string.concat(vm.toString(REPORTER_A), ",", vm.toString(REPORTER_B)));
        vm.setEnv("AEGIS_ORACLE_QUORUM", "2");
        vm.setEnv("AEGIS_ORACLE_MAX_REPORT_AGE", "3600");
        vm.setEnv("AEGIS_ORACLE_SCHEDULED_THRESHOLD", "5000");
        vm.setEnv("AEGIS_ORACLE_EMERGENCY_THRESHOLD", "8000");
        vm.setEnv("AEGIS_WORKLOAD_IDS", string.concat(vm.toString(workload), ",", vm.toString(keccak256("w2"))));
        (uint256 x2, uint256 y2) = vm.publicKeyP256(0x1234);
        vm.setEnv("AEGIS_DEV_PCK_KEYS", vm.toString(bytes.concat(pckHint, abi.encodePacked(x2, y2))));

        (QRMSOracle o, IPckVerifier v, SequencerAttestation a) = new DeployAll().run();

        assertEq(o.governance(), GOV);
        assertEq(o.reporters().length, 2);
        assertTrue(o.isReporter(REPORTER_A) && o.isReporter(REPORTER_B));
        assertEq(o.quorum(), 2);
        assertEq(o.maxReportAge(), 3600);
        (uint16 s, uint16 e) = o.thresholds();
        assertEq(s, 5000);
        assertEq(e, 8000);
        DevPckVerifier dv = DevPckVerifier(address(v));
        assertEq(dv.governance(), GOV);
        assertTrue(dv.isPckKeyAllowed(keccak256(pckHint)));
        assertTrue(dv.isPckKeyAllowed(keccak256(abi.encodePacked(x2, y2))));
        assertEq(a.governance(), GOV);
        assertEq(address(a.oracle()), address(o));
        assertEq(o.attestation(), address(a), "the oracle is linked to the registry");
        assertEq(address(a.pckVerifier()), address(v));
        assertTrue(a.isWorkloadAllowed(workload) && a.isWorkloadAllowed(keccak256("w2")));

        // The deployment works end to end: register from a quote, commit a batch.
        attestation = a;
        register(SEQUENCER_KEY);
        Batch memory b = batch(1, 1, 10);
        commit(b, signBatch(SEQUENCER_KEY, b));
        (bool hasBatch,,) = a.lastBatch();
        assertTrue(hasBatch);

        // --- DeployQRMSOracle ----------------------------------------------------------------------
        QRMSOracle o2 = new DeployQRMSOracle().run();
        assertEq(o2.governance(), GOV);
        assertEq(o2.quorum(), 2);

        // --- DeploySequencerAttestation, reusing the oracle and the verifier -----------------------
        vm.setEnv("AEGIS_ORACLE", vm.toString(address(o2)));
        vm.setEnv("AEGIS_PCK_VERIFIER", vm.toString(address(v)));
        (SequencerAttestation a2, IPckVerifier v2) = new DeploySequencerAttestation().run();
        assertEq(address(v2), address(v));
        assertEq(address(a2.oracle()), address(o2));
        assertEq(address(a2.pckVerifier()), address(v));
        assertTrue(a2.isWorkloadAllowed(workload));

        // --- quorum 1 with two reporters: one report would decide; the scripts refuse it ----------
        vm.setEnv("AEGIS_ORACLE_QUORUM", "1");
        DeployQRMSOracle script = new DeployQRMSOracle();
        vm.expectRevert(
            bytes("AEGIS_ORACLE_QUORUM: at least 2 with two or more reporters (one report must not decide)")
        );
        script.run();
    }

    /// @dev The CREATE address DeployAll predicts for the registry (vectors: `cast compute-address`).
    function test_createAddress_matchesCast() public {
        Harness h = new Harness();
        address anvil0 = 0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266;
        uint256[8] memory nonces = [uint256(0), 1, 2, 127, 128, 255, 256, 70_000];
        address[8] memory expected = [
            0x5FbDB2315678afecb367f032d93F642f64180aa3,
            0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512,
            0x9fE46736679d2D9a65F0992F2272dE9f3c7fa6e0,
            0x5fc748f1FEb28d7b76fa1c6B07D8ba2d5535177c,
            0xB82008565FdC7e44609fA118A4a681E92581e680,
            0x01E21d7B8c39dc4C764c19b308Bd8b14B1ba139E,
            0x3C1Cb427D20F15563aDa8C249E71db76d7183B6c,
            0x3808BBF68110240E59B12334b301d8F31ab36363
        ];
        for (uint256 i = 0; i < nonces.length; ++i) {
            assertEq(h.create(anvil0, nonces[i]), expected[i]);
        }
    }

    function test_parsePckKeys_rejectsBadLength() public {
        Harness h = new Harness();
        vm.expectRevert(bytes("AEGIS_DEV_PCK_KEYS: length must be a multiple of 64 bytes"));
        h.parse(new bytes(65));
        DevPckVerifier.PublicKey[] memory keys = h.parse(bytes.concat(pckHint, QuoteBuilder.filled(64, 7)));
        assertEq(keys.length, 2);
        assertEq(keys[1].y, bytes32(QuoteBuilder.filled(32, 7)));
    }
}

contract Harness is DeployAll {
    function parse(bytes memory raw) external pure returns (DevPckVerifier.PublicKey[] memory) {
        return parsePckKeys(raw);
    }

    function create(address deployer, uint256 nonce) external pure returns (address) {
        return createAddress(deployer, nonce);
    }
}
