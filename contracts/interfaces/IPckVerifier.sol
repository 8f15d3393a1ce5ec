// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {ISemver} from "./ISemver.sol";

/// @title IPckVerifier
/// @notice Pluggable trust anchor for the Provisioning Certification Key (PCK) that signs a TDX
///         quote's QE report. {SequencerAttestation} parses and checks the quote itself (layout,
///         attestation-key signature, QE report data binding) and asks the verifier for the PCK
///         public key, with which it then checks the QE report signature.
///
///         - A production verifier (e.g. backed by Automata's on-chain DCAP contracts) validates
///           `pckCertChain` up to the Intel SGX root CA (and, as it sees fit, CRLs, TCB status and
///           QE identity using `quote`), derives the PCK key from the leaf certificate and ignores
///           `pckKeyHint`.
///         - {DevPckVerifier} cannot parse X.509 on chain: it accepts the key given in `pckKeyHint`
///           if governance allow-listed it.
/// @dev `view` so that a verifier cannot re-enter the registry (called with STATICCALL). A
///      verifier needing state (e.g. a cache of chains verified in earlier transactions) updates
///      it outside this call.
interface IPckVerifier is ISemver {
    /// @notice Returns the trusted PCK public key for a quote, or reverts.
    /// @param quote The complete raw quote (for verifiers that check TCB / QE identity).
    /// @param pckCertChain The quote's inner certification data of type 5: the PEM PCK chain
    ///        (leaf, intermediate, root), exactly as in the quote.
    /// @param pckKeyHint Optional caller-supplied hint: the uncompressed P-256 PCK public key
    ///        `x ‖ y` (64 bytes, big-endian coordinates). Verifiers that derive the key from the
    ///        chain ignore it.
    /// @return pckKeyX The PCK public key's x coordinate.
    /// @return pckKeyY The PCK public key's y coordinate.
    function verifyPck(bytes calldata quote, bytes calldata pckCertChain, bytes calldata pckKeyHint)
        external
        view
        returns (bytes32 pckKeyX, bytes32 pckKeyY);
}
