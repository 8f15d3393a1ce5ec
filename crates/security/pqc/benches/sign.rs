//! Batch-signing cost: the critical-path bundle (ECDSA + ML-DSA-87) against the raw crates,
//! the background SLH-DSA-256s signature, and bundle verification.
//!
//! `cargo bench -p aegis-pqc --bench sign`

#![allow(missing_docs)] // criterion_group! generates undocumented items

use aegis_pqc::{
    BatchCommitment, EcdsaSigner, MlDsa87Signer, SignatureBundle, SlhDsaSigner, SlhDsaVariant,
};
use alloy_primitives::B256;
use criterion::{Criterion, criterion_group, criterion_main};
use fips204::traits::{KeyGen as _, Signer as _};
use rand_core::OsRng;

fn commitment() -> BatchCommitment {
    BatchCommitment {
        chain_id: 901,
        batch_id: 1,
        first_block: 1,
        last_block: 60,
        block_hashes_hash: B256::repeat_byte(1),
        frames_hash: B256::repeat_byte(2),
        key_epoch: 0,
    }
}

fn critical_path(c: &mut Criterion) {
    let seed = [7u8; 32];
    let ecdsa = EcdsaSigner::generate(&mut OsRng);
    let mldsa = MlDsa87Signer::from_seed(&seed);
    let (_, raw_mldsa) = fips204::ml_dsa_87::KG::keygen_from_seed(&seed);
    let raw_ecdsa = k256::ecdsa::SigningKey::random(&mut OsRng);
    let message = commitment().hash();

    let mut group = c.benchmark_group("batch_sign");
    group.bench_function("raw fips204 + k256", |b| {
        b.iter(|| {
            let sig = raw_mldsa
                .try_sign_with_rng(&mut OsRng, message.as_slice(), &[])
                .unwrap();
            let ec = raw_ecdsa
                .sign_prehash_recoverable(message.as_slice())
                .unwrap();
            (sig, ec)
        })
    });
    group.bench_function("bundle ECDSA + ML-DSA-87 (commitment, sign, encode)", |b| {
        b.iter(|| {
            let mut bundle = SignatureBundle::new(commitment());
            bundle.sign_with(&ecdsa, 0).unwrap();
            bundle.sign_with(&mldsa, 0).unwrap();
            bundle.encode()
        })
    });
    group.finish();
}

fn background(c: &mut Criterion) {
    let slh = SlhDsaSigner::generate(SlhDsaVariant::Sha2, &mut OsRng).unwrap();
    let mut bundle = SignatureBundle::new(commitment());
    bundle
        .sign_with(&EcdsaSigner::generate(&mut OsRng), 0)
        .unwrap();
    bundle
        .sign_with(&MlDsa87Signer::generate(&mut OsRng), 0)
        .unwrap();
    let mut group = c.benchmark_group("slh_dsa");
    group.sample_size(10);
    group.bench_function("SLH-DSA-SHA2-256s sign", |b| {
        b.iter(|| {
            let mut b2 = bundle.clone();
            b2.sign_with(&slh, 0).unwrap();
            b2
        })
    });
    group.finish();
    bundle.sign_with(&slh, 0).unwrap();
    let encoded = bundle.encode();
    c.bench_function("bundle decode + verify (3 signatures)", |b| {
        b.iter(|| SignatureBundle::decode(&encoded).unwrap().verify().unwrap())
    });
}

criterion_group!(benches, critical_path, background);
criterion_main!(benches);
