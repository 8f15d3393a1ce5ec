// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {IMlDsaExpandedVerifier, IMlDsaVerifier} from "./interfaces/IMlDsaVerifier.sol";
import {ISemver} from "./interfaces/ISemver.sol";

/// @title MlDsa87Verifier
/// @notice FIPS 204 ML-DSA-87 verification in the EVM: ML-DSA.Verify (Algorithm 3) over
///         ML-DSA.Verify_internal (Algorithm 8), with the standard encodings (public key 2,592
///         bytes, signature 4,627 bytes) and SHAKE128/SHAKE256 as FIPS 202 defines them.
///
///         Two ways to verify, with the same answer for every input:
///         - {verify} takes the public key itself and expands it on the fly (ExpandA, the NTT of
///           t1 * 2^d and tr): simple, and costly because of the many SHAKE128 blocks ExpandA needs.
///         - {verifyExpanded} takes the keccak256 hash of a public key whose expansion anyone wrote
///           before with {expandKey}: eight rows of A-hat and t1-hat as the code of data contracts
///           and tr in storage. The expansion is computed here from the public key, so no writer
///           can make it disagree with the key.
/// @dev Arithmetic is plain `mulmod`/`addmod` modulo q = 8,380,417 with one coefficient per memory
///      word; the NTT and its inverse follow Algorithms 41 and 42 with the zetas of Appendix B.
///      Keccak-f[1600] keeps one 64-bit lane per word. The work area in memory, after the zetas
///      (offsets in bytes): 0 Keccak state and scratch (2 x 800), 1600 padding block, 1856 squeeze
///      buffer, 2080 c~, 2144 ExpandA seed, 2240 hint masks (8 words), 2496 mu || w1Encode(w1')
///      (1,088), 3616 public key, 6272 (ctx, M) calldata offsets and lengths, 6400 c-hat,
///      14592 scratch polynomial, 22784 accumulator, 30976 z-hat (7 polynomials), 88320 an expanded
///      row, 94720 tr || M'.
/// @custom:semver 1.0.0
contract MlDsa87Verifier is IMlDsaExpandedVerifier, ISemver {
    /// @notice An expanded public key: tr and the data contracts holding its eight rows.
    struct ExpandedKey {
        bytes32 trHigh;
        bytes32 trLow;
        address[8] rows;
    }

    /// @notice Public key length (pkEncode): rho and t1 at 10 bits per coefficient.
    uint256 public constant PUBLIC_KEY_LENGTH = 2592;
    /// @notice Signature length (sigEncode): c~ (64), z at 20 bits per coefficient, the hint.
    uint256 public constant SIGNATURE_LENGTH = 4627;
    /// @notice Bytes of one expanded row: seven A-hat polynomials and t1-hat, 256 three-byte
    ///         coefficients each.
    uint256 public constant ROW_LENGTH = 6144;
    /// @notice The {expandKey} part that computes tr instead of a row.
    uint256 public constant TR_PART = 8;

    uint256 private constant OP_VERIFY = 0;
    uint256 private constant OP_VERIFY_EXPANDED = 1;
    uint256 private constant OP_EXPAND_ROW = 2;
    uint256 private constant OP_TR = 3;

    /// @dev zeta^BitRev8(m) mod q for m = 0..255, three bytes each (FIPS 204 Appendix B).
    bytes internal constant ZETAS =
        hex"000001495e023975673965694f062b53df734fe0334f066b76b1ae360dd528edb0207fe439728370894a0881926d3dc84c729441e0b428a3d266528a4a18a77940340a52ee6b7d814e9f1d1a28772571df1649ee7611bd492bb72af69722d8d536f72a30911e29d13f49267350685f2010a23887f711b2c30603a40e2bed10b72c4a5f351f9d15428cd43177f420e612341c1d1ad87373668149553f3952f662564a65ad05439a1c53aa5f30b622087f383b0e6d2c83da1c496e330e2b1c5b702ee3f1137eb957a9303ac6ef3fd54c4eb2ea503ee17bb1752648b41ef2561d90a245a6d42ae59b52589c6ef1f53f7288175102075d591187ba52aca9773e9e0296d82592ec4cff12404ce84aa5821e54e64f16c11a7e7903978f4e481731b8595884cc1b48275b63d05d787a35225e400c7e6c09d15bd5326bc4d3258ecb2e534c097a6c3b88206d285c2ca4f8337caa14b2a055853628f18655795d4af670234a8675e82678de6605528c7adf590f6e175bf3da459b7e628b345dbecb1a9e7b0006d96257c5574b3c69a8ef28983864b5fe7ef8f52a4e78120a230154a809b7ff435e87437ff85cd5b44dc04e4728af7f735d0c8d0d0f66d55a6d8061ab98185d96437f314682986629604bd57928de06465d8d49b0e309b4347c0db35a68b0409ba964d3d521762a658591246e3948c39b7bc7594f5859392db223092312eb67454df230c31c28542413232e7faf802dbfcb022a0b7e832c26587a6b3375095b766be1cc5e061e78e00d628c373da6044ae53c1f1d686330bb7361b85ea06c671ac7201fc65ba4ff60d77208f2016de024080e6d56038e6956881e6d3e2603bd6a9dfa07c0176dbfd474d0bd63e1e35195737ab60d2867ba2decd458018c3f4cf50b7009427e233cbd372733336739571a4b5d1969261ef20611c14e4c76c83cf42f7fb19a6af66c2e16693352d6034760085260741e782f63166f0a1107c0f1776d0b0d1ff03458240223d468c5595e88852faa3223fc655e694251e0ed65adb32ca5e679e1fe7b406435e1dd433aac464ade1cfe1473f1ce10170e74b6d7";
    /// @dev The 24 Keccak-f[1600] round constants, eight bytes each (FIPS 202 3.2.5).
    bytes internal constant ROUND_CONSTANTS =
        hex"00000000000000010000000000008082800000000000808a8000000080008000000000000000808b000000008000000180000000800080818000000000008009000000000000008a00000000000000880000000080008009000000008000000a000000008000808b800000000000008b8000000000008089800000000000800380000000000080028000000000000080000000000000800a800000008000000a8000000080008081800000000000808000000000800000018000000080008008";

    /// @notice Expanded keys by the keccak256 hash of the public key.
    mapping(bytes32 keyHash => ExpandedKey) internal _expanded;

    /// @notice A part of a key's expansion was written.
    /// @param keyHash keccak256 of the public key.
    /// @param part The row (0..7) or {TR_PART}.
    /// @param data The data contract holding the row (zero for tr).
    event KeyPartExpanded(bytes32 indexed keyHash, uint256 indexed part, address data);

    /// @notice The public key is not 2,592 bytes long.
    error MlDsa87Verifier_InvalidPublicKeyLength(uint256 length);
    /// @notice The part is neither a row (0..7) nor {TR_PART}.
    error MlDsa87Verifier_InvalidPart(uint256 part);
    /// @notice This part of the key's expansion exists already.
    error MlDsa87Verifier_PartAlreadyExpanded(bytes32 keyHash, uint256 part);
    /// @notice The key's expansion is not complete.
    error MlDsa87Verifier_KeyNotExpanded(bytes32 keyHash);
    /// @notice Deploying a row's data contract failed.
    error MlDsa87Verifier_RowDeploymentFailed(uint256 part);

    /// @inheritdoc ISemver
    function version() external pure returns (string memory) {
        return "1.0.0";
    }

    /// @inheritdoc IMlDsaVerifier
    function verify(bytes calldata publicKey, bytes calldata message, bytes calldata context, bytes calldata signature)
        external
        view
        returns (bool valid)
    {
        if (publicKey.length != PUBLIC_KEY_LENGTH || signature.length != SIGNATURE_LENGTH || context.length > 255) {
            return false;
        }
        (uint256 result,) = _run(OP_VERIFY, _args(publicKey, message, context, signature, 0));
        return result == 1;
    }

    /// @inheritdoc IMlDsaExpandedVerifier
    /// @dev From the key's expansion; reverts with {MlDsa87Verifier_KeyNotExpanded} until every
    ///      part was written.
    function verifyExpanded(bytes32 keyHash, bytes calldata message, bytes calldata context, bytes calldata signature)
        external
        view
        returns (bool valid)
    {
        ExpandedKey storage key = _expanded[keyHash];
        if (!_complete(key)) revert MlDsa87Verifier_KeyNotExpanded(keyHash);
        if (signature.length != SIGNATURE_LENGTH || context.length > 255) return false;
        uint256[10] memory words;
        words[0] = uint256(key.trHigh);
        words[1] = uint256(key.trLow);
        for (uint256 r; r < 8; ++r) {
            words[2 + r] = uint256(uint160(key.rows[r]));
        }
        uint256 wordsPtr;
        assembly {
            wordsPtr := words
        }
        (uint256 result,) = _run(OP_VERIFY_EXPANDED, _args(msg.data[0:0], message, context, signature, wordsPtr));
        return result == 1;
    }

    /// @notice Writes one part of the expansion of `publicKey`: row `part` (0..7) as a data
    ///         contract, or tr for {TR_PART}. Anyone may call it; each part is written once, and
    ///         each fits one transaction (a row costs about 5M gas, tr about 2M).
    /// @param publicKey The FIPS 204 public key encoding.
    /// @param part The row (0..7) or {TR_PART}.
    function expandKey(bytes calldata publicKey, uint256 part) external {
        if (publicKey.length != PUBLIC_KEY_LENGTH) {
            revert MlDsa87Verifier_InvalidPublicKeyLength(publicKey.length);
        }
        if (part > TR_PART) revert MlDsa87Verifier_InvalidPart(part);
        bytes32 keyHash = keccak256(publicKey);
        ExpandedKey storage key = _expanded[keyHash];
        if (part == TR_PART) {
            if (key.trHigh != 0 || key.trLow != 0) revert MlDsa87Verifier_PartAlreadyExpanded(keyHash, part);
            (uint256 result,) = _run(OP_TR, _args(publicKey, msg.data[0:0], msg.data[0:0], msg.data[0:0], 0));
            (bytes32 high, bytes32 low) = _trWords(result);
            key.trHigh = high;
            key.trLow = low;
            emit KeyPartExpanded(keyHash, part, address(0));
            return;
        }
        if (key.rows[part] != address(0)) revert MlDsa87Verifier_PartAlreadyExpanded(keyHash, part);
        (, uint256 initcode) = _run(OP_EXPAND_ROW, _args(publicKey, msg.data[0:0], msg.data[0:0], msg.data[0:0], part));
        address data;
        assembly {
            data := create(0, add(initcode, 32), mload(initcode))
        }
        if (data == address(0)) revert MlDsa87Verifier_RowDeploymentFailed(part);
        key.rows[part] = data;
        emit KeyPartExpanded(keyHash, part, data);
    }

    /// @inheritdoc IMlDsaExpandedVerifier
    function isExpanded(bytes32 keyHash) external view returns (bool) {
        return _complete(_expanded[keyHash]);
    }

    /// @notice The expansion of the key hashing to `keyHash` (zero where not written yet).
    /// @param keyHash keccak256 of the public key.
    /// @return The expanded key record.
    function expandedKey(bytes32 keyHash) external view returns (ExpandedKey memory) {
        return _expanded[keyHash];
    }

    function _complete(ExpandedKey storage key) private view returns (bool) {
        if (key.trHigh == 0 && key.trLow == 0) return false;
        for (uint256 r; r < 8; ++r) {
            if (key.rows[r] == address(0)) return false;
        }
        return true;
    }

    /// @dev `tr` was left in memory at the pointer `result`.
    function _trWords(uint256 result) private pure returns (bytes32 high, bytes32 low) {
        assembly {
            high := mload(result)
            low := mload(add(result, 32))
        }
    }

    /// @dev The calldata offsets and lengths {_run} works on, and its extra argument.
    function _args(
        bytes calldata publicKey,
        bytes calldata message,
        bytes calldata context,
        bytes calldata signature,
        uint256 arg
    ) private pure returns (uint256[7] memory args) {
        assembly {
            mstore(args, publicKey.offset)
            mstore(add(args, 32), context.offset)
            mstore(add(args, 64), context.length)
            mstore(add(args, 96), message.offset)
            mstore(add(args, 128), message.length)
            mstore(add(args, 160), signature.offset)
            mstore(add(args, 192), arg)
        }
    }

    /// @dev The whole computation in one assembly block (Yul functions cannot be shared between
    ///      blocks), on the `args` of {_args}. `op` selects: verify (result 1 when valid), verify
    ///      from the expanded key whose ten words (tr, eight row addresses) are at memory `arg`,
    ///      expand row `arg` (`initcode` is the initcode of its data contract), or tr (`result`
    ///      points at its 64 bytes).
    function _run(uint256 op, uint256[7] memory args) private view returns (uint256 result, uint256 initcode) {
        bytes memory zetas = ZETAS;
        bytes memory roundConstants = ROUND_CONSTANTS;
        assembly {
            // ---- Keccak-f[1600] and the SHAKE sponge (FIPS 202) ----

            /// Byte-reverses a 64-bit value (lanes are little-endian).
            function le64(v) -> r {
                r := or(shr(8, and(v, 0xff00ff00ff00ff00)), shl(8, and(v, 0x00ff00ff00ff00ff)))
                r := or(shr(16, and(r, 0xffff0000ffff0000)), shl(16, and(r, 0x0000ffff0000ffff)))
                r := or(shr(32, r), and(shl(32, r), 0xffffffff00000000))
            }

            /// The permutation on the 25 lanes at `st` (one per word); the 25 words after them are
            /// scratch.
            function keccakF(st, rcp) {
                for { let round := 0 } lt(round, 24) { round := add(round, 1) } {
                    let d0, d1, d2, d3, d4
                    {
                        let c0 :=
                            xor(
                                xor(xor(xor(mload(st), mload(add(st, 160))), mload(add(st, 320))), mload(add(st, 480))),
                                mload(add(st, 640))
                            )
                        let c1 :=
                            xor(
                                xor(
                                    xor(xor(mload(add(st, 32)), mload(add(st, 192))), mload(add(st, 352))),
                                    mload(add(st, 512))
                                ),
                                mload(add(st, 672))
                            )
                        let c2 :=
                            xor(
                                xor(
                                    xor(xor(mload(add(st, 64)), mload(add(st, 224))), mload(add(st, 384))),
                                    mload(add(st, 544))
                                ),
                                mload(add(st, 704))
                            )
                        let c3 :=
                            xor(
                                xor(
                                    xor(xor(mload(add(st, 96)), mload(add(st, 256))), mload(add(st, 416))),
                                    mload(add(st, 576))
                                ),
                                mload(add(st, 736))
                            )
                        let c4 :=
                            xor(
                                xor(
                                    xor(xor(mload(add(st, 128)), mload(add(st, 288))), mload(add(st, 448))),
                                    mload(add(st, 608))
                                ),
                                mload(add(st, 768))
                            )
                        d0 := xor(c4, or(and(shl(1, c1), 0xffffffffffffffff), shr(63, c1)))
                        d1 := xor(c0, or(and(shl(1, c2), 0xffffffffffffffff), shr(63, c2)))
                        d2 := xor(c1, or(and(shl(1, c3), 0xffffffffffffffff), shr(63, c3)))
                        d3 := xor(c2, or(and(shl(1, c4), 0xffffffffffffffff), shr(63, c4)))
                        d4 := xor(c3, or(and(shl(1, c0), 0xffffffffffffffff), shr(63, c0)))
                    }
                    mstore(add(st, 800), xor(mload(st), d0))
                    {
                        let v := xor(mload(add(st, 160)), d0)
                        mstore(add(st, 1312), or(and(shl(36, v), 0xffffffffffffffff), shr(28, v)))
                    }
                    {
                        let v := xor(mload(add(st, 320)), d0)
                        mstore(add(st, 1024), or(and(shl(3, v), 0xffffffffffffffff), shr(61, v)))
                    }
                    {
                        let v := xor(mload(add(st, 480)), d0)
                        mstore(add(st, 1536), or(and(shl(41, v), 0xffffffffffffffff), shr(23, v)))
                    }
                    {
                        let v := xor(mload(add(st, 640)), d0)
                        mstore(add(st, 1248), or(and(shl(18, v), 0xffffffffffffffff), shr(46, v)))
                    }
                    {
                        let v := xor(mload(add(st, 32)), d1)
                        mstore(add(st, 1120), or(and(shl(1, v), 0xffffffffffffffff), shr(63, v)))
                    }
                    {
                        let v := xor(mload(add(st, 192)), d1)
                        mstore(add(st, 832), or(and(shl(44, v), 0xffffffffffffffff), shr(20, v)))
                    }
                    {
                        let v := xor(mload(add(st, 352)), d1)
                        mstore(add(st, 1344), or(and(shl(10, v), 0xffffffffffffffff), shr(54, v)))
                    }
                    {
                        let v := xor(mload(add(st, 512)), d1)
                        mstore(add(st, 1056), or(and(shl(45, v), 0xffffffffffffffff), shr(19, v)))
                    }
                    {
                        let v := xor(mload(add(st, 672)), d1)
                        mstore(add(st, 1568), or(and(shl(2, v), 0xffffffffffffffff), shr(62, v)))
                    }
                    {
                        let v := xor(mload(add(st, 64)), d2)
                        mstore(add(st, 1440), or(and(shl(62, v), 0xffffffffffffffff), shr(2, v)))
                    }
                    {
                        let v := xor(mload(add(st, 224)), d2)
                        mstore(add(st, 1152), or(and(shl(6, v), 0xffffffffffffffff), shr(58, v)))
                    }
                    {
                        let v := xor(mload(add(st, 384)), d2)
                        mstore(add(st, 864), or(and(shl(43, v), 0xffffffffffffffff), shr(21, v)))
                    }
                    {
                        let v := xor(mload(add(st, 544)), d2)
                        mstore(add(st, 1376), or(and(shl(15, v), 0xffffffffffffffff), shr(49, v)))
                    }
                    {
                        let v := xor(mload(add(st, 704)), d2)
                        mstore(add(st, 1088), or(and(shl(61, v), 0xffffffffffffffff), shr(3, v)))
                    }
                    {
                        let v := xor(mload(add(st, 96)), d3)
                        mstore(add(st, 960), or(and(shl(28, v), 0xffffffffffffffff), shr(36, v)))
                    }
                    {
                        let v := xor(mload(add(st, 256)), d3)
                        mstore(add(st, 1472), or(and(shl(55, v), 0xffffffffffffffff), shr(9, v)))
                    }
                    {
                        let v := xor(mload(add(st, 416)), d3)
                        mstore(add(st, 1184), or(and(shl(25, v), 0xffffffffffffffff), shr(39, v)))
                    }
                    {
                        let v := xor(mload(add(st, 576)), d3)
                        mstore(add(st, 896), or(and(shl(21, v), 0xffffffffffffffff), shr(43, v)))
                    }
                    {
                        let v := xor(mload(add(st, 736)), d3)
                        mstore(add(st, 1408), or(and(shl(56, v), 0xffffffffffffffff), shr(8, v)))
                    }
                    {
                        let v := xor(mload(add(st, 128)), d4)
                        mstore(add(st, 1280), or(and(shl(27, v), 0xffffffffffffffff), shr(37, v)))
                    }
                    {
                        let v := xor(mload(add(st, 288)), d4)
                        mstore(add(st, 992), or(and(shl(20, v), 0xffffffffffffffff), shr(44, v)))
                    }
                    {
                        let v := xor(mload(add(st, 448)), d4)
                        mstore(add(st, 1504), or(and(shl(39, v), 0xffffffffffffffff), shr(25, v)))
                    }
                    {
                        let v := xor(mload(add(st, 608)), d4)
                        mstore(add(st, 1216), or(and(shl(8, v), 0xffffffffffffffff), shr(56, v)))
                    }
                    {
                        let v := xor(mload(add(st, 768)), d4)
                        mstore(add(st, 928), or(and(shl(14, v), 0xffffffffffffffff), shr(50, v)))
                    }
                    {
                        let rc := shr(192, mload(add(rcp, shl(3, round))))
                        let b0 := mload(add(st, 800))
                        let b1 := mload(add(st, 832))
                        let b2 := mload(add(st, 864))
                        let b3 := mload(add(st, 896))
                        let b4 := mload(add(st, 928))
                        mstore(st, xor(xor(b0, and(not(b1), b2)), rc))
                        mstore(add(st, 32), xor(b1, and(not(b2), b3)))
                        mstore(add(st, 64), xor(b2, and(not(b3), b4)))
                        mstore(add(st, 96), xor(b3, and(not(b4), b0)))
                        mstore(add(st, 128), xor(b4, and(not(b0), b1)))
                    }
                    {
                        let b0 := mload(add(st, 960))
                        let b1 := mload(add(st, 992))
                        let b2 := mload(add(st, 1024))
                        let b3 := mload(add(st, 1056))
                        let b4 := mload(add(st, 1088))
                        mstore(add(st, 160), xor(b0, and(not(b1), b2)))
                        mstore(add(st, 192), xor(b1, and(not(b2), b3)))
                        mstore(add(st, 224), xor(b2, and(not(b3), b4)))
                        mstore(add(st, 256), xor(b3, and(not(b4), b0)))
                        mstore(add(st, 288), xor(b4, and(not(b0), b1)))
                    }
                    {
                        let b0 := mload(add(st, 1120))
                        let b1 := mload(add(st, 1152))
                        let b2 := mload(add(st, 1184))
                        let b3 := mload(add(st, 1216))
                        let b4 := mload(add(st, 1248))
                        mstore(add(st, 320), xor(b0, and(not(b1), b2)))
                        mstore(add(st, 352), xor(b1, and(not(b2), b3)))
                        mstore(add(st, 384), xor(b2, and(not(b3), b4)))
                        mstore(add(st, 416), xor(b3, and(not(b4), b0)))
                        mstore(add(st, 448), xor(b4, and(not(b0), b1)))
                    }
                    {
                        let b0 := mload(add(st, 1280))
                        let b1 := mload(add(st, 1312))
                        let b2 := mload(add(st, 1344))
                        let b3 := mload(add(st, 1376))
                        let b4 := mload(add(st, 1408))
                        mstore(add(st, 480), xor(b0, and(not(b1), b2)))
                        mstore(add(st, 512), xor(b1, and(not(b2), b3)))
                        mstore(add(st, 544), xor(b2, and(not(b3), b4)))
                        mstore(add(st, 576), xor(b3, and(not(b4), b0)))
                        mstore(add(st, 608), xor(b4, and(not(b0), b1)))
                    }
                    {
                        let b0 := mload(add(st, 1440))
                        let b1 := mload(add(st, 1472))
                        let b2 := mload(add(st, 1504))
                        let b3 := mload(add(st, 1536))
                        let b4 := mload(add(st, 1568))
                        mstore(add(st, 640), xor(b0, and(not(b1), b2)))
                        mstore(add(st, 672), xor(b1, and(not(b2), b3)))
                        mstore(add(st, 704), xor(b2, and(not(b3), b4)))
                        mstore(add(st, 736), xor(b3, and(not(b4), b0)))
                        mstore(add(st, 768), xor(b4, and(not(b0), b1)))
                    }
                }
            }

            /// XORs `rate` bytes at `p` into the state.
            function xorBlock(st, p, rate) {
                for { let i := 0 } lt(i, rate) { i := add(i, 8) } {
                    let s := add(st, shl(2, i))
                    mstore(s, xor(mload(s), le64(shr(192, mload(add(p, i))))))
                }
            }

            /// Writes the first `rate` bytes of the state to the squeeze buffer (24 bytes past them
            /// are clobbered).
            function squeeze(w, rate) {
                let out := add(w, 1856)
                for { let i := 0 } lt(i, rate) { i := add(i, 8) } {
                    mstore(add(out, i), shl(192, le64(mload(add(w, shl(2, i))))))
                }
            }

            /// A fresh SHAKE sponge (domain bits 1111) with `len` bytes at `p` absorbed and padded,
            /// its first block squeezed.
            function shake(w, rcp, p, len, rate) {
                for { let i := 0 } lt(i, 800) { i := add(i, 32) } { mstore(add(w, i), 0) }
                for {} iszero(lt(len, rate)) {} {
                    xorBlock(w, p, rate)
                    keccakF(w, rcp)
                    p := add(p, rate)
                    len := sub(len, rate)
                }
                let pad := add(w, 1600)
                for { let i := 0 } lt(i, rate) { i := add(i, 32) } { mstore(add(pad, i), 0) }
                mcopy(pad, p, len)
                mstore8(add(pad, len), 0x1f)
                let last := add(pad, sub(rate, 1))
                mstore8(last, or(byte(0, mload(last)), 0x80))
                xorBlock(w, pad, rate)
                keccakF(w, rcp)
                squeeze(w, rate)
            }

            /// The next block of the sponge, squeezed.
            function squeezeNext(w, rcp, rate) {
                keccakF(w, rcp)
                squeeze(w, rate)
            }

            // ---- Polynomial arithmetic modulo q = 8380417, 256 coefficients of one word each ----

            /// NTT (Algorithm 41), in place.
            function ntt(p, zt) {
                let k := 0
                for { let len := 4096 } gt(len, 16) { len := shr(1, len) } {
                    for { let start := p } lt(start, add(p, 8192)) { start := add(start, shl(1, len)) } {
                        k := add(k, 32)
                        let z := mload(add(zt, k))
                        let end := add(start, len)
                        for { let a := start } lt(a, end) { a := add(a, 32) } {
                            let b := add(a, len)
                            let t := mulmod(z, mload(b), 8380417)
                            let x := mload(a)
                            mstore(b, addmod(x, sub(8380417, t), 8380417))
                            mstore(a, addmod(x, t, 8380417))
                        }
                    }
                }
            }

            /// Inverse NTT (Algorithm 42) without the final scaling by 256^-1, in place.
            function inttUnscaled(p, zt) {
                let k := 8192
                for { let len := 32 } lt(len, 8192) { len := shl(1, len) } {
                    for { let start := p } lt(start, add(p, 8192)) { start := add(start, shl(1, len)) } {
                        k := sub(k, 32)
                        let z := sub(8380417, mload(add(zt, k)))
                        let end := add(start, len)
                        for { let a := start } lt(a, end) { a := add(a, 32) } {
                            let b := add(a, len)
                            let t := mload(a)
                            let u := mload(b)
                            mstore(a, addmod(t, u, 8380417))
                            mstore(b, mulmod(z, addmod(t, sub(8380417, u), 8380417), 8380417))
                        }
                    }
                }
            }

            /// RejNTTPoly (Algorithm 30): the polynomial of A-hat that SHAKE128 of the 34-byte seed
            /// gives, into `out`.
            function rejNttPoly(w, rcp, out) {
                shake(w, rcp, add(w, 2144), 34, 168)
                let sq := add(w, 1856)
                let pos := 0
                for { let outEnd := add(out, 8192) } lt(out, outEnd) {} {
                    if eq(pos, 168) {
                        squeezeNext(w, rcp, 168)
                        pos := 0
                    }
                    let b := mload(add(sq, pos))
                    let v := or(or(byte(0, b), shl(8, byte(1, b))), shl(16, and(byte(2, b), 0x7f)))
                    pos := add(pos, 3)
                    if lt(v, 8380417) {
                        mstore(out, v)
                        out := add(out, 32)
                    }
                }
            }

            /// SampleInBall (Algorithm 29) of the 64-byte c~, into the challenge polynomial (mod q).
            function sampleInBall(w, rcp) {
                let c := add(w, 6400)
                for { let i := 0 } lt(i, 8192) { i := add(i, 32) } { mstore(add(c, i), 0) }
                shake(w, rcp, add(w, 2080), 64, 136)
                let sq := add(w, 1856)
                let signs := le64(shr(192, mload(sq)))
                let pos := 8
                for { let i := 196 } lt(i, 256) { i := add(i, 1) } {
                    let j := 256
                    for {} gt(j, i) {} {
                        if eq(pos, 136) {
                            squeezeNext(w, rcp, 136)
                            pos := 0
                        }
                        j := byte(0, mload(add(sq, pos)))
                        pos := add(pos, 1)
                    }
                    mstore(add(c, shl(5, i)), mload(add(c, shl(5, j))))
                    // (-1)^h[i + tau - 256]: 1 or q - 1.
                    mstore(add(c, shl(5, j)), add(1, mul(and(shr(sub(i, 196), signs), 1), 8380415)))
                }
            }

            /// UseHint (Algorithm 40) for gamma2 = (q - 1) / 32: the high bits of `r`, moved by
            /// one (mod 16) towards the low bits' sign when the hint `h` is set.
            function useHint(r, h) -> v {
                let r0 := mod(r, 523776)
                let high := sub(r, r0)
                if gt(r0, 261888) { high := add(high, 523776) }
                v := div(high, 523776)
                if h {
                    switch and(gt(r0, 0), iszero(gt(r0, 261888)))
                    case 1 { v := add(v, 1) }
                    default { v := add(v, 15) }
                }
                v := and(v, 15)
            }

            /// Five little-endian bytes at the start of `b` as an integer.
            function le40(b) -> v {
                v := or(
                    or(or(byte(0, b), shl(8, byte(1, b))), or(shl(16, byte(2, b)), shl(24, byte(3, b)))),
                    shl(32, byte(4, b))
                )
            }

            /// z: BitUnpack(., gamma1 - 1, gamma1) (mod q), two coefficients per five
            /// bytes, with ||z||inf < gamma1 - beta (gamma1 - u for beta < u < 2 gamma1 - beta).
            function decodeZ(w, sig) -> ok {
                let zp := add(sig, 64)
                for { let s := 0 } lt(s, 7) { s := add(s, 1) } {
                    let poly := add(add(w, 30976), shl(13, s))
                    for { let j := 0 } lt(j, 8192) { j := add(j, 64) } {
                        let v := le40(calldataload(zp))
                        let u0 := and(v, 0xfffff)
                        let u1 := shr(20, v)
                        if or(or(lt(u0, 121), gt(u0, 1048455)), or(lt(u1, 121), gt(u1, 1048455))) { leave }
                        mstore(add(poly, j), addmod(524288, sub(8380417, u0), 8380417))
                        mstore(add(poly, add(j, 32)), addmod(524288, sub(8380417, u1), 8380417))
                        zp := add(zp, 5)
                    }
                }
                ok := 1
            }

            /// h: HintBitUnpack (Algorithm 21), one 256-bit mask per row; malformed hints fail.
            function decodeHints(w, sig) -> ok {
                let yp := add(sig, 4544)
                let index := 0
                for { let i := 0 } lt(i, 8) { i := add(i, 1) } {
                    let bound := byte(0, calldataload(add(yp, add(75, i))))
                    if or(lt(bound, index), gt(bound, 75)) { leave }
                    let first := index
                    let bits := 0
                    for {} lt(index, bound) { index := add(index, 1) } {
                        let position := byte(0, calldataload(add(yp, index)))
                        if gt(index, first) {
                            if iszero(lt(byte(0, calldataload(add(yp, sub(index, 1)))), position)) { leave }
                        }
                        bits := or(bits, shl(position, 1))
                    }
                    mstore(add(add(w, 2240), shl(5, i)), bits)
                }
                for {} lt(index, 75) { index := add(index, 1) } {
                    if byte(0, calldataload(add(yp, index))) { leave }
                }
                ok := 1
            }

            /// acc += A-hat[r] z-hat, generating each A-hat entry from rho.
            function accumulateAz(w, rcp, r) {
                let acc := add(w, 22784)
                let tmp := add(w, 14592)
                mstore8(add(w, add(2144, 33)), r)
                for { let s := 0 } lt(s, 7) { s := add(s, 1) } {
                    mstore8(add(w, add(2144, 32)), s)
                    rejNttPoly(w, rcp, tmp)
                    let zs := add(add(w, 30976), shl(13, s))
                    for { let i := 0 } lt(i, 8192) { i := add(i, 32) } {
                        let a := add(acc, i)
                        mstore(a, addmod(mload(a), mulmod(mload(add(tmp, i)), mload(add(zs, i)), 8380417), 8380417))
                    }
                }
            }

            /// NTT(t1[r] * 2^d) into the scratch polynomial, t1 read from the public key copy
            /// (SimpleBitUnpack at 10 bits: four coefficients per five bytes).
            function t1Hat(w, zt, r) {
                let tmp := add(w, 14592)
                let tp := add(w, add(3616, add(32, mul(r, 320))))
                for { let i := 0 } lt(i, 8192) { i := add(i, 128) } {
                    let v := le40(mload(tp))
                    let o := add(tmp, i)
                    mstore(o, shl(13, and(v, 0x3ff)))
                    mstore(add(o, 32), shl(13, and(shr(10, v), 0x3ff)))
                    mstore(add(o, 64), shl(13, and(shr(20, v), 0x3ff)))
                    mstore(add(o, 96), shl(13, shr(30, v)))
                    tp := add(tp, 5)
                }
                ntt(tmp, zt)
            }

            /// acc -= c-hat NTT(t1[r] * 2^d).
            function subtractCt1(w, zt, r) {
                t1Hat(w, zt, r)
                let tmp := add(w, 14592)
                let acc := add(w, 22784)
                let ch := add(w, 6400)
                for { let i := 0 } lt(i, 8192) { i := add(i, 32) } {
                    let a := add(acc, i)
                    let t := mulmod(mload(add(ch, i)), mload(add(tmp, i)), 8380417)
                    mstore(a, addmod(mload(a), sub(8380417, t), 8380417))
                }
            }

            /// acc = A-hat[r] z-hat - c-hat t1-hat[r] from an expanded row (seven A-hat entries, then
            /// t1-hat, 256 three-byte coefficients each) copied to ROW.
            function accumulateExpanded(w) {
                let acc := add(w, 22784)
                let row := add(w, 88320)
                {
                    let z0 := add(w, 30976)
                    for { let i := 0 } lt(i, 8192) { i := add(i, 32) } {
                        let coef := add(row, mul(shr(5, i), 3))
                        mstore(add(acc, i), mulmod(shr(232, mload(coef)), mload(add(z0, i)), 8380417))
                    }
                }
                for { let s := 1 } lt(s, 7) { s := add(s, 1) } {
                    let zs := add(add(w, 30976), shl(13, s))
                    let as := add(row, mul(s, 768))
                    for { let i := 0 } lt(i, 8192) { i := add(i, 32) } {
                        let a := add(acc, i)
                        let coef := shr(232, mload(add(as, mul(shr(5, i), 3))))
                        mstore(a, addmod(mload(a), mulmod(coef, mload(add(zs, i)), 8380417), 8380417))
                    }
                }
                let ch := add(w, 6400)
                let ts := add(row, 5376)
                for { let i := 0 } lt(i, 8192) { i := add(i, 32) } {
                    let a := add(acc, i)
                    let t := mulmod(mload(add(ch, i)), shr(232, mload(add(ts, mul(shr(5, i), 3)))), 8380417)
                    mstore(a, addmod(mload(a), sub(8380417, t), 8380417))
                }
            }

            /// Writes polynomial `p` (256 words) as 768 big-endian three-byte coefficients at `out`
            /// (the 29 bytes after them are clobbered).
            function writePoly(p, out) {
                for { let i := 0 } lt(i, 8192) { i := add(i, 32) } {
                    mstore(add(out, mul(shr(5, i), 3)), shl(232, mload(add(p, i))))
                }
            }

            /// Row r of the expanded key at `out`: A-hat[r][0..7] from rho, then NTT(t1[r] * 2^d).
            function expandRow(w, zt, rcp, r, out) {
                let tmp := add(w, 14592)
                mstore(add(w, 2144), mload(add(w, 3616))) // rho
                mstore8(add(w, add(2144, 33)), r)
                for { let s := 0 } lt(s, 7) { s := add(s, 1) } {
                    mstore8(add(w, add(2144, 32)), s)
                    rejNttPoly(w, rcp, tmp)
                    writePoly(tmp, add(out, mul(s, 768)))
                }
                t1Hat(w, zt, r)
                writePoly(tmp, add(out, 5376))
            }

            /// w1Encode(UseHint(h[r], NTT^-1(acc))) into row r of the final hash input.
            function encodeW1(w, zt, r) {
                let acc := add(w, 22784)
                inttUnscaled(acc, zt)
                let hints := mload(add(add(w, 2240), shl(5, r)))
                let out := add(w, add(2496, add(64, shl(7, r))))
                for { let j := 0 } lt(j, 256) { j := add(j, 2) } {
                    let a := add(acc, shl(5, j))
                    // 8347681 = 256^-1 mod q, the scaling the inverse NTT left out.
                    let w0 := useHint(mulmod(mload(a), 8347681, 8380417), and(shr(j, hints), 1))
                    let w1 := useHint(mulmod(mload(add(a, 32)), 8347681, 8380417), and(shr(add(j, 1), hints), 1))
                    mstore8(add(out, shr(1, j)), or(w0, shl(4, w1)))
                }
            }

            /// tr = H(pk, 64) into the start of M', the public key copied to PK.
            function computeTr(w, rcp, pk) {
                let pkm := add(w, 3616)
                calldatacopy(pkm, pk, 2592)
                shake(w, rcp, pkm, 2592, 136)
                mcopy(add(w, 94720), add(w, 1856), 64)
            }

            /// mu = H(tr || M', 64) into the final hash input, with M' = 0 || |ctx| || ctx || M after
            /// tr; the call's (offset, length) pairs for ctx and M are at ARGS.
            function computeMu(w, rcp) {
                let mp := add(w, 94720)
                let ctxOff := mload(add(w, 6272))
                let ctxLen := mload(add(w, add(6272, 32)))
                let msgOff := mload(add(w, add(6272, 64)))
                let msgLen := mload(add(w, add(6272, 96)))
                mstore8(add(mp, 64), 0)
                mstore8(add(mp, 65), ctxLen)
                calldatacopy(add(mp, 66), ctxOff, ctxLen)
                calldatacopy(add(mp, add(66, ctxLen)), msgOff, msgLen)
                shake(w, rcp, mp, add(66, add(ctxLen, msgLen)), 136)
                mcopy(add(w, 2496), add(w, 1856), 64)
            }

            /// ML-DSA.Verify_internal (Algorithm 8) on the work area `w`; with `key` nonzero the
            /// expansion comes from the ten words at `key`, else from the public key at `pk`.
            function verifyInternal(w, zt, rcp, pk, sig, key) -> ok {
                if iszero(decodeZ(w, sig)) { leave }
                if iszero(decodeHints(w, sig)) { leave }
                for { let s := 0 } lt(s, 7) { s := add(s, 1) } { ntt(add(add(w, 30976), shl(13, s)), zt) }
                switch key
                case 0 { computeTr(w, rcp, pk) }
                default { mcopy(add(w, 94720), key, 64) }
                computeMu(w, rcp)
                calldatacopy(add(w, 2080), sig, 64)
                sampleInBall(w, rcp)
                ntt(add(w, 6400), zt)
                mstore(add(w, 2144), mload(add(w, 3616))) // rho
                for { let r := 0 } lt(r, 8) { r := add(r, 1) } {
                    switch key
                    case 0 {
                        let acc := add(w, 22784)
                        for { let i := 0 } lt(i, 8192) { i := add(i, 32) } { mstore(add(acc, i), 0) }
                        accumulateAz(w, rcp, r)
                        subtractCt1(w, zt, r)
                    }
                    default {
                        extcodecopy(mload(add(key, add(64, shl(5, r)))), add(w, 88320), 1, 6144)
                        accumulateExpanded(w)
                    }
                    encodeW1(w, zt, r)
                }
                // c~' = H(mu || w1Encode(w1'), 64) must equal c~.
                shake(w, rcp, add(w, 2496), 1088, 136)
                let sq := add(w, 1856)
                let ct := add(w, 2080)
                ok := and(eq(mload(sq), mload(ct)), eq(mload(add(sq, 32)), mload(add(ct, 32))))
            }

            // Zetas as words, then the work area.
            let zt := mload(0x40)
            let zsrc := add(zetas, 32)
            for { let i := 0 } lt(i, 256) { i := add(i, 1) } {
                mstore(add(zt, shl(5, i)), shr(232, mload(add(zsrc, mul(i, 3)))))
            }
            let w := add(zt, 8192)
            let rcp := add(roundConstants, 32)
            // ctx offset and length, M offset and length where computeMu reads them.
            mcopy(add(w, 6272), add(args, 32), 128)
            let arg := mload(add(args, 192))
            switch op
            case 0 { result := verifyInternal(w, zt, rcp, mload(args), mload(add(args, 160)), 0) }
            case 1 { result := verifyInternal(w, zt, rcp, 0, mload(add(args, 160)), arg) }
            case 2 {
                calldatacopy(add(w, 3616), mload(args), 2592)
                // Initcode: PUSH2 len, DUP1, PUSH1 12, PUSH1 0, CODECOPY, PUSH1 0, RETURN, then
                // the code: a STOP byte (calling it does nothing) and the row.
                initcode := add(w, 100000)
                let len := 6145
                mstore(initcode, add(12, len))
                let code := add(initcode, 32)
                mstore(code, or(shl(248, 0x61), or(shl(232, len), shl(160, 0x80600c6000396000f3))))
                mstore8(add(code, 12), 0)
                expandRow(w, zt, rcp, arg, add(code, 13))
                mstore(0x40, add(code, add(12, add(len, 64))))
            }
            default {
                computeTr(w, rcp, mload(args))
                result := add(w, 94720)
                mstore(0x40, add(result, 64))
            }
        }
    }
}
