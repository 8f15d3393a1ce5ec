// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {MlDsa87Verifier} from "../contracts/MlDsa87Verifier.sol";
import {Test} from "./lib/Test.sol";

/// @notice Loads the ML-DSA-87 vectors that `crates/security/pqc/tests/mldsa87_vectors.rs` makes with
///         fips204 (and `scripts/check-mldsa-vectors.py` checks against dilithium-py).
contract MlDsa87Verifier_TestInit is Test {
    struct Vector {
        bytes publicKey;
        bytes signature;
        bytes context;
        bytes message;
        bool expected;
        uint8 class;
    }

    MlDsa87Verifier internal verifier;

    function setUp() public virtual {
        verifier = new MlDsa87Verifier();
    }

    /// @notice The vectors, parsed into memory (they are too large for storage).
    function loadVectors() internal view returns (Vector[] memory vectors) {
        bytes memory data = vm.readFileBinary("test/fixtures/mldsa87/vectors.bin");
        uint256 count;
        for (uint256 at; at < data.length; ++count) {
            at += 9 + readBe(data, at, 2) + readBe(data, at + 2, 2) + readBe(data, at + 4, 2) + readBe(data, at + 6, 1);
        }
        vectors = new Vector[](count);
        uint256 at;
        for (uint256 i; i < count; ++i) {
            uint256 pkLen = readBe(data, at, 2);
            uint256 sigLen = readBe(data, at + 2, 2);
            uint256 msgLen = readBe(data, at + 4, 2);
            uint256 ctxLen = readBe(data, at + 6, 1);
            Vector memory v = vectors[i];
            v.expected = readBe(data, at + 7, 1) == 1;
            v.class = uint8(readBe(data, at + 8, 1));
            at += 9;
            v.publicKey = slice(data, at, pkLen);
            at += pkLen;
            v.signature = slice(data, at, sigLen);
            at += sigLen;
            v.context = slice(data, at, ctxLen);
            at += ctxLen;
            v.message = slice(data, at, msgLen);
            at += msgLen;
        }
    }

    function readBe(bytes memory data, uint256 offset, uint256 size) internal pure returns (uint256 value) {
        for (uint256 i; i < size; ++i) {
            value = (value << 8) | uint8(data[offset + i]);
        }
    }

    function slice(bytes memory data, uint256 offset, uint256 length) internal pure returns (bytes memory out) {
        out = new bytes(length);
        assembly {
            mcopy(add(out, 32), add(add(data, 32), offset), length)
        }
    }

    /// @notice The first vector, a valid signature of a 32-byte digest with an empty context.
    function firstValid() internal view returns (Vector memory v) {
        bytes memory data = vm.readFileBinary("test/fixtures/mldsa87/vectors.bin");
        v.expected = readBe(data, 7, 1) == 1;
        v.class = uint8(readBe(data, 8, 1));
        require(v.class == 0 && v.expected, "the first vector is not a valid signature");
        v.publicKey = slice(data, 9, 2592);
        v.signature = slice(data, 9 + 2592, 4627);
        v.message = slice(data, 9 + 2592 + 4627, readBe(data, 4, 2));
    }
}

contract MlDsa87Verifier_Verify_Test is MlDsa87Verifier_TestInit {
    /// @notice Every vector (valid signatures and each tampered class) gets fips204's answer.
    function test_verify_agreesWithFips204OnEveryVector() public view {
        Vector[] memory vectors = loadVectors();
        assertTrue(vectors.length > 60, "vectors missing");
        uint256 valid;
        for (uint256 i; i < vectors.length; ++i) {
            Vector memory v = vectors[i];
            bool got = verifier.verify(v.publicKey, v.message, v.context, v.signature);
            assertEq(
                got, v.expected, string.concat("vector ", vm.toString(i), " class ", vm.toString(uint256(v.class)))
            );
            if (got) ++valid;
        }
        assertTrue(valid >= 6, "too few vectors verify");
    }

    /// @notice One full verification, for `forge test --gas-report` and the gas snapshot.
    function test_verify_validSignature_gas() public view {
        Vector memory v = firstValid();
        assertTrue(verifier.verify(v.publicKey, v.message, v.context, v.signature));
    }

    function test_verify_contextLongerThan255_returnsFalse() public view {
        Vector memory v = firstValid();
        assertFalse(verifier.verify(v.publicKey, v.message, new bytes(256), v.signature));
    }

    /// @notice Random signatures of the right length never verify, and never revert.
    function testFuzz_verify_randomSignature_returnsFalse(bytes32 seed) public view {
        Vector memory v = firstValid();
        bytes memory signature = new bytes(4627);
        for (uint256 i; i < 4627; i += 32) {
            bytes32 word = keccak256(abi.encode(seed, i));
            for (uint256 j; j < 32 && i + j < 4627; ++j) {
                signature[i + j] = word[j];
            }
        }
        assertFalse(verifier.verify(v.publicKey, v.message, v.context, signature));
    }

    /// @notice Random bytes of any length as key and signature return false without reverting.
    function testFuzz_verify_randomEncodings_returnFalse(bytes calldata publicKey, bytes calldata signature)
        public
        view
    {
        assertFalse(verifier.verify(publicKey, "", "", signature));
    }
}

