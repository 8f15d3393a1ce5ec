// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {DevPckVerifier} from "../contracts/DevPckVerifier.sol";
import {MlDsa87Verifier} from "../contracts/MlDsa87Verifier.sol";
import {QRMSOracle} from "../contracts/QRMSOracle.sol";
import {SequencerAttestation} from "../contracts/SequencerAttestation.sol";
import {IMlDsaExpandedVerifier} from "../contracts/interfaces/IMlDsaVerifier.sol";
import {IPckVerifier} from "../contracts/interfaces/IPckVerifier.sol";
import {IQRMSOracle} from "../contracts/interfaces/IQRMSOracle.sol";
import {Vm, VM} from "../test/lib/Vm.sol";

/// @title DeployBase
/// @notice Configuration from environment variables and deployment steps shared by the scripts.
///         forge-std's Script is unavailable offline; the cheatcodes come from test/lib/Vm.sol.
///
///         Environment (all optional; leave a variable unset to get its default):
///           AEGIS_GOVERNANCE                  governance address (default: the broadcasting account)
///           AEGIS_ORACLE_REPORTERS            comma-separated reporter addresses (default: governance)
///           AEGIS_ORACLE_QUORUM               fresh reports needed (default: a majority of the reporters,
///                                             n / 2 + 1, so 1 for one reporter and at least 2 for
///                                             more; the oracle refuses 1 with two or more reporters)
///           AEGIS_ORACLE_MAX_REPORT_AGE       seconds (default 86400)
///           AEGIS_ORACLE_SCHEDULED_THRESHOLD  basis points (default 6000)
///           AEGIS_ORACLE_EMERGENCY_THRESHOLD  basis points (default 9000)
///           AEGIS_WORKLOAD_IDS                comma-separated bytes32 workload ids to allow (default none)
///           AEGIS_DEV_PCK_KEYS                hex of one or more concatenated 64-byte PCK keys x ‖ y to
///                                             allow-list in a new DevPckVerifier (default none)
///           AEGIS_ORACLE_ATTESTATION          the SequencerAttestation whose revoked sequencers leave the
///                                             reporters (DeployQRMSOracle; default none — DeployAll
///                                             links the registry it deploys)
///           AEGIS_ORACLE                      existing oracle (DeploySequencerAttestation; required there;
///                                             its governance must then call setAttestation)
///           AEGIS_PCK_VERIFIER                existing PCK verifier (e.g. a production DCAP-backed one);
///                                             when unset a DevPckVerifier is deployed
///           AEGIS_MLDSA_VERIFIER              existing ML-DSA-87 verifier; when unset an
///                                             MlDsa87Verifier is deployed
abstract contract DeployBase {
    Vm internal constant vm = VM;

    struct OracleConfig {
        address governance;
        address[] reporters;
        uint8 quorum;
        uint32 maxReportAge;
        uint16 scheduledThreshold;
        uint16 emergencyThreshold;
        address attestation;
    }

    struct AttestationConfig {
        address governance;
        IQRMSOracle oracle;
        IPckVerifier pckVerifier; // zero: deploy a DevPckVerifier with `devPckKeys`
        IMlDsaExpandedVerifier mldsaVerifier; // zero: deploy an MlDsa87Verifier
        DevPckVerifier.PublicKey[] devPckKeys;
        bytes32[] workloadIds;
    }

    // --- environment ------------------------------------------------------------------------------

    function governanceFromEnv() internal view returns (address) {
        return vm.envOr("AEGIS_GOVERNANCE", msg.sender);
    }

    function oracleConfigFromEnv() internal view returns (OracleConfig memory cfg) {
        cfg.governance = governanceFromEnv();
        address[] memory defaultReporters = new address[](1);
        defaultReporters[0] = cfg.governance;
        cfg.reporters = vm.envOr("AEGIS_ORACLE_REPORTERS", ",", defaultReporters);
        cfg.quorum = uint8(envUint("AEGIS_ORACLE_QUORUM", cfg.reporters.length / 2 + 1, type(uint8).max));
        require(
            cfg.reporters.length < 2 || cfg.quorum >= 2,
            "AEGIS_ORACLE_QUORUM: at least 2 with two or more reporters (one report must not decide)"
        );
        cfg.maxReportAge = uint32(envUint("AEGIS_ORACLE_MAX_REPORT_AGE", 1 days, type(uint32).max));
        cfg.scheduledThreshold = uint16(envUint("AEGIS_ORACLE_SCHEDULED_THRESHOLD", 6000, type(uint16).max));
        cfg.emergencyThreshold = uint16(envUint("AEGIS_ORACLE_EMERGENCY_THRESHOLD", 9000, type(uint16).max));
        cfg.attestation = vm.envOr("AEGIS_ORACLE_ATTESTATION", address(0));
    }

    /// @dev `name` as an unsigned integer (or `defaultValue`), refusing values above `max`
    ///      instead of truncating them.
    function envUint(string memory name, uint256 defaultValue, uint256 max) internal view returns (uint256 value) {
        value = vm.envOr(name, defaultValue);
        require(value <= max, string.concat(name, ": value out of range"));
    }

    function attestationConfigFromEnv(IQRMSOracle oracle) internal view returns (AttestationConfig memory cfg) {
        cfg.governance = governanceFromEnv();
        cfg.oracle = oracle;
        cfg.pckVerifier = IPckVerifier(vm.envOr("AEGIS_PCK_VERIFIER", address(0)));
        cfg.mldsaVerifier = IMlDsaExpandedVerifier(vm.envOr("AEGIS_MLDSA_VERIFIER", address(0)));
        cfg.devPckKeys = parsePckKeys(vm.envOr("AEGIS_DEV_PCK_KEYS", new bytes(0)));
        cfg.workloadIds = vm.envOr("AEGIS_WORKLOAD_IDS", ",", new bytes32[](0));
    }

    /// @dev Splits concatenated 64-byte `x ‖ y` keys.
    function parsePckKeys(bytes memory raw) internal pure returns (DevPckVerifier.PublicKey[] memory keys) {
        require(raw.length % 64 == 0, "AEGIS_DEV_PCK_KEYS: length must be a multiple of 64 bytes");
        keys = new DevPckVerifier.PublicKey[](raw.length / 64);
        for (uint256 i = 0; i < keys.length; ++i) {
            bytes32 x;
            bytes32 y;
            assembly ("memory-safe") {
                x := mload(add(raw, add(32, mul(i, 64))))
                y := mload(add(raw, add(64, mul(i, 64))))
            }
            keys[i] = DevPckVerifier.PublicKey(x, y);
        }
    }

    // --- deployment steps (called between start/stopBroadcast) ------------------------------------

    function deployOracle(OracleConfig memory cfg) internal returns (QRMSOracle) {
        return new QRMSOracle(
            cfg.governance,
            cfg.reporters,
            cfg.quorum,
            cfg.maxReportAge,
            cfg.scheduledThreshold,
            cfg.emergencyThreshold,
            cfg.attestation
        );
    }

    /// @dev The address of the contract `deployer` creates with `nonce` (CREATE:
    ///      `keccak256(rlp([deployer, nonce]))[12:]`).
    function createAddress(address deployer, uint256 nonce) internal pure returns (address) {
        bytes memory n;
        if (nonce == 0) {
            n = hex"80";
        } else if (nonce < 0x80) {
            // forge-lint: disable-next-line(unsafe-typecast) one RLP byte
            n = abi.encodePacked(uint8(nonce));
        } else {
            uint256 len;
            for (uint256 v = nonce; v != 0; v >>= 8) {
                ++len;
            }
            n = new bytes(len);
            for (uint256 i = 0; i < len; ++i) {
                // forge-lint: disable-next-line(unsafe-typecast) one RLP byte
                n[len - 1 - i] = bytes1(uint8(nonce >> (8 * i)));
            }
            // forge-lint: disable-next-line(unsafe-typecast) one RLP byte
            n = abi.encodePacked(uint8(0x80 + len), n);
        }
        bytes memory payload = abi.encodePacked(bytes1(0x94), deployer, n);
        return address(uint160(uint256(keccak256(abi.encodePacked(uint8(0xc0 + payload.length), payload)))));
    }

    function deployAttestation(AttestationConfig memory cfg)
        internal
        returns (SequencerAttestation attestation, IPckVerifier pckVerifier)
    {
        pckVerifier = cfg.pckVerifier;
        if (address(pckVerifier) == address(0)) {
            pckVerifier = new DevPckVerifier(cfg.governance, cfg.devPckKeys);
        }
        IMlDsaExpandedVerifier mldsaVerifier = cfg.mldsaVerifier;
        if (address(mldsaVerifier) == address(0)) {
            mldsaVerifier = new MlDsa87Verifier();
        }
        attestation = new SequencerAttestation(cfg.governance, cfg.oracle, pckVerifier, mldsaVerifier, cfg.workloadIds);
    }
}
