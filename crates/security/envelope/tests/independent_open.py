#!/usr/bin/env python3
"""Independent check of the QuantumAegis envelope v1 format.

Written from crates/security/envelope/README.md alone, sharing no code with the Rust
crate. For every vector in tests/vectors/v1.json it:

  1. opens the envelope with the exported secret key: ML-KEM-1024
     decapsulation by kyber-py, secp256k1 ECDH and AES-256-GCM by the
     `cryptography` package, HKDF-SHA256 and keccak256 written here on top of
     the standard library;
  2. re-derives the key pair from the key seed and re-seals the payload from
     the seal seed (ChaCha20 keystream from `cryptography`, ML-KEM internals
     from kyber-py), and requires the result to be byte-identical;
  3. checks that flipping any one byte of the header or tag is refused.

Usage: independent_open.py [path/to/v1.json]   (exit status 0 on success)
"""

import hashlib
import hmac
import json
import os
import sys

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives import serialization
from kyber_py.ml_kem import ML_KEM_1024

VERSION = 0x01
HEADER_LEN = 13
KEM_CT_LEN = 1568
KEM_EK_LEN = 1568
KEM_DK_LEN = 3168
EPH_LEN = 33
TAG_LEN = 16
PREFIX_LEN = HEADER_LEN + KEM_CT_LEN + EPH_LEN
INFO = b"QuantumAegis envelope v1"
SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141


# --- keccak256 (original Keccak padding, as Ethereum uses; not SHA3-256) ---

_RC = [
    0x0000000000000001, 0x0000000000008082, 0x800000000000808A, 0x8000000080008000,
    0x000000000000808B, 0x0000000080000001, 0x8000000080008081, 0x8000000000008009,
    0x000000000000008A, 0x0000000000000088, 0x0000000080008009, 0x000000008000000A,
    0x000000008000808B, 0x800000000000008B, 0x8000000000008089, 0x8000000000008003,
    0x8000000000008002, 0x8000000000000080, 0x000000000000800A, 0x800000008000000A,
    0x8000000080008081, 0x8000000000008080, 0x0000000080000001, 0x8000000080008008,
]
_ROT = [
    [0, 36, 3, 41, 18],
    [1, 44, 10, 45, 2],
    [62, 6, 43, 15, 61],
    [28, 55, 25, 21, 56],
    [27, 20, 39, 8, 14],
]
_MASK = (1 << 64) - 1


def _rol(v, n):
    return ((v << n) | (v >> (64 - n))) & _MASK if n else v


def _keccak_f(a):
    # a[x][y], lanes as ints
    for rc in _RC:
        c = [a[x][0] ^ a[x][1] ^ a[x][2] ^ a[x][3] ^ a[x][4] for x in range(5)]
        d = [c[(x - 1) % 5] ^ _rol(c[(x + 1) % 5], 1) for x in range(5)]
        a = [[a[x][y] ^ d[x] for y in range(5)] for x in range(5)]
        b = [[0] * 5 for _ in range(5)]
        for x in range(5):
            for y in range(5):
                b[y][(2 * x + 3 * y) % 5] = _rol(a[x][y], _ROT[x][y])
        a = [[b[x][y] ^ ((~b[(x + 1) % 5][y]) & b[(x + 2) % 5][y]) for y in range(5)]
             for x in range(5)]
        a[0][0] ^= rc
    return a