contract MlDsa87Verifier_ExpandKey_Test is MlDsa87Verifier_TestInit {
    function expandAll(bytes memory publicKey) internal {
        for (uint256 part; part <= 8; ++part) {
            verifier.expandKey(publicKey, part);
        }
    }

    /// @notice Each part fits one transaction under the EIP-7825 cap of 2^24 gas.
    function test_expandKey_eachPartFitsOneTransaction() public {
        Vector memory v = firstValid();
        for (uint256 part; part <= 8; ++part) {
            uint256 before = gasleft();
            verifier.expandKey(v.publicKey, part);
            uint256 used = before - gasleft();
            assertTrue(
                used < 16_777_216 - 200_000, string.concat("part ", vm.toString(part), " costs ", vm.toString(used))
            );
        }
        assertTrue(verifier.isExpanded(keccak256(v.publicKey)));
    }

    /// @notice The expanded path gives fips204's answer on every vector with a well-formed key.
    function test_verifyExpanded_agreesWithFips204OnEveryVector() public {
        Vector[] memory vectors = loadVectors();
        uint256 valid;
        for (uint256 i; i < vectors.length; ++i) {
            Vector memory v = vectors[i];
            if (v.publicKey.length != 2592) continue;
            bytes32 keyHash = keccak256(v.publicKey);
            if (!verifier.isExpanded(keyHash)) expandAll(v.publicKey);
            bool got = verifier.verifyExpanded(keyHash, v.message, v.context, v.signature);
            assertEq(
                got, v.expected, string.concat("vector ", vm.toString(i), " class ", vm.toString(uint256(v.class)))
            );
            if (got) ++valid;
        }
        assertTrue(valid >= 6, "too few vectors verify");
    }

    /// @notice One verification from an expanded key, for the gas report.
    function test_verifyExpanded_validSignature_gas() public {
        Vector memory v = firstValid();
        expandAll(v.publicKey);
        bytes32 keyHash = keccak256(v.publicKey);
        uint256 before = gasleft();
        bool ok = verifier.verifyExpanded(keyHash, v.message, v.context, v.signature);
        uint256 used = before - gasleft();
        assertTrue(ok);
        assertTrue(used < 8_000_000, string.concat("verifyExpanded costs ", vm.toString(used)));
    }

    function test_verifyExpanded_incompleteKey_reverts() public {
        Vector memory v = firstValid();
        bytes32 keyHash = keccak256(v.publicKey);
        for (uint256 part; part < 8; ++part) {
            verifier.expandKey(v.publicKey, part);
        }
        assertFalse(verifier.isExpanded(keyHash));
        vm.expectRevert(abi.encodeWithSelector(MlDsa87Verifier.MlDsa87Verifier_KeyNotExpanded.selector, keyHash));
        verifier.verifyExpanded(keyHash, v.message, v.context, v.signature);
    }

    function test_expandKey_badInput_reverts() public {
        Vector memory v = firstValid();
        vm.expectRevert(abi.encodeWithSelector(MlDsa87Verifier.MlDsa87Verifier_InvalidPublicKeyLength.selector, 2591));
        verifier.expandKey(slice(v.publicKey, 0, 2591), 0);
        vm.expectRevert(abi.encodeWithSelector(MlDsa87Verifier.MlDsa87Verifier_InvalidPart.selector, 9));
        verifier.expandKey(v.publicKey, 9);
        verifier.expandKey(v.publicKey, 3);
        vm.expectRevert(
            abi.encodeWithSelector(
                MlDsa87Verifier.MlDsa87Verifier_PartAlreadyExpanded.selector, keccak256(v.publicKey), 3
            )
        );
        verifier.expandKey(v.publicKey, 3);
    }
}
