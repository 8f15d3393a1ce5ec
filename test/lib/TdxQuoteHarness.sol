// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {P256} from "@openzeppelin/contracts/utils/cryptography/P256.sol";
import {ISequencerAttestation} from "../../contracts/interfaces/ISequencerAttestation.sol";
import {TdxQuoteLib} from "../../contracts/lib/TdxQuoteLib.sol";

/// @notice Exposes {TdxQuoteLib} to tests (external calls so reverts can be caught).
contract TdxQuoteHarness {
    function checkLayout(bytes calldata quote) external pure returns (TdxQuoteLib.Layout memory) {
        return TdxQuoteLib.checkLayout(quote);
    }

    function verifyQuoteSignature(bytes calldata quote) external view returns (bool) {
        TdxQuoteLib.checkLayout(quote);
        return TdxQuoteLib.verifyQuoteSignature(quote);
    }

    function qeReportDataMatches(bytes calldata quote) external pure returns (bool) {
        return TdxQuoteLib.qeReportDataMatches(quote, TdxQuoteLib.checkLayout(quote));
    }

    function verifyQeReportSignature(bytes calldata quote, bytes32 x, bytes32 y) external view returns (bool) {
        TdxQuoteLib.checkLayout(quote);
        return TdxQuoteLib.verifyQeReportSignature(quote, x, y);
    }

    /// @dev The full cryptographic check of a quote against a known PCK key (no registry policy).
    function verifyAll(bytes calldata quote, bytes32 pckX, bytes32 pckY) external view returns (bool) {
        TdxQuoteLib.Layout memory parts = TdxQuoteLib.checkLayout(quote);
        if (TdxQuoteLib.isDebugTd(quote)) revert ISequencerAttestation.SequencerAttestation_DebugTd();
        if (!TdxQuoteLib.verifyQuoteSignature(quote)) {
            revert ISequencerAttestation.SequencerAttestation_InvalidQuoteSignature();
        }
        if (!TdxQuoteLib.qeReportDataMatches(quote, parts)) {
            revert ISequencerAttestation.SequencerAttestation_QeReportDataMismatch();
        }
        if (!TdxQuoteLib.verifyQeReportSignature(quote, pckX, pckY)) {
            revert ISequencerAttestation.SequencerAttestation_InvalidQeReportSignature();
        }
        return true;
    }

    function workloadId(bytes calldata quote) external pure returns (bytes32) {
        return TdxQuoteLib.workloadId(quote);
    }

    function verifyP256(bytes32 h, bytes32 r, bytes32 s, bytes32 x, bytes32 y) external view returns (bool) {
        return TdxQuoteLib.verifyP256(h, r, s, x, y);
    }

    /// @dev OpenZeppelin's pure-Solidity path only (what runs where P256VERIFY is absent).
    function verifyP256Solidity(bytes32 h, bytes32 r, bytes32 s, bytes32 x, bytes32 y) external view returns (bool) {
        return P256.verifySolidity(h, r, s, x, y);
    }

    function readLe(bytes calldata data, uint256 offset, uint256 size) external pure returns (uint256) {
        return TdxQuoteLib.readLe(data, offset, size);
    }
}