def keccak256(data: bytes) -> bytes:
    rate = 136
    padded = bytearray(data)
    padded.append(0x01)
    while len(padded) % rate:
        padded.append(0)
    padded[-1] |= 0x80
    a = [[0] * 5 for _ in range(5)]
    for off in range(0, len(padded), rate):
        block = padded[off:off + rate]
        for i in range(rate // 8):
            x, y = i % 5, i // 5
            a[x][y] ^= int.from_bytes(block[8 * i:8 * i + 8], "little")
        a = _keccak_f(a)
    out = b"".join(a[i % 5][i // 5].to_bytes(8, "little") for i in range(4))
    return out


assert keccak256(b"").hex() == "c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470"


# --- HKDF-SHA256 (RFC 5869) on the standard library ---

def hkdf_sha256(salt: bytes, ikm: bytes, info: bytes, length: int) -> bytes:
    prk = hmac.new(salt, ikm, hashlib.sha256).digest()
    okm, block, counter = b"", b"", 1
    while len(okm) < length:
        block = hmac.new(prk, block + info + bytes([counter]), hashlib.sha256).digest()
        okm += block
        counter += 1
    return okm[:length]


# --- secp256k1 helpers (cryptography) ---

def secp_private(scalar: bytes):
    return ec.derive_private_key(int.from_bytes(scalar, "big"), ec.SECP256K1())


def secp_compressed(public_key) -> bytes:
    return public_key.public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.CompressedPoint
    )


def ecdh_x(scalar: bytes, peer_compressed: bytes) -> bytes:
    peer = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256K1(), peer_compressed)
    return secp_private(scalar).exchange(ec.ECDH(), peer)


# --- the envelope format ---

class Refused(Exception):
    pass


def derive(prefix: bytes, key_hash: bytes, ss_kem: bytes, ss_ecdh: bytes):
    salt = hashlib.sha256(prefix + key_hash).digest()
    okm = hkdf_sha256(salt, ss_kem + ss_ecdh, INFO, 44)
    return okm[:32], okm[32:44]


def open_envelope(env: bytes, chain_id: int, epoch: int, dk: bytes, secp_scalar: bytes,
                  key_hash: bytes) -> bytes:
    if len(env) < 1 or env[0] != VERSION:
        raise Refused("unsupported version")
    if len(env) <= PREFIX_LEN + TAG_LEN:
        raise Refused("truncated or empty")
    if int.from_bytes(env[1:9], "big") != chain_id:
        raise Refused("wrong chain")
    if int.from_bytes(env[9:13], "big") != epoch:
        raise Refused("wrong epoch")
    kem_ct = env[HEADER_LEN:HEADER_LEN + KEM_CT_LEN]
    eph = env[HEADER_LEN + KEM_CT_LEN:PREFIX_LEN]
    prefix = env[:PREFIX_LEN]
    ss_kem = ML_KEM_1024.decaps(dk, kem_ct)
    try:
        ss_ecdh = ecdh_x(secp_scalar, eph)
    except ValueError as e:
        raise Refused(f"invalid ephemeral key: {e}")
    key, nonce = derive(prefix, key_hash, ss_kem, ss_ecdh)
    try:
        return AESGCM(key).decrypt(nonce, env[PREFIX_LEN:], prefix)
    except InvalidTag:
        raise Refused("decryption failed")


class ChaChaStream:
    """rand_chacha's ChaCha20Rng::from_seed(seed), read in 32-byte draws."""

    def __init__(self, seed: bytes):
        self._enc = Cipher(algorithms.ChaCha20(seed, b"\x00" * 16), mode=None).encryptor()

    def draw(self) -> bytes:
        return self._enc.update(b"\x00" * 32)

    def scalar(self) -> bytes:
        while True:
            candidate = self.draw()
            if 0 < int.from_bytes(candidate, "big") < SECP256K1_N:
                return candidate


def public_key_encoding(chain_id: int, epoch: int, ek: bytes, secp_pub: bytes) -> bytes:
    return bytes([0x01]) + chain_id.to_bytes(8, "big") + epoch.to_bytes(4, "big") + ek + secp_pub


def reseal(chain_id, epoch, ek, secp_pub, key_hash, payload, seal_seed) -> bytes:
    rng = ChaChaStream(seal_seed)
    ss_kem, kem_ct = ML_KEM_1024._encaps_internal(ek, rng.draw())
    eph_scalar = rng.scalar()
    eph_pub = secp_compressed(secp_private(eph_scalar).public_key())
    ss_ecdh = ecdh_x(eph_scalar, secp_pub)
    prefix = bytes([VERSION]) + chain_id.to_bytes(8, "big") + epoch.to_bytes(4, "big") \
        + kem_ct + eph_pub
    key, nonce = derive(prefix, key_hash, ss_kem, ss_ecdh)
    return prefix + AESGCM(key).encrypt(nonce, payload, prefix)


def main() -> int:
    path = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "vectors", "v1.json")
    with open(path) as f:
        doc = json.load(f)
    k = doc["key"]
    chain_id, epoch = k["chain_id"], k["epoch"]
    dk = bytes.fromhex(k["ml_kem_1024_decapsulation_key"])
    scalar = bytes.fromhex(k["secp256k1_secret"])
    public = bytes.fromhex(k["public_key"])
    assert len(dk) == KEM_DK_LEN and len(scalar) == 32

    # The public key is the ek embedded in dk plus scalar·G, and its hash is keccak256.
    ek = dk[384 * 4:384 * 4 + KEM_EK_LEN]
    secp_pub = secp_compressed(secp_private(scalar).public_key())
    assert public == public_key_encoding(chain_id, epoch, ek, secp_pub), "public key encoding"
    key_hash = keccak256(public)
    assert "0x" + key_hash.hex() == k["public_key_hash"], "public key hash"

    # The key pair follows from the seed: d, z, then the secp256k1 scalar.
    rng = ChaChaStream(bytes.fromhex(k["seed"]))
    d, z = rng.draw(), rng.draw()
    ek2, dk2 = ML_KEM_1024._keygen_internal(d, z)
    assert (ek2, dk2) == (ek, dk), "ML-KEM key pair from seed"
    assert rng.scalar() == scalar, "secp256k1 scalar from seed"
    sk = bytes([0x01]) + chain_id.to_bytes(8, "big") + epoch.to_bytes(4, "big") + dk + scalar
    assert sk.hex() == k["secret_key"], "secret key encoding"
    print(f"key: chain {chain_id} epoch {epoch} hash 0x{key_hash.hex()} (re-derived from seed)")

    for v in doc["vectors"]:
        env = bytes.fromhex(v["envelope"])
        payload = bytes.fromhex(v["payload"])
        assert "0x" + keccak256(env).hex() == v["envelope_id"], "envelope id"
        opened = open_envelope(env, chain_id, epoch, dk, scalar, key_hash)
        assert opened == payload, "payload mismatch"
        resealed = reseal(chain_id, epoch, ek, secp_pub, key_hash, payload,
                          bytes.fromhex(v["seal_seed"]))
        assert resealed == env, "re-sealed envelope differs"
        for pos in [0, 1, 8, 9, 12, HEADER_LEN, PREFIX_LEN - 1, PREFIX_LEN, len(env) - 1]:
            tampered = bytearray(env)
            tampered[pos] ^= 0x01
            try:
                open_envelope(bytes(tampered), chain_id, epoch, dk, scalar, key_hash)
            except Refused:
                continue
            raise AssertionError(f"tampered byte {pos} was accepted")
        print(f"vector {v['name']}: opened {len(payload)}-byte payload, re-sealed "
              f"byte-identical, id {v['envelope_id']}")
    print("independent check: OK")
    return 0


if __name__ == "__main__":
    sys.exit(main())
