#!/usr/bin/env python3
"""Checks test/fixtures/mldsa87/vectors.bin (made with the Rust fips204 crate) against
dilithium-py, an independent ML-DSA implementation: every record's expected answer must be
dilithium-py's. Run by `cargo test -p aegis-pqc --test mldsa87_vectors` with the Python environment
scripts/bootstrap.sh makes (.tools/bin/aegis-python)."""

import pathlib
import sys

from dilithium_py.ml_dsa import ML_DSA_87

PK_LEN, SIG_LEN = 2592, 4627


def records(data: bytes):
    at = 0
    while at < len(data):
        pk_len = int.from_bytes(data[at : at + 2], "big")
        sig_len = int.from_bytes(data[at + 2 : at + 4], "big")
        msg_len = int.from_bytes(data[at + 4 : at + 6], "big")
        ctx_len, expected, cls = data[at + 6], data[at + 7], data[at + 8]
        at += 9
        pk = data[at : at + pk_len]
        at += pk_len
        sig = data[at : at + sig_len]
        at += sig_len
        ctx = data[at : at + ctx_len]
        at += ctx_len
        msg = data[at : at + msg_len]
        at += msg_len
        yield pk, sig, ctx, msg, bool(expected), cls


def verifies(pk: bytes, sig: bytes, ctx: bytes, msg: bytes) -> bool:
    if len(pk) != PK_LEN or len(sig) != SIG_LEN:
        return False
    try:
        return bool(ML_DSA_87.verify(pk, msg, sig, ctx=ctx))
    except ValueError:
        # dilithium-py raises on malformed hints; FIPS 204 says such a signature is invalid.
        return False


def main() -> int:
    path = pathlib.Path(sys.argv[1])
    disagreements, total, valid = 0, 0, 0
    for index, (pk, sig, ctx, msg, expected, cls) in enumerate(records(path.read_bytes())):
        total += 1
        got = verifies(pk, sig, ctx, msg)
        valid += got
        if got != expected:
            disagreements += 1
            print(f"vector {index} (class {cls}): fips204 says {expected}, dilithium-py {got}")
    print(f"{path.name}: {total} vectors, {valid} valid, {disagreements} disagreements")
    return 1 if disagreements or total == 0 or valid == 0 else 0


if __name__ == "__main__":
    sys.exit(main())
