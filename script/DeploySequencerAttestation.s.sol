// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {SequencerAttestation} from "../contracts/SequencerAttestation.sol";
import {IPckVerifier} from "../contracts/interfaces/IPckVerifier.sol";
import {IQRMSOracle} from "../contracts/interfaces/IQRMSOracle.sol";
import {DeployBase} from "./DeployBase.sol";

/// @title DeploySequencerAttestation
/// @notice Deploys a {SequencerAttestation} against the oracle at AEGIS_ORACLE, with the PCK
///         verifier at AEGIS_PCK_VERIFIER or a new DevPckVerifier (AEGIS_DEV_PCK_KEYS), allowing
///         AEGIS_WORKLOAD_IDS (see {DeployBase}).
contract DeploySequencerAttestation is DeployBase {
    /// @notice Script entry point.
    /// @return attestation The deployed registry.
    /// @return pckVerifier The PCK verifier it uses (new DevPckVerifier unless AEGIS_PCK_VERIFIER was set).
    function run() external returns (SequencerAttestation attestation, IPckVerifier pckVerifier) {
        address oracle = vm.envOr("AEGIS_ORACLE", address(0));
        require(oracle != address(0), "AEGIS_ORACLE is required");
        AttestationConfig memory cfg = attestationConfigFromEnv(IQRMSOracle(oracle));
        vm.startBroadcast();
        (attestation, pckVerifier) = deployAttestation(cfg);
        vm.stopBroadcast();
    }
}
