#!/usr/bin/env python3
"""Independent verifier of QuantumAegis signature bundles (format v1, crates/security/pqc/README.md).

Written from the README alone, with other people's implementations of the primitives:
keccak256 (pycryptodome), secp256k1 ECDSA (ecdsa), ML-DSA-87 (dilithium-py), SLH-DSA-256s
(slh-dsa). Usage: verify_bundle.py FILE...  (each file holds a bundle as hex). Prints one line
per file, "<file> ok <algorithms>" or "<file> FAIL <reason>"; exits 0 only if every file verifies.
"""
import struct
import sys

from Crypto.Hash import keccak
from dilithium_py.ml_dsa import ML_DSA_87
import ecdsa
import slhdsa

SIZES = {  # id: (name, public key length, signature length)
    0x01: ("secp256k1", 33, 65),
    0x02: ("ML-DSA-87", 2592, 4627),
    0x03: ("SLH-DSA-SHA2-256s", 64, 29792),
    0x04: ("SLH-DSA-SHAKE-256s", 64, 29792),
}
TYPE = (b"AegisBatch(uint64 chainId,uint64 batchId,uint64 firstBlock,uint64 lastBlock,"
        b"bytes32 blockHashesHash,bytes32 framesHash,uint32 keyEpoch)")


def k256(data: bytes) -> bytes:
    return keccak.new(digest_bits=256, data=data).digest()


def word(n: int) -> bytes:
    return n.to_bytes(32, "big")


class Bad(Exception):
    pass


def parse(b: bytes):
    at = 0

    def take(n):
        nonlocal at
        if at + n > len(b):
            raise Bad(f"truncated at byte {at}")
        out = b[at:at + n]
        at += n
        return out

    if take(4) != b"AQSB":
        raise Bad("bad magic")
    if take(1) != b"\x01":
        raise Bad("unsupported version")
    if take(1) != b"\x01":
        raise Bad("unknown kind")
    chain_id, batch_id, first, last = struct.unpack(">QQQQ", take(32))
    blocks_hash, frames_hash = take(32), take(32)
    (epoch,) = struct.unpack(">I", take(4))
    if first > last:
        raise Bad("first block after last block")
    count = take(1)[0]
    sigs, last_alg = [], 0
    for _ in range(count):
        alg = take(1)[0]
        if alg not in SIZES or alg <= last_alg:
            raise Bad(f"algorithm {alg} unknown, repeated or out of order")
        last_alg = alg
        (sig_epoch,) = struct.unpack(">I", take(4))
        (pk_len,) = struct.unpack(">H", take(2))
        if pk_len != SIZES[alg][1]:
            raise Bad("public key length")
        pk = take(pk_len)
        (sig_len,) = struct.unpack(">I", take(4))
        if sig_len != SIZES[alg][2]:
            raise Bad("signature length")
        sigs.append((alg, sig_epoch, pk, take(sig_len)))
    if at != len(b):
        raise Bad("trailing bytes")
    commitment = k256(k256(TYPE) + word(chain_id) + word(batch_id) + word(first) + word(last)
                      + blocks_hash + frames_hash + word(epoch))
    return commitment, epoch, sigs


def check(alg: int, pk: bytes, msg: bytes, sig: bytes) -> bool:
    if alg == 0x01:
        r, s, v = int.from_bytes(sig[:32], "big"), int.from_bytes(sig[32:64], "big"), sig[64]
        n = ecdsa.SECP256k1.order
        if not (0 < r < n and 0 < s <= n // 2 and v in (0, 1)):
            return False
        key = ecdsa.VerifyingKey.from_string(pk, curve=ecdsa.SECP256k1)
        try:
            ok = key.verify_digest(sig[:64], msg, sigdecode=ecdsa.util.sigdecode_string)
        except ecdsa.BadSignatureError:
            return False
        # v must recover this key.
        candidates = ecdsa.VerifyingKey.from_public_key_recovery_with_digest(
            sig[:64], msg, ecdsa.SECP256k1, sigdecode=ecdsa.util.sigdecode_string)
        return ok and candidates[v].to_string("compressed") == pk
    if alg == 0x02:
        return ML_DSA_87.verify(pk, msg, sig, ctx=b"")
    par = slhdsa.sha2_256s if alg == 0x03 else slhdsa.shake_256s
    return slhdsa.PublicKey.from_digest(pk, par).verify_pure(msg, sig, b"")


def verify(b: bytes) -> list:
    commitment, epoch, sigs = parse(b)
    names = []
    for alg, sig_epoch, pk, sig in sigs:
        if sig_epoch != epoch:
            raise Bad(f"{SIZES[alg][0]} signature from another key epoch")
        if not check(alg, pk, commitment, sig):
            raise Bad(f"{SIZES[alg][0]} signature does not verify")
        names.append(SIZES[alg][0])
    return names


def main() -> int:
    status = 0
    for path in sys.argv[1:]:
        try:
            with open(path) as f:
                data = bytes.fromhex(f.read().strip().removeprefix("0x"))
            print(path, "ok", ",".join(verify(data)))
        except (Bad, ValueError) as e:
            print(path, "FAIL", e)
            status = 1
    return status


if __name__ == "__main__":
    sys.exit(main())
