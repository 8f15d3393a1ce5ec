// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {QRMSOracle} from "../contracts/QRMSOracle.sol";
import {SequencerAttestation} from "../contracts/SequencerAttestation.sol";
import {IPckVerifier} from "../contracts/interfaces/IPckVerifier.sol";
import {IQRMSOracle} from "../contracts/interfaces/IQRMSOracle.sol";
import {DeployBase} from "./DeployBase.sol";

/// @title DeployAll
/// @notice Deploys {QRMSOracle}, the PCK verifier (DevPckVerifier unless AEGIS_PCK_VERIFIER is
///         set), the ML-DSA-87 verifier (MlDsa87Verifier unless AEGIS_MLDSA_VERIFIER is set) and
///         {SequencerAttestation}, configured from AEGIS_* variables (see {DeployBase}).
///         All configuration goes through constructors, so governance need not be the deployer.
///         `forge script script/DeployAll.s.sol --rpc-url $RPC --private-key $KEY --broadcast`
contract DeployAll is DeployBase {
    /// @notice Script entry point.
    /// @return oracle The deployed oracle.
    /// @return pckVerifier The PCK verifier in use.
    /// @return attestation The deployed registry.
    function run() external returns (QRMSOracle oracle, IPckVerifier pckVerifier, SequencerAttestation attestation) {
        OracleConfig memory oracleCfg = oracleConfigFromEnv();
        // The oracle is linked to the registry deployed after it (revoked sequencers leave the
        // reporters): its address is predicted from the deployer's nonce — oracle, then the
        // DevPckVerifier unless AEGIS_PCK_VERIFIER is set, the MlDsa87Verifier unless
        // AEGIS_MLDSA_VERIFIER is set, then the registry.
        address deployer = msg.sender;
        AttestationConfig memory cfg = attestationConfigFromEnv(IQRMSOracle(address(0)));
        uint256 nonce = vm.getNonce(deployer);
        uint256 before =
            1 + (address(cfg.pckVerifier) == address(0) ? 1 : 0) + (address(cfg.mldsaVerifier) == address(0) ? 1 : 0);
        oracleCfg.attestation = createAddress(deployer, nonce + before);
        vm.startBroadcast(deployer);
        oracle = deployOracle(oracleCfg);
        cfg.oracle = oracle;
        (attestation, pckVerifier) = deployAttestation(cfg);
        vm.stopBroadcast();
        require(address(attestation) == oracleCfg.attestation, "DeployAll: registry not at the predicted address");
    }
}
