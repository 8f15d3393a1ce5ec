// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {QRMSOracle} from "../contracts/QRMSOracle.sol";
import {SequencerAttestation} from "../contracts/SequencerAttestation.sol";
import {IPckVerifier} from "../contracts/interfaces/IPckVerifier.sol";
import {DeployBase} from "./DeployBase.sol";

/// @title DeployAll
/// @notice Deploys {QRMSOracle}, the PCK verifier (DevPckVerifier unless AEGIS_PCK_VERIFIER is
///         set) and {SequencerAttestation}, configured from AEGIS_* variables (see {DeployBase}).
///         All configuration goes through constructors, so governance need not be the deployer.
///         `forge script script/DeployAll.s.sol --rpc-url $RPC --private-key $KEY --broadcast`
contract DeployAll is DeployBase {
    /// @notice Script entry point.
    /// @return oracle The deployed oracle.
    /// @return pckVerifier The PCK verifier in use.
    /// @return attestation The deployed registry.
    function run() external returns (QRMSOracle oracle, IPckVerifier pckVerifier, SequencerAttestation attestation) {
        OracleConfig memory oracleCfg = oracleConfigFromEnv();
        vm.startBroadcast();
        oracle = deployOracle(oracleCfg);
        AttestationConfig memory cfg = attestationConfigFromEnv(oracle);
        (attestation, pckVerifier) = deployAttestation(cfg);
        vm.stopBroadcast();
    }
}
