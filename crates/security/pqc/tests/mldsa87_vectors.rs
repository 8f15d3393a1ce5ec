//! ML-DSA-87 verification vectors for the on-chain verifier (`contracts/MlDsa87Verifier.sol`).
//!
//! Signatures come from `fips204` with fixed seeds; every valid one is followed by its tampered
//! variants (flipped bits in c~, z and h, a hint with too many ones or unsorted indices, ||z||inf
//! out of range, another context, key or message, truncated and over-long encodings). Each
//! record's expected answer is what `fips204` says, never what the tamper was meant to do.
//! `test/MlDsa87Verifier.t.sol` checks the contract against every record and
//! `tests/check_mldsa_vectors.py` checks them against dilithium-py, an independent
//! implementation. Regenerate with `AEGIS_WRITE_VECTORS=1 cargo test -p aegis-pqc --test
//! mldsa87_vectors`.

use alloy_primitives::keccak256;
use fips204::{
    ml_dsa_87,
    traits::{KeyGen, SerDes, Signer, Verifier},
};
use std::path::PathBuf;

const PK_LEN: usize = 2592;
const SIG_LEN: usize = 4627;
/// Where z starts and ends, and where the hint starts, in a signature.
const Z_START: usize = 64;
const H_START: usize = 64 + 7 * 640;
/// Hint positions (omega) before the eight per-row counts.
const OMEGA: usize = 75;

/// What a record tests.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
enum Class {
    Valid = 0,
    FlipCTilde = 1,
    FlipZ = 2,
    FlipHint = 3,
    TooManyHints = 4,
    UnsortedHints = 5,
    ZOutOfRange = 6,
    WrongContext = 7,
    WrongKey = 8,
    WrongMessage = 9,
    Truncated = 10,
    OverLong = 11,
    NonzeroHintPadding = 12,
}

struct Record {
    class: Class,
    pk: Vec<u8>,
    sig: Vec<u8>,
    ctx: Vec<u8>,
    msg: Vec<u8>,
}

