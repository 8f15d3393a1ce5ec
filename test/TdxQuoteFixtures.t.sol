// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {ISequencerAttestation} from "../contracts/interfaces/ISequencerAttestation.sol";
import {AttestationFixture} from "./lib/AttestationFixture.sol";
import {TdxQuoteHarness} from "./lib/TdxQuoteHarness.sol";

/// @notice Real TDX quotes (test/fixtures/tdx) parse and verify on chain. Expected values were
///         extracted independently (Python `cryptography` + `cast keccak`, see the fixtures README).
contract TdxQuoteFixturesTest is AttestationFixture {
    struct Expected {
        bytes header;
        bytes8 tdAttributes;
        bytes mrtd;
        bytes rtmr0;
        bytes rtmr1;
        bytes rtmr2;
        bytes rtmr3;
        bytes reportData;
        bytes attestationKey;
        bytes32 workloadId;
        bytes pckKey;
        bytes32 pckKeyHash;
    }

    TdxQuoteHarness internal harness;

    function setUp() public override {
        super.setUp();
        harness = new TdxQuoteHarness();
    }

    function tdxQuote() internal view returns (bytes memory) {
        return vm.readFileBinary("test/fixtures/tdx/tdx_quote");
    }

    function tappdQuote() internal view returns (bytes memory) {
        bytes memory text = bytes(vm.readFile("test/fixtures/tdx/quote-from-tappd.hex"));
        uint256 n = text.length;
        while (n > 0 && (text[n - 1] == "\n" || text[n - 1] == "\r" || text[n - 1] == " ")) --n;
        assembly ("memory-safe") {
            mstore(text, n)
        }
        return vm.parseBytes(string.concat("0x", string(text)));
    }

    function expectedTdxQuote() internal pure returns (Expected memory e) {
        e.header = hex"040002008100000000000000939a7233f79c4ca9940a0db3957f0607889b7d6ff9df2405b240a830e73faf3d00000000";
        e.tdAttributes = 0x0000001000000000;
        e.mrtd = hex"91eb2b44d141d4ece09f0c75c2c53d247a3c68edd7fafe8a3520c942a604a407de03ae6dc5f87f27428b2538873118b7";
        e.rtmr0 = hex"44c0197b39157fdd7a4dcc44767f9d6b0bb3977c7a8e347b8492f827fe9d9e5c48aca29b220b80b6a540cf994b9bc9c0";
        e.rtmr1 = hex"0084452c01668329d4bc06acdf58a7205c26743304509973949e5619bf81a6a7aea8c323c173019b3093d54e579e9378";
        e.rtmr2 = hex"d833feef2cd945148aa38ead2c53e9b7f138190aaaebfc551dccd829fc207aa3ba80b70870d7330733642e01d48c3132";
        e.rtmr3 = new bytes(48);
        e.reportData =
            hex"9a9d48e7f6799642d3d1b34e1e5e1742d4bb02dd6ddd551862c1211d35c304f9eca3efdbb481601c163cf52493d6e44aed55d51ec39b7e518fadb92c2b523f20";
        e.attestationKey =
            hex"c78ac5859b9f567238fad82ad63202bc516ee7ad14ec1d9adfc633e4cf5f71f73d6138ce76d0d9c1443f695464d1ed419c37ce696e70e95a5b317894a5897907";
        e.workloadId = 0xa8ae609a0a7e82e306a02f2b04cdeb621d1e27a57dad680150f49b3b2492de0b;
        e.pckKey =
            hex"1720fa04edef8680bfb748fd965af93d61a417a8f1f29910e8b88b3666dfff6d2b2660f3288f203356f90253a7f6f76616e24212c22cfcc3e66d681f971c9769";
        e.pckKeyHash = 0xaf54ecbf6c75c7b8fabd0b5c7b301bd5d292e34fe96dc44eb838d3d008751f95;
    }

    function expectedTappdQuote() internal pure returns (Expected memory e) {
        e.header = hex"040002008100000000000000939a7233f79c4ca9940a0db3957f060783fbfe61525f55581315cd9dc950f44700000000";
        e.tdAttributes = 0x0000001000000000;
        e.mrtd = hex"c68518a0ebb42136c12b2275164f8c72f25fa9a34392228687ed6e9caeb9c0f1dbd895e9cf475121c029dc47e70e91fd";
        e.rtmr0 = hex"274c2344116db7c663470693b5ba62b8621eac28cb41d2f816ddf188f9f423f900a1c44d32386fd3c993dc814e62af9d";
        e.rtmr1 = hex"918fbd97108e05450afa6aca140c6363ab913578b66cc312e3e8542ce5ade455a30c8d9e4d53a5e43d81955f76140279";
        e.rtmr2 = new bytes(48);
        e.rtmr3 = hex"a2d25bc888a93009af5b70eadb410e9071d18387e4db39aae20fe767f5c4279d95e6519c5d797938a90694599c5bea7a";
        e.reportData =
            hex"7668c6b4eafb62301c72714ecc7d90ce9a0e04b52dc117720df2047b0a59f1dbd937243eef1410a3cdc524aad66d4554b4f18b54da2fc0608dac40d6dea5f1d4";
        e.attestationKey =
            hex"4996a9e56e40ac6c0b019709537f16d751c03e8c0d905d79f224ff06ddc4102860a8770107748c011cdbfcccc857e418735b699ac89dc2ed4da11d5125cb925e";
        e.workloadId = 0xcce6f94749a4318ac074c7c052f925db71e1cd7b475895529bf3ea3f4a6a994e;
        e.pckKey =
            hex"d8c30a94e06c4f2636288cc19185aeb6ca9e23050779583bcac264fa965d401b18d8ebca6224f8223e175bf334c67fb29bd4ec9dd5214e319a582f23d307361d";
        e.pckKeyHash = 0x2ebd102a150c9c298d1932a69f316d19cd16ae0d27e8667942688fa66b221883;
    }

    function checkParsed(bytes memory quote, Expected memory e) internal view {
        assertEq(quote.length, 5006, "fixture length");
        ISequencerAttestation.TdxQuote memory q = attestation.parseQuote(quote);
        assertEq(slice(quote, 0, 48), e.header, "header");
        assertEq(q.version, 4, "version");
        assertEq(q.attestationKeyType, 2, "attestation key type");
        assertEq(q.teeType, 0x81, "tee type");
        assertEq(uint256(uint64(q.tdAttributes)), uint256(uint64(e.tdAttributes)), "td attributes");
        assertEq(q.mrtd, e.mrtd, "mrtd");
        assertEq(q.rtmr0, e.rtmr0, "rtmr0");
        assertEq(q.rtmr1, e.rtmr1, "rtmr1");
        assertEq(q.rtmr2, e.rtmr2, "rtmr2");
        assertEq(q.rtmr3, e.rtmr3, "rtmr3");
        assertEq(q.reportData, e.reportData, "report data");
        assertEq(abi.encodePacked(q.attestationKeyX, q.attestationKeyY), e.attestationKey, "attestation key");
        assertEq(q.workloadId, e.workloadId, "workload id");
        assertEq(q.workloadId, keccak256(bytes.concat(e.mrtd, e.rtmr0, e.rtmr1, e.rtmr2, e.rtmr3)), "workload formula");
        assertEq(q.certificationDataType, 6, "certification data type");
        assertEq(q.qeReport.length, 384, "qe report length");
        assertEq(q.qeAuthData, hex"000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f", "qe auth data");
        assertEq(q.pckCertDataType, 5, "pck cert data type");
        assertEq(q.pckCertChain.length, 3678, "pck chain length");
        assertEq(slice(q.pckCertChain, 0, 27), bytes("-----BEGIN CERTIFICATE-----"), "pem");
    }

    function checkCrypto(bytes memory quote, Expected memory e) internal {
        assertTrue(harness.verifyQuoteSignature(quote), "attestation key signature");
        assertTrue(harness.qeReportDataMatches(quote), "QE report data binds the attestation key");
        bytes32 x = bytes32(slice(e.pckKey, 0, 32));
        bytes32 y = bytes32(slice(e.pckKey, 32, 32));
        assertTrue(harness.verifyQeReportSignature(quote, x, y), "QE report signature by the PCK");
        assertTrue(harness.verifyAll(quote, x, y), "all");

        // Through the registry with the real PCK key allow-listed in the dev verifier.
        vm.prank(GOVERNANCE);
        pckVerifier.setPckKeyAllowed(x, y, true);
        (ISequencerAttestation.TdxQuote memory parsed, bytes32 pckKeyHash) = attestation.verifyQuote(quote, e.pckKey);
        assertEq(pckKeyHash, e.pckKeyHash, "pck key hash");
        assertEq(parsed.workloadId, e.workloadId, "workload id");

        // Registration of a real quote fails only on the REPORTDATA commitment (its report data
        // is not in the QuantumAegis v2 format).
        vm.prank(GOVERNANCE);
        attestation.setWorkloadAllowed(e.workloadId, true);
        vm.expectRevert(ISequencerAttestation.SequencerAttestation_ReportDataMismatch.selector);
        attestation.registerSequencer(
            quote,
            address(0x1234),
            bytes32(uint256(1)),
            bytes32(uint256(2)),
            bytes32(uint256(3)),
            bytes32(uint256(4)),
            e.pckKey
        );
    }

    function test_tdxQuote_parsesOnChain() public view {
        checkParsed(tdxQuote(), expectedTdxQuote());
    }

    function test_tdxQuote_signaturesAndBindingVerify() public {
        checkCrypto(tdxQuote(), expectedTdxQuote());
    }

    function test_tappdQuote_parsesOnChain() public view {
        checkParsed(tappdQuote(), expectedTappdQuote());
    }

    function test_tappdQuote_signaturesAndBindingVerify() public {
        checkCrypto(tappdQuote(), expectedTappdQuote());
    }

    /// forge-config: default.evm_version = "prague"
    function test_tdxQuote_verifiesWithoutPrecompile() public {
        // No P256VERIFY at 0x100 before Osaka: OpenZeppelin's Solidity fallback runs.
        (bool ok, bytes memory ret) = address(0x100).staticcall(new bytes(160));
        assertTrue(ok && ret.length == 0, "precompile absent");
        checkCrypto(tdxQuote(), expectedTdxQuote());
    }

    function test_realQuote_wrongPckKeyFails() public view {
        bytes memory quote = tdxQuote();
        Expected memory other = expectedTappdQuote();
        assertFalse(
            harness.verifyQeReportSignature(
                quote, bytes32(slice(other.pckKey, 0, 32)), bytes32(slice(other.pckKey, 32, 32))
            )
        );
    }

    function test_realQuote_unlistedPckRejectedByDevVerifier() public {
        bytes memory quote = tdxQuote();
        Expected memory e = expectedTdxQuote();
        vm.expectRevert(abi.encodeWithSignature("DevPckVerifier_PckKeyNotAllowed(bytes32)", e.pckKeyHash));
        attestation.verifyQuote(quote, e.pckKey);
    }
}
