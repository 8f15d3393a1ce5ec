// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {VM} from "./Vm.sol";

/// @title QuoteBuilder
/// @notice Assembles TDX quotes v4 for tests, signed with P-256 keys through the `signP256`
///         cheatcode: header, TD report body (MRTD, RTMRs, REPORTDATA), attestation-key signature,
///         QE report whose report data binds the attestation key, QE report signature by a PCK
///         key, QE auth data and a type-5 PCK "chain" (opaque bytes for the dev verifier).
library QuoteBuilder {
    struct Params {
        uint16 version;
        uint16 attestationKeyType;
        uint32 teeType;
        uint8 tdAttributes0;
        bytes mrtd;
        bytes rtmr0;
        bytes rtmr1;
        bytes rtmr2;
        bytes rtmr3;
        bytes reportData;
        uint256 attestationKey;
        uint256 pckKey;
        bytes qeAuthData;
        uint16 certificationDataType;
        uint16 pckCertDataType;
        bytes pckCertChain;
        uint256 padding;
    }

    uint256 internal constant ATTESTATION_PRIVATE_KEY = 0xa77e57a710;
    uint256 internal constant PCK_PRIVATE_KEY = 0x9c4c0ffee;

    /// @notice Default parameters: a valid quote for `reportData`, with fixed measurements.
    function defaults(bytes memory reportData) internal pure returns (Params memory p) {
        p.version = 4;
        p.attestationKeyType = 2;
        p.teeType = 0x81;
        p.mrtd = filled(48, 0x11);
        p.rtmr0 = filled(48, 0x20);
        p.rtmr1 = filled(48, 0x21);
        p.rtmr2 = filled(48, 0x22);
        p.rtmr3 = filled(48, 0x23);
        p.reportData = reportData;
        p.attestationKey = ATTESTATION_PRIVATE_KEY;
        p.pckKey = PCK_PRIVATE_KEY;
        p.qeAuthData = filled(32, 0x5a);
        p.certificationDataType = 6;
        p.pckCertDataType = 5;
        p.pckCertChain = bytes("-----BEGIN CERTIFICATE-----\nTEST PCK CHAIN\n-----END CERTIFICATE-----\n");
    }

    /// @notice Workload id of the measurements in `p` (keccak256(MRTD ‖ RTMR0..3)).
    function workloadId(Params memory p) internal pure returns (bytes32) {
        return keccak256(bytes.concat(p.mrtd, p.rtmr0, p.rtmr1, p.rtmr2, p.rtmr3));
    }

    /// @notice The PCK public key `x ‖ y` of `p.pckKey` (the dev verifier hint).
    function pckPublicKey(Params memory p) internal pure returns (bytes memory) {
        (uint256 x, uint256 y) = VM.publicKeyP256(p.pckKey);
        return abi.encodePacked(x, y);
    }

    /// @notice Builds and signs the quote.
    function build(Params memory p) internal pure returns (bytes memory q) {
        uint256 certDataSize = 384 + 64 + 2 + p.qeAuthData.length + 6 + p.pckCertChain.length;
        uint256 authDataSize = 64 + 64 + 2 + 4 + certDataSize;
        q = new bytes(636 + authDataSize + p.padding);

        // Header.
        writeLe(q, 0, p.version, 2);
        writeLe(q, 2, p.attestationKeyType, 2);
        writeLe(q, 4, p.teeType, 4);
        copy(q, 12, hex"939a7233f79c4ca9940a0db3957f0607"); // QE vendor id (Intel), cosmetic
        // TD report body.
        q[168] = bytes1(p.tdAttributes0);
        copy(q, 184, p.mrtd);
        copy(q, 376, p.rtmr0);
        copy(q, 424, p.rtmr1);
        copy(q, 472, p.rtmr2);
        copy(q, 520, p.rtmr3);
        copy(q, 568, p.reportData);
        // Auth data.
        writeLe(q, 632, authDataSize, 4);
        (uint256 ax, uint256 ay) = VM.publicKeyP256(p.attestationKey);
        copy(q, 700, abi.encodePacked(ax, ay));
        writeLe(q, 764, p.certificationDataType, 2);
        writeLe(q, 766, certDataSize, 4);
        // QE report: arbitrary but fixed content, report data binds the attestation key.
        for (uint256 i = 770; i < 1090; ++i) {
            q[i] = bytes1(uint8(i * 7));
        }
        copy(q, 1090, abi.encodePacked(sha256(abi.encodePacked(ax, ay, p.qeAuthData)), bytes32(0)));
        writeLe(q, 1218, p.qeAuthData.length, 2);
        copy(q, 1220, p.qeAuthData);
        uint256 inner = 1220 + p.qeAuthData.length;
        writeLe(q, inner, p.pckCertDataType, 2);
        writeLe(q, inner + 2, p.pckCertChain.length, 4);
        copy(q, inner + 6, p.pckCertChain);
        // Signatures last.
        resignQuote(q, p.attestationKey);
        resignQeReport(q, p.pckKey);
    }

    /// @notice Re-signs `quote[0:632]` with `key` (after a test mutated the signed region).
    function resignQuote(bytes memory q, uint256 key) internal pure {
        (bytes32 r, bytes32 s) = VM.signP256(key, sha256(slice(q, 0, 632)));
        copy(q, 636, abi.encodePacked(r, s));
    }

    /// @notice Re-signs the QE report with `key`.
    function resignQeReport(bytes memory q, uint256 key) internal pure {
        (bytes32 r, bytes32 s) = VM.signP256(key, sha256(slice(q, 770, 384)));
        copy(q, 1154, abi.encodePacked(r, s));
    }

    function filled(uint256 length, uint8 value) internal pure returns (bytes memory b) {
        b = new bytes(length);
        for (uint256 i = 0; i < length; ++i) {
            b[i] = bytes1(value);
        }
    }

    function writeLe(bytes memory b, uint256 offset, uint256 value, uint256 size) internal pure {
        for (uint256 i = 0; i < size; ++i) {
            b[offset + i] = bytes1(uint8(value >> (8 * i)));
        }
    }

    function copy(bytes memory dst, uint256 offset, bytes memory src) internal pure {
        for (uint256 i = 0; i < src.length; ++i) {
            dst[offset + i] = src[i];
        }
    }

    function slice(bytes memory b, uint256 offset, uint256 length) internal pure returns (bytes memory out) {
        out = new bytes(length);
        for (uint256 i = 0; i < length; ++i) {
            out[i] = b[offset + i];
        }
    }
}