/// Deterministic bytes: keccak256 in counter mode over a label.
struct Stream(u64, &'static str);

impl Stream {
    fn bytes(&mut self, n: usize) -> Vec<u8> {
        let mut out = Vec::with_capacity(n + 32);
        while out.len() < n {
            self.0 += 1;
            out.extend_from_slice(keccak256(format!("{}/{}", self.1, self.0)).as_slice());
        }
        out.truncate(n);
        out
    }
    fn below(&mut self, n: usize) -> usize {
        let b = self.bytes(8);
        (u64::from_be_bytes(b.try_into().unwrap()) % n as u64) as usize
    }
    fn seed(&mut self) -> [u8; 32] {
        self.bytes(32).try_into().unwrap()
    }
}

/// What fips204 answers for a record (malformed lengths never verify).
fn fips204_verifies(record: &Record) -> bool {
    let (Ok(pk), Ok(sig)) = (
        <[u8; PK_LEN]>::try_from(record.pk.as_slice()),
        <[u8; SIG_LEN]>::try_from(record.sig.as_slice()),
    ) else {
        return false;
    };
    let Ok(pk) = ml_dsa_87::PublicKey::try_from_bytes(pk) else {
        return false;
    };
    pk.verify(&record.msg, &sig, &record.ctx)
}

/// The hint's per-row end indices and the row that has at least two hints, if any.
fn hint_row_with_two(sig: &[u8]) -> Option<usize> {
    let mut start = 0;
    (0..8).find_map(|row| {
        let end = sig[H_START + OMEGA + row] as usize;
        let found = (end >= start + 2).then_some(start);
        start = end;
        found
    })
}

fn tampered(valid: &Record, other_pk: &[u8], rng: &mut Stream) -> Vec<Record> {
    let with_sig = |class, sig: Vec<u8>| Record {
        class,
        pk: valid.pk.clone(),
        sig,
        ctx: valid.ctx.clone(),
        msg: valid.msg.clone(),
    };
    let flip = |range: std::ops::Range<usize>, rng: &mut Stream| {
        let mut sig = valid.sig.clone();
        let at = range.start + rng.below(range.len());
        sig[at] ^= 1 << rng.below(8);
        sig
    };
    let mut out = vec![
        with_sig(Class::FlipCTilde, flip(0..Z_START, rng)),
        with_sig(Class::FlipZ, flip(Z_START..H_START, rng)),
    ];
    // A flipped bit among the used hint positions or the counts.
    let used = valid.sig[H_START + OMEGA + 7] as usize;
    let mut hint = valid.sig.clone();
    let at = if used > 0 && rng.below(2) == 0 {
        H_START + rng.below(used)
    } else {
        H_START + OMEGA + rng.below(8)
    };
    hint[at] ^= 1 << rng.below(8);
    out.push(with_sig(Class::FlipHint, hint));
    // More ones than omega: the last row's count past 75.
    let mut too_many = valid.sig.clone();
    too_many[H_START + OMEGA + 7] = OMEGA as u8 + 1;
    out.push(with_sig(Class::TooManyHints, too_many));
    if let Some(start) = hint_row_with_two(&valid.sig) {
        let mut unsorted = valid.sig.clone();
        unsorted.swap(H_START + start, H_START + start + 1);
        out.push(with_sig(Class::UnsortedHints, unsorted));
    }
    if used < OMEGA {
        let mut padding = valid.sig.clone();
        padding[H_START + OMEGA - 1] = 1;
        out.push(with_sig(Class::NonzeroHintPadding, padding));
    }
    // A z coefficient of exactly gamma1 (encoded 0): ||z||inf >= gamma1 - beta.
    let mut z = valid.sig.clone();
    let pair = rng.below(7 * 128);
    let at = Z_START + pair * 5;
    z[at] = 0;
    z[at + 1] = 0;
    z[at + 2] &= 0xf0;
    out.push(with_sig(Class::ZOutOfRange, z));
    let mut ctx = valid.ctx.clone();
    if ctx.is_empty() {
        ctx.push(0);
    } else {
        let at = rng.below(ctx.len());
        ctx[at] ^= 0x80;
    }
    out.push(Record {
        class: Class::WrongContext,
        ctx,
        ..with_sig(Class::WrongContext, valid.sig.clone())
    });
    out.push(Record {
        class: Class::WrongKey,
        pk: other_pk.to_vec(),
        ..with_sig(Class::WrongKey, valid.sig.clone())
    });
    let mut msg = valid.msg.clone();
    msg.push(0x01);
    out.push(Record {
        class: Class::WrongMessage,
        msg,
        ..with_sig(Class::WrongMessage, valid.sig.clone())
    });
    out.push(with_sig(
        Class::Truncated,
        valid.sig[..SIG_LEN - 1].to_vec(),
    ));
    let mut long = valid.sig.clone();
    long.push(0);
    out.push(with_sig(Class::OverLong, long));
    out
}

fn records() -> Vec<Record> {
    let mut rng = Stream(0, "aegis-mldsa87-vectors-v1");
    let keys: Vec<_> = (0..3)
        .map(|_| ml_dsa_87::KG::keygen_from_seed(&rng.seed()))
        .collect();
    let mut out = Vec::new();
    for (index, (pk, sk)) in keys.iter().enumerate() {
        let other = keys[(index + 1) % keys.len()].0.clone().into_bytes();
        // A 32-byte digest with an empty context (what the anchor signs), then random lengths.
        for round in 0..2 {
            let (msg_len, ctx_len) = if round == 0 {
                (32, 0)
            } else {
                (rng.below(300), 1 + rng.below(255))
            };
            let msg = rng.bytes(msg_len);
            let ctx = rng.bytes(ctx_len);
            let sig = sk.try_sign_with_seed(&rng.seed(), &msg, &ctx).unwrap();
            let valid = Record {
                class: Class::Valid,
                pk: pk.clone().into_bytes().to_vec(),
                sig: sig.to_vec(),
                ctx,
                msg,
            };
            let variants = tampered(&valid, &other, &mut rng);
            out.push(valid);
            out.extend(variants);
        }
    }
    out
}

/// `[u16 pk len][u16 sig len][u16 msg len][u8 ctx len][u8 expected][u8 class]`, then the bytes.
fn encode(records: &[Record]) -> Vec<u8> {
    let mut out = Vec::new();
    for record in records {
        out.extend_from_slice(&(record.pk.len() as u16).to_be_bytes());
        out.extend_from_slice(&(record.sig.len() as u16).to_be_bytes());
        out.extend_from_slice(&(record.msg.len() as u16).to_be_bytes());
        out.push(record.ctx.len() as u8);
        out.push(fips204_verifies(record) as u8);
        out.push(record.class as u8);
        for part in [&record.pk, &record.sig, &record.ctx, &record.msg] {
            out.extend_from_slice(part);
        }
    }
    out
}

fn fixture() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../test/fixtures/mldsa87/vectors.bin")
}

#[test]
fn the_committed_vectors_are_what_fips204_gives() {
    let records = records();
    // The tampering must not be vacuous: every valid record verifies and most variants do not.
    let valid = records.iter().filter(|r| r.class == Class::Valid).count();
    assert_eq!(valid, 6);
    for record in &records {
        let verifies = fips204_verifies(record);
        if record.class == Class::Valid {
            assert!(verifies, "a fresh signature does not verify");
        } else if record.class != Class::FlipHint {
            // A flipped hint bit can land on a count whose change is still well formed and
            // produces the same w1 only with negligible probability; all others must fail.
            assert!(!verifies, "{:?} verifies", record.class);
        }
    }
    let bytes = encode(&records);
    if std::env::var_os("AEGIS_WRITE_VECTORS").is_some() {
        std::fs::create_dir_all(fixture().parent().unwrap()).unwrap();
        std::fs::write(fixture(), &bytes).unwrap();
    }
    let committed = std::fs::read(fixture()).expect("vectors missing: set AEGIS_WRITE_VECTORS=1");
    assert!(
        committed == bytes,
        "test/fixtures/mldsa87/vectors.bin differs from what fips204 gives"
    );
}

#[test]
fn dilithium_py_agrees_with_every_vector() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../..");
    let python = std::env::var_os("AEGIS_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join(".tools/bin/aegis-python"));
    assert!(
        python.exists(),
        "{} missing: run scripts/bootstrap.sh to install the Python test environment",
        python.display()
    );
    let output = std::process::Command::new(python)
        .arg(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/check_mldsa_vectors.py"))
        .arg(fixture())
        .output()
        .unwrap();
    let report = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "dilithium-py disagrees:\n{report}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(report.contains("0 disagreements"), "{report}");
}
