// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {P256} from "@openzeppelin/contracts/utils/cryptography/P256.sol";
import {ISequencerAttestation} from "../interfaces/ISequencerAttestation.sol";

/// @title TdxQuoteLib
/// @notice Calldata parser and signature checks for Intel TDX quotes, version 4, with an
///         ECDSA-256-with-P-256 attestation key and certification data type 6. Offsets in bytes:
///
///         [0,48)      header: version u16 LE (4), attestation key type u16 LE (2), TEE type u32 LE (0x81), ...
///         [48,632)    TD report body: TDATTRIBUTES [168,176), MRTD [184,232), RTMR0..3 [376,568),
///                     REPORTDATA [568,632)
///         [632,636)   auth data size u32 LE (everything after it that belongs to the quote)
///         [636,700)   ECDSA P-256 signature r ‖ s over sha256(quote[0,632))
///         [700,764)   attestation public key x ‖ y
///         [764,766)   certification data type u16 LE (6), [766,770) its size u32 LE
///         [770,1154)  QE report (384 bytes; its REPORTDATA is [1090,1154))
///         [1154,1218) QE report signature r ‖ s by the PCK key over sha256(QE report)
///         [1218,1220) QE auth data size u16 LE, then the QE auth data
///         then        inner certification data: type u16 LE (5), size u32 LE, PEM PCK chain
///
///         Size rules enforced: `636 + authDataSize <= quote.length` and every byte after it is
///         zero (real quotes carry zero padding); `770 + certDataSize == 636 + authDataSize`; the
///         inner certification data ends exactly where the outer one ends. Minimum length 1226
///         (empty QE auth data and PCK chain), maximum `MAX_QUOTE_LENGTH` (16 KiB; real quotes are
///         about 5 KiB, a PCK chain about 3.7 KiB).
/// @dev Errors are {ISequencerAttestation}'s, this library being its quote front end. All readers
///      take `bytes calldata` and never copy more than they hash.
library TdxQuoteLib {
    uint16 internal constant QUOTE_VERSION = 4;
    uint16 internal constant ATTESTATION_KEY_TYPE_ECDSA_P256 = 2;
    uint32 internal constant TEE_TYPE_TDX = 0x81;
    uint16 internal constant CERT_DATA_TYPE_QE_REPORT = 6;
    uint16 internal constant CERT_DATA_TYPE_PCK_CHAIN = 5;

    uint256 internal constant SIGNED_LENGTH = 632;
    uint256 internal constant OFFSET_TD_ATTRIBUTES = 168;
    uint256 internal constant OFFSET_MRTD = 184;
    uint256 internal constant OFFSET_RTMR0 = 376;
    uint256 internal constant MEASUREMENT_LENGTH = 48;
    uint256 internal constant OFFSET_REPORT_DATA = 568;
    uint256 internal constant OFFSET_AUTH_DATA_SIZE = 632;
    uint256 internal constant OFFSET_AUTH_DATA = 636;
    uint256 internal constant OFFSET_QUOTE_SIGNATURE = 636;
    uint256 internal constant OFFSET_ATTESTATION_KEY = 700;
    uint256 internal constant OFFSET_CERT_DATA_TYPE = 764;
    uint256 internal constant OFFSET_CERT_DATA_SIZE = 766;
    uint256 internal constant OFFSET_CERT_DATA = 770;
    uint256 internal constant OFFSET_QE_REPORT = 770;
    uint256 internal constant QE_REPORT_LENGTH = 384;
    uint256 internal constant OFFSET_QE_REPORT_DATA = 1090;
    uint256 internal constant OFFSET_QE_SIGNATURE = 1154;
    uint256 internal constant OFFSET_QE_AUTH_DATA_SIZE = 1218;
    uint256 internal constant OFFSET_QE_AUTH_DATA = 1220;
    uint256 internal constant MIN_QUOTE_LENGTH = 1226;
    uint256 internal constant MAX_QUOTE_LENGTH = 16_384;

    /// @dev secp256r1 group order and half of it (signatures are normalised to low s).
    uint256 private constant P256_N = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551;
    uint256 private constant P256_HALF_N = 0x7FFFFFFF800000007FFFFFFFFFFFFFFFDE737D56D38BCF4279DCE5617E3192A8;

    /// @notice Variable-length parts of a quote whose structure was checked.
    struct Layout {
        uint256 qeAuthDataOffset;
        uint256 qeAuthDataLength;
        uint256 pckCertChainOffset;
        uint256 pckCertChainLength;
    }

    /// @notice Checks the header and every size field; returns where the variable parts are.
    /// @param quote The raw quote.
    /// @return parts Offsets and lengths of the QE auth data and the PCK chain.
    function checkLayout(bytes calldata quote) internal pure returns (Layout memory parts) {
        uint256 length = quote.length;
        if (length < MIN_QUOTE_LENGTH) {
            revert ISequencerAttestation.SequencerAttestation_QuoteTooShort(length, MIN_QUOTE_LENGTH);
        }
        if (length > MAX_QUOTE_LENGTH) {
            revert ISequencerAttestation.SequencerAttestation_QuoteTooLong(length, MAX_QUOTE_LENGTH);
        }

        uint16 quoteVersion = uint16(readLe(quote, 0, 2));
        if (quoteVersion != QUOTE_VERSION) {
            revert ISequencerAttestation.SequencerAttestation_UnsupportedQuoteVersion(quoteVersion);
        }
        uint16 keyType = uint16(readLe(quote, 2, 2));
        if (keyType != ATTESTATION_KEY_TYPE_ECDSA_P256) {
            revert ISequencerAttestation.SequencerAttestation_UnsupportedAttestationKeyType(keyType);
        }
        uint32 teeType = uint32(readLe(quote, 4, 4));
        if (teeType != TEE_TYPE_TDX) revert ISequencerAttestation.SequencerAttestation_UnsupportedTeeType(teeType);

        uint256 authDataEnd = OFFSET_AUTH_DATA + readLe(quote, OFFSET_AUTH_DATA_SIZE, 4);
        if (authDataEnd > length) {
            revert ISequencerAttestation.SequencerAttestation_AuthDataSizeMismatch(authDataEnd, length);
        }

        uint16 certType = uint16(readLe(quote, OFFSET_CERT_DATA_TYPE, 2));
        if (certType != CERT_DATA_TYPE_QE_REPORT) {
            revert ISequencerAttestation.SequencerAttestation_UnsupportedCertificationDataType(certType);
        }
        uint256 certDataEnd = OFFSET_CERT_DATA + readLe(quote, OFFSET_CERT_DATA_SIZE, 4);
        if (certDataEnd != authDataEnd) {
            revert ISequencerAttestation.SequencerAttestation_CertificationDataSizeMismatch(certDataEnd, authDataEnd);
        }

        uint256 qeAuthLength = readLe(quote, OFFSET_QE_AUTH_DATA_SIZE, 2);
        uint256 innerHeader = OFFSET_QE_AUTH_DATA + qeAuthLength;
        // The inner certification data header (6 bytes) must fit as well.
        if (innerHeader + 6 > certDataEnd) {
            revert ISequencerAttestation.SequencerAttestation_QeAuthDataOutOfBounds(innerHeader + 6, certDataEnd);
        }
        uint16 pckType = uint16(readLe(quote, innerHeader, 2));
        if (pckType != CERT_DATA_TYPE_PCK_CHAIN) {
            revert ISequencerAttestation.SequencerAttestation_UnsupportedPckCertDataType(pckType);
        }
        uint256 pckLength = readLe(quote, innerHeader + 2, 4);
        if (innerHeader + 6 + pckLength != certDataEnd) {
            revert ISequencerAttestation.SequencerAttestation_PckCertDataSizeMismatch(
                innerHeader + 6 + pckLength, certDataEnd
            );
        }

        // Anything after the auth data must be zero padding.
        _checkZeroPadding(quote, authDataEnd);

        parts.qeAuthDataOffset = OFFSET_QE_AUTH_DATA;
        parts.qeAuthDataLength = qeAuthLength;
        parts.pckCertChainOffset = innerHeader + 6;
        parts.pckCertChainLength = pckLength;
    }

    /// @dev Reverts unless every byte of `quote[start:]` is zero.
    function _checkZeroPadding(bytes calldata quote, uint256 start) private pure {
        uint256 length = quote.length;
        for (uint256 i = start; i < length; i += 32) {
            uint256 word;
            assembly ("memory-safe") {
                word := calldataload(add(quote.offset, i))
            }
            uint256 remaining = length - i;
            if (remaining < 32) word >>= (32 - remaining) * 8;
            if (word != 0) revert ISequencerAttestation.SequencerAttestation_TrailingData();
        }
    }

    /// @notice Whether the TD has the DEBUG attribute (TDATTRIBUTES bit 0).
    /// @param quote A quote whose parts was checked.
    /// @return True for a debug TD.
    function isDebugTd(bytes calldata quote) internal pure returns (bool) {
        return uint8(quote[OFFSET_TD_ATTRIBUTES]) & 1 != 0;
    }

    /// @notice `keccak256(MRTD ‖ RTMR0 ‖ RTMR1 ‖ RTMR2 ‖ RTMR3)` (240 bytes).
    /// @param quote A quote of at least 632 bytes.
    /// @return id The workload id.
    function workloadId(bytes calldata quote) internal pure returns (bytes32 id) {
        require(quote.length >= SIGNED_LENGTH);
        assembly ("memory-safe") {
            let ptr := mload(0x40)
            calldatacopy(ptr, add(quote.offset, OFFSET_MRTD), MEASUREMENT_LENGTH)
            calldatacopy(add(ptr, MEASUREMENT_LENGTH), add(quote.offset, OFFSET_RTMR0), mul(4, MEASUREMENT_LENGTH))
            id := keccak256(ptr, mul(5, MEASUREMENT_LENGTH))
        }
    }

    /// @notice Checks the attestation key's signature over `sha256(quote[0:632])`.
    /// @param quote A quote whose parts was checked.
    /// @return True if valid.
    function verifyQuoteSignature(bytes calldata quote) internal view returns (bool) {
        return verifyP256(
            sha256(quote[0:SIGNED_LENGTH]),
            bytes32(quote[OFFSET_QUOTE_SIGNATURE:OFFSET_QUOTE_SIGNATURE + 32]),
            bytes32(quote[OFFSET_QUOTE_SIGNATURE + 32:OFFSET_QUOTE_SIGNATURE + 64]),
            bytes32(quote[OFFSET_ATTESTATION_KEY:OFFSET_ATTESTATION_KEY + 32]),
            bytes32(quote[OFFSET_ATTESTATION_KEY + 32:OFFSET_ATTESTATION_KEY + 64])
        );
    }

    /// @notice Checks that the QE report data is `sha256(attestationKey ‖ qeAuthData) ‖ 0^32`.
    /// @param quote A quote whose parts was checked.
    /// @param parts Its parts.
    /// @return True if the attestation key is bound.
    function qeReportDataMatches(bytes calldata quote, Layout memory parts) internal pure returns (bool) {
        bytes32 expected = sha256(
            bytes.concat(
                quote[OFFSET_ATTESTATION_KEY:OFFSET_ATTESTATION_KEY + 64],
                quote[parts.qeAuthDataOffset:parts.qeAuthDataOffset + parts.qeAuthDataLength]
            )
        );
        return bytes32(quote[OFFSET_QE_REPORT_DATA:OFFSET_QE_REPORT_DATA + 32]) == expected
            && bytes32(quote[OFFSET_QE_REPORT_DATA + 32:OFFSET_QE_REPORT_DATA + 64]) == bytes32(0);
    }

    /// @notice Checks the QE report signature `P256(pck, sha256(quote[770:1154]))`.
    /// @param quote A quote whose parts was checked.
    /// @param pckKeyX PCK public key x.
    /// @param pckKeyY PCK public key y.
    /// @return True if valid.
    function verifyQeReportSignature(bytes calldata quote, bytes32 pckKeyX, bytes32 pckKeyY)
        internal
        view
        returns (bool)
    {
        return verifyP256(
            sha256(quote[OFFSET_QE_REPORT:OFFSET_QE_REPORT + QE_REPORT_LENGTH]),
            bytes32(quote[OFFSET_QE_SIGNATURE:OFFSET_QE_SIGNATURE + 32]),
            bytes32(quote[OFFSET_QE_SIGNATURE + 32:OFFSET_QE_SIGNATURE + 64]),
            pckKeyX,
            pckKeyY
        );
    }

    /// @notice P-256 ECDSA verification through the P256VERIFY precompile (0x100) when present,
    ///         OpenZeppelin's Solidity implementation otherwise. High-s signatures (as produced by
    ///         the QE / PCK) are normalised to `N - s` first: malleability is irrelevant for
    ///         attestation, and OpenZeppelin only accepts low s.
    function verifyP256(bytes32 h, bytes32 r, bytes32 s, bytes32 qx, bytes32 qy) internal view returns (bool) {
        uint256 sv = uint256(s);
        if (sv > P256_HALF_N && sv < P256_N) s = bytes32(P256_N - sv);
        return P256.verify(h, r, s, qx, qy);
    }

    /// @notice Reads an unsigned little-endian integer of `size` (<= 32) bytes at `offset`.
    function readLe(bytes calldata data, uint256 offset, uint256 size) internal pure returns (uint256 value) {
        require(offset + size <= data.length);
        for (uint256 i = size; i > 0; --i) {
            value = (value << 8) | uint8(data[offset + i - 1]);
        }
    }
}
