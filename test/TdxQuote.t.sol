// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {ISequencerAttestation} from "../contracts/interfaces/ISequencerAttestation.sol";
import {TdxQuoteLib} from "../contracts/lib/TdxQuoteLib.sol";
import {AttestationFixture} from "./lib/AttestationFixture.sol";
import {QuoteBuilder} from "./lib/QuoteBuilder.sol";
import {TdxQuoteHarness} from "./lib/TdxQuoteHarness.sol";

/// @notice On-chain quote parsing and verification with quotes built (and P-256 signed) in tests.
contract TdxQuoteTest is AttestationFixture {
    TdxQuoteHarness internal harness;
    bytes32 internal pckX;
    bytes32 internal pckY;

    function setUp() public override {
        super.setUp();
        harness = new TdxQuoteHarness();
        pckX = bytes32(slice(pckHint, 0, 32));
        pckY = bytes32(slice(pckHint, 32, 32));
    }

    function defaults() internal view returns (QuoteBuilder.Params memory) {
        return paramsFor(SEQUENCER_KEY);
    }

    function expectRevertVerify(bytes memory quote, bytes memory err) internal {
        vm.expectRevert(err);
        harness.verifyAll(quote, pckX, pckY);
    }

    function verifies(bytes memory quote) internal view returns (bool) {
        try harness.verifyAll(quote, pckX, pckY) returns (bool ok) {
            return ok;
        } catch {
            return false;
        }
    }

    // --- valid quotes ---------------------------------------------------------------------------

    function test_builtQuote_verifies() public view {
        QuoteBuilder.Params memory p = defaults();
        bytes memory quote = QuoteBuilder.build(p);
        assertTrue(harness.verifyAll(quote, pckX, pckY));
        (ISequencerAttestation.TdxQuote memory parsed, bytes32 pckKeyHash) = attestation.verifyQuote(quote, pckHint);
        assertEq(pckKeyHash, keccak256(pckHint));
        assertEq(parsed.workloadId, QuoteBuilder.workloadId(p));
        assertEq(parsed.reportData, reportDataOf(SEQUENCER_KEY));
        assertEq(parsed.mrtd, p.mrtd);
        assertEq(parsed.rtmr3, p.rtmr3);
        assertEq(parsed.qeAuthData, p.qeAuthData);
        assertEq(parsed.pckCertChain, p.pckCertChain);
        assertEq(harness.workloadId(quote), workload);
    }

    function test_minimalQuote_verifies() public view {
        QuoteBuilder.Params memory p = defaults();
        p.qeAuthData = "";
        p.pckCertChain = "";
        bytes memory quote = QuoteBuilder.build(p);
        assertEq(quote.length, TdxQuoteLib.MIN_QUOTE_LENGTH);
        assertEq(attestation.MIN_QUOTE_LENGTH(), 1226);
        assertTrue(harness.verifyAll(quote, pckX, pckY));
    }

    function test_zeroPaddingUpToMaxLength_verifies() public view {
        QuoteBuilder.Params memory p = defaults();
        bytes memory unpadded = QuoteBuilder.build(p);
        p.padding = TdxQuoteLib.MAX_QUOTE_LENGTH - unpadded.length;
        bytes memory quote = QuoteBuilder.build(p);
        assertEq(quote.length, attestation.MAX_QUOTE_LENGTH());
        assertEq(quote.length, 16_384);
        assertTrue(harness.verifyAll(quote, pckX, pckY));
    }

    function test_highSQuoteSignature_isNormalised() public view {
        bytes memory quote = QuoteBuilder.build(defaults());
        uint256 n = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551;
        uint256 s = uint256(bytes32(slice(quote, 668, 32)));
        QuoteBuilder.copy(quote, 668, abi.encodePacked(n - s));
        assertTrue(harness.verifyAll(quote, pckX, pckY), "the (r, n - s) twin is accepted");
    }

    function test_readLe() public {
        assertEq(harness.readLe(hex"0102030405", 1, 4), 0x05040302);
        assertEq(harness.readLe(hex"ff", 0, 1), 0xff);
        vm.expectRevert();
        harness.readLe(hex"0102", 1, 2);
    }

    // --- structural errors (specific custom errors) ---------------------------------------------

    function test_revert_tooShort() public {
        bytes memory quote = QuoteBuilder.build(defaults());
        expectRevertVerify(
            slice(quote, 0, 1225),
            abi.encodeWithSelector(ISequencerAttestation.SequencerAttestation_QuoteTooShort.selector, 1225, 1226)
        );
        expectRevertVerify(
            "", abi.encodeWithSelector(ISequencerAttestation.SequencerAttestation_QuoteTooShort.selector, 0, 1226)
        );
    }

    function test_revert_tooLong() public {
        QuoteBuilder.Params memory p = defaults();
        p.padding = 16_385 - QuoteBuilder.build(p).length;
        expectRevertVerify(
            QuoteBuilder.build(p),
            abi.encodeWithSelector(ISequencerAttestation.SequencerAttestation_QuoteTooLong.selector, 16_385, 16_384)
        );
    }

    function test_revert_wrongVersion() public {
        QuoteBuilder.Params memory p = defaults();
        p.version = 3;
        expectRevertVerify(
            QuoteBuilder.build(p),
            abi.encodeWithSelector(ISequencerAttestation.SequencerAttestation_UnsupportedQuoteVersion.selector, 3)
        );
        p.version = 5;
        expectRevertVerify(
            QuoteBuilder.build(p),
            abi.encodeWithSelector(ISequencerAttestation.SequencerAttestation_UnsupportedQuoteVersion.selector, 5)
        );
    }

    function test_revert_wrongAttestationKeyType() public {
        QuoteBuilder.Params memory p = defaults();
        p.attestationKeyType = 3; // ECDSA-384-with-P-384
        expectRevertVerify(
            QuoteBuilder.build(p),
            abi.encodeWithSelector(ISequencerAttestation.SequencerAttestation_UnsupportedAttestationKeyType.selector, 3)
        );
    }

    function test_revert_wrongTeeType() public {
        QuoteBuilder.Params memory p = defaults();
        p.teeType = 0; // SGX
        expectRevertVerify(
            QuoteBuilder.build(p),
            abi.encodeWithSelector(ISequencerAttestation.SequencerAttestation_UnsupportedTeeType.selector, 0)
        );
    }

    function test_revert_wrongCertificationDataType() public {
        QuoteBuilder.Params memory p = defaults();
        p.certificationDataType = 5;
        expectRevertVerify(
            QuoteBuilder.build(p),
            abi.encodeWithSelector(
                ISequencerAttestation.SequencerAttestation_UnsupportedCertificationDataType.selector, 5
            )
        );
    }

    function test_revert_wrongPckCertDataType() public {
        QuoteBuilder.Params memory p = defaults();
        p.pckCertDataType = 6;
        expectRevertVerify(
            QuoteBuilder.build(p),
            abi.encodeWithSelector(ISequencerAttestation.SequencerAttestation_UnsupportedPckCertDataType.selector, 6)
        );
    }

    function test_revert_authDataSizeBeyondQuote() public {
        bytes memory quote = QuoteBuilder.build(defaults());
        uint256 declared = quote.length - 636 + 1;
        QuoteBuilder.writeLe(quote, 632, declared, 4);
        expectRevertVerify(
            quote,
            abi.encodeWithSelector(
                ISequencerAttestation.SequencerAttestation_AuthDataSizeMismatch.selector, quote.length + 1, quote.length
            )
        );
    }

    function test_revert_certificationDataSizeMismatch() public {
        bytes memory quote = QuoteBuilder.build(defaults());
        uint256 size = harness.readLe(quote, 766, 4);
        QuoteBuilder.writeLe(quote, 766, size - 1, 4);
        expectRevertVerify(
            quote,
            abi.encodeWithSelector(
                ISequencerAttestation.SequencerAttestation_CertificationDataSizeMismatch.selector,
                quote.length - 1,
                quote.length
            )
        );
    }

    function test_revert_qeAuthDataOutOfBounds() public {
        bytes memory quote = QuoteBuilder.build(defaults());
        QuoteBuilder.writeLe(quote, 1218, 0xffff, 2);
        expectRevertVerify(
            quote,
            abi.encodeWithSelector(
                ISequencerAttestation.SequencerAttestation_QeAuthDataOutOfBounds.selector,
                1220 + 0xffff + 6,
                quote.length
            )
        );
    }

    function test_revert_pckCertDataSizeMismatch() public {
        QuoteBuilder.Params memory p = defaults();
        bytes memory quote = QuoteBuilder.build(p);
        uint256 inner = 1220 + p.qeAuthData.length;
        QuoteBuilder.writeLe(quote, inner + 2, p.pckCertChain.length + 1, 4);
        expectRevertVerify(
            quote,
            abi.encodeWithSelector(
                ISequencerAttestation.SequencerAttestation_PckCertDataSizeMismatch.selector,
                quote.length + 1,
                quote.length
            )
        );
    }

    function test_revert_nonZeroTrailingData() public {
        QuoteBuilder.Params memory p = defaults();
        p.padding = 40;
        bytes memory quote = QuoteBuilder.build(p);
        assertTrue(verifies(quote), "zero padding is fine");
        quote[quote.length - 1] = 0x01;
        expectRevertVerify(
            quote, abi.encodeWithSelector(ISequencerAttestation.SequencerAttestation_TrailingData.selector)
        );
        quote[quote.length - 1] = 0x00;
        quote[quote.length - 40] = 0x80;
        expectRevertVerify(
            quote, abi.encodeWithSelector(ISequencerAttestation.SequencerAttestation_TrailingData.selector)
        );
    }

    function test_revert_debugTd() public {
        QuoteBuilder.Params memory p = defaults();
        p.tdAttributes0 = 1;
        expectRevertVerify(
            QuoteBuilder.build(p), abi.encodeWithSelector(ISequencerAttestation.SequencerAttestation_DebugTd.selector)
        );
    }

    // --- cryptographic errors -------------------------------------------------------------------

    function test_revert_quoteSignedByOtherKey() public {
        bytes memory quote = QuoteBuilder.build(defaults());
        QuoteBuilder.resignQuote(quote, 0xdeadbeef);
        expectRevertVerify(
            quote, abi.encodeWithSelector(ISequencerAttestation.SequencerAttestation_InvalidQuoteSignature.selector)
        );
    }

    function test_revert_bodyModifiedAfterSigning() public {
        bytes memory quote = QuoteBuilder.build(defaults());
        quote[600] ^= 0x01; // REPORTDATA
        expectRevertVerify(
            quote, abi.encodeWithSelector(ISequencerAttestation.SequencerAttestation_InvalidQuoteSignature.selector)
        );
    }

    function test_revert_attestationKeyNotBoundByQe() public {
        // The quote is validly signed by a key the QE report does not vouch for.
        bytes memory quote = QuoteBuilder.build(defaults());
        uint256 other = 0xc0ffee;
        (uint256 x, uint256 y) = vm.publicKeyP256(other);
        QuoteBuilder.copy(quote, 700, abi.encodePacked(x, y));
        QuoteBuilder.resignQuote(quote, other);
        expectRevertVerify(
            quote, abi.encodeWithSelector(ISequencerAttestation.SequencerAttestation_QeReportDataMismatch.selector)
        );
    }

    function test_revert_qeReportDataUpperHalfNonZero() public {
        bytes memory quote = QuoteBuilder.build(defaults());
        quote[1153] = 0x01;
        QuoteBuilder.resignQeReport(quote, QuoteBuilder.PCK_PRIVATE_KEY);
        expectRevertVerify(
            quote, abi.encodeWithSelector(ISequencerAttestation.SequencerAttestation_QeReportDataMismatch.selector)
        );
    }

    function test_revert_qeReportSignedByOtherKey() public {
        bytes memory quote = QuoteBuilder.build(defaults());
        QuoteBuilder.resignQeReport(quote, 0xfeed);
        expectRevertVerify(
            quote, abi.encodeWithSelector(ISequencerAttestation.SequencerAttestation_InvalidQeReportSignature.selector)
        );
    }

    // --- fuzzing ----------------------------------------------------------------------------------

    /// @dev Arbitrary bytes never verify.
    function testFuzz_randomBytesNeverVerify(bytes memory data) public view {
        assertFalse(verifies(data));
    }

    /// @dev Pseudo-random quotes with a valid header and consistent sizes (so parsing goes deep)
    ///      never verify.
    function testFuzz_randomWellFormedQuoteNeverVerifies(bytes32 seed, uint16 qeAuthLength, uint16 chainLength)
        public
        view
    {
        qeAuthLength = uint16(bound(qeAuthLength, 0, 512));
        chainLength = uint16(bound(chainLength, 0, 4096));
        uint256 authDataSize = 64 + 64 + 2 + 4 + 384 + 64 + 2 + qeAuthLength + 6 + chainLength;
        bytes memory quote = new bytes(636 + authDataSize);
        for (uint256 i = 0; i < quote.length; i += 32) {
            bytes32 word = keccak256(abi.encode(seed, i));
            for (uint256 j = 0; j < 32 && i + j < quote.length; ++j) {
                quote[i + j] = word[j];
            }
        }
        QuoteBuilder.writeLe(quote, 0, 4, 2);
        QuoteBuilder.writeLe(quote, 2, 2, 2);
        QuoteBuilder.writeLe(quote, 4, 0x81, 4);
        quote[168] &= 0xfe;
        QuoteBuilder.writeLe(quote, 632, authDataSize, 4);
        QuoteBuilder.writeLe(quote, 764, 6, 2);
        QuoteBuilder.writeLe(quote, 766, authDataSize - 134, 4);
        QuoteBuilder.writeLe(quote, 1218, qeAuthLength, 2);
        QuoteBuilder.writeLe(quote, 1220 + qeAuthLength, 5, 2);
        QuoteBuilder.writeLe(quote, 1222 + qeAuthLength, chainLength, 4);
        harness.checkLayout(quote); // structurally valid ...
        assertFalse(verifies(quote)); // ... but never authentic
    }

    /// @dev Random (r, s) never pass as the attestation signature.
    function testFuzz_randomQuoteSignatureFails(bytes32 r, bytes32 s) public view {
        bytes memory quote = QuoteBuilder.build(defaults());
        QuoteBuilder.copy(quote, 636, abi.encodePacked(r, s));
        assertFalse(verifies(quote));
    }

    /// @dev Random (r, s) never pass as the QE report signature.
    function testFuzz_randomQeSignatureFails(bytes32 r, bytes32 s) public view {
        bytes memory quote = QuoteBuilder.build(defaults());
        QuoteBuilder.copy(quote, 1154, abi.encodePacked(r, s));
        assertFalse(verifies(quote));
    }

    /// @dev A key other than the PCK never validates the QE report signature.
    function testFuzz_wrongPckKeyFails(uint256 key) public view {
        key = bound(key, 1, 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632550);
        vm.assume(key != QuoteBuilder.PCK_PRIVATE_KEY);
        (uint256 x, uint256 y) = vm.publicKeyP256(key);
        bytes memory quote = QuoteBuilder.build(defaults());
        assertFalse(harness.verifyQeReportSignature(quote, bytes32(x), bytes32(y)));
    }

    /// @dev Every single-bit flip of everything the verifier authenticates or parses (header,
    ///      body, signatures, keys, QE report, QE auth data, size and type fields, padding) makes
    ///      verification fail. The PEM chain itself is only read by production PCK verifiers.
    function test_everySingleBitFlipFails() public view {
        QuoteBuilder.Params memory p = defaults();
        p.padding = 8;
        bytes memory quote = QuoteBuilder.build(p);
        assertTrue(verifies(quote));
        uint256 chainStart = 1220 + p.qeAuthData.length + 6;
        uint256 chainEnd = chainStart + p.pckCertChain.length;
        uint256 checked;
        for (uint256 i = 0; i < quote.length; ++i) {
            if (i >= chainStart && i < chainEnd) continue;
            for (uint256 bit = 0; bit < 8; ++bit) {
                quote[i] ^= bytes1(uint8(1 << bit));
                if (verifies(quote)) {
                    revert(string.concat("bit flip accepted at byte ", vm.toString(i), " bit ", vm.toString(bit)));
                }
                quote[i] ^= bytes1(uint8(1 << bit));
                ++checked;
            }
        }
        assertEq(checked, (quote.length - p.pckCertChain.length) * 8);
        assertTrue(verifies(quote), "restored");
    }

    /// @dev Same property through the full registration path, fuzzing the bit index.
    function testFuzz_bitFlipBreaksRegistration(uint256 index) public {
        QuoteBuilder.Params memory p = defaults();
        bytes memory quote = QuoteBuilder.build(p);
        uint256 chainStart = 1220 + p.qeAuthData.length + 6;
        index = bound(index, 0, chainStart * 8 - 1);
        quote[index / 8] ^= bytes1(uint8(1 << (index % 8)));
        address seq = vm.addr(SEQUENCER_KEY);
        (bytes32 mh, bytes32 sh) = (mldsaKeyHashOf(SEQUENCER_KEY), slhdsaKeyHashOf(SEQUENCER_KEY));
        (bytes32 eh, bytes32 n) = (encryptionKeyHashOf(SEQUENCER_KEY), nonceOf(SEQUENCER_KEY));
        try attestation.registerSequencer(quote, seq, mh, sh, eh, n, pckHint) {
            revert("bit flip accepted");
        } catch {}
        assertEq(attestation.sequencer(seq).registeredAt, 0);
    }
}
