//! Prints the v1 signature-bundle test vector (hex) from fixed keys: the file under
//! `crates/security/pqc/tests/vectors/` was made with
//! `cargo run -q -p aegis-pqc --example bundle_vector > crates/security/pqc/tests/vectors/bundle-v1.hex`.
//! Signatures are hedged (randomised), so a rerun gives different signature bytes over the same
//! commitment and keys; both verify.

use aegis_pqc::{
    BatchCommitment, EcdsaSigner, MlDsa87Signer, SignatureBundle, SlhDsaSigner, SlhDsaVariant,
    block_hashes_hash,
};
use alloy_primitives::{B256, hex};
use rand_chacha::{ChaCha20Rng, rand_core::SeedableRng};

fn main() -> Result<(), aegis_pqc::PqcError> {
    let commitment = BatchCommitment {
        chain_id: 901,
        batch_id: 1,
        first_block: 1,
        last_block: 3,
        block_hashes_hash: block_hashes_hash(&[
            B256::repeat_byte(0xa1),
            B256::repeat_byte(0xa2),
            B256::repeat_byte(0xa3),
        ]),
        frames_hash: B256::repeat_byte(0xf0),
        key_epoch: 0,
    };
    let mut bundle = SignatureBundle::new(commitment);
    bundle.sign_with(&EcdsaSigner::from_secret(&[0x11; 32])?, 0)?;
    bundle.sign_with(&MlDsa87Signer::from_seed(&[0x22; 32]), 0)?;
    let slh = SlhDsaSigner::generate(SlhDsaVariant::Sha2, &mut ChaCha20Rng::from_seed([0x33; 32]))?;
    bundle.sign_with(&slh, 0)?;
    println!("{}", hex::encode(bundle.encode()));
    Ok(())
}
