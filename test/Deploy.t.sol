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
}
