// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {QRMSOracle} from "../contracts/QRMSOracle.sol";
import {DeployBase} from "./DeployBase.sol";

/// @title DeployQRMSOracle
/// @notice Deploys a {QRMSOracle} configured from AEGIS_* environment variables (see {DeployBase}).
///         `forge script script/DeployQRMSOracle.s.sol --rpc-url $RPC --private-key $KEY --broadcast`
contract DeployQRMSOracle is DeployBase {
    /// @notice Script entry point.
    /// @return oracle The deployed oracle.
    function run() external returns (QRMSOracle oracle) {
        OracleConfig memory cfg = oracleConfigFromEnv();
        vm.startBroadcast();
        oracle = deployOracle(cfg);
        vm.stopBroadcast();
    }
}
