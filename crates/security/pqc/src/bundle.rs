//! The batch commitment and the canonical signature bundle (format: crate README).

use crate::{Algorithm, PqcError, Signer, verify};
use alloy_primitives::{B256, keccak256};
use alloy_sol_types::SolStruct;

/// First four bytes of every encoded bundle.
pub const BUNDLE_MAGIC: [u8; 4] = *b"AQSB";
/// The bundle format version this code writes and reads.
pub const BUNDLE_VERSION: u8 = 1;
/// Bundle kind: a batch commitment.
const KIND_BATCH: u8 = 1;

alloy_sol_types::sol! {
    /// The EIP-712 struct whose hash is a batch's commitment.
    struct AegisBatch {
        uint64 chainId;
        uint64 batchId;
        uint64 firstBlock;
        uint64 lastBlock;
        bytes32 blockHashesHash;
        bytes32 framesHash;
        uint32 keyEpoch;
    }
}

/// keccak256 of the concatenated 32-byte block hashes of a batch, in block order.
pub fn block_hashes_hash(hashes: &[B256]) -> B256 {
    let mut bytes = Vec::with_capacity(hashes.len() * 32);
    for hash in hashes {
        bytes.extend_from_slice(hash.as_slice());
    }
    keccak256(bytes)
}

/// What a batch's signatures cover.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BatchCommitment {
    /// L2 chain id.
    pub chain_id: u64,
    /// The batch number (consecutive per sequencer, from 1).
    pub batch_id: u64,
    /// First L2 block in the batch.
    pub first_block: u64,
    /// Last L2 block in the batch.
    pub last_block: u64,
    /// [`block_hashes_hash`] of the batch's blocks.
    pub block_hashes_hash: B256,
    /// keccak256 of the batch's frames (batcher-transaction calldata, concatenated).
    pub frames_hash: B256,
    /// The key epoch whose keys sign it.
    pub key_epoch: u32,
}

impl BatchCommitment {
    /// The 32-byte commitment every signature signs: the EIP-712 struct hash of
    /// `AegisBatch(uint64 chainId,uint64 batchId,uint64 firstBlock,uint64 lastBlock,bytes32 blockHashesHash,bytes32 framesHash,uint32 keyEpoch)`,
    /// so that Solidity can recompute it with `keccak256(abi.encode(TYPEHASH, ...))`.
    pub fn hash(&self) -> B256 {
        AegisBatch {
            chainId: self.chain_id,
            batchId: self.batch_id,
            firstBlock: self.first_block,
            lastBlock: self.last_block,
            blockHashesHash: self.block_hashes_hash,
            framesHash: self.frames_hash,
            keyEpoch: self.key_epoch,
        }
        .eip712_hash_struct()
    }
}

/// One signature in a bundle.
#[derive(Clone, PartialEq, Eq)]
pub struct BundleSignature {
    /// The algorithm.
    pub algorithm: Algorithm,
    /// The key epoch of the signing key.
    pub key_epoch: u32,
    /// The signer's public key.
    pub public_key: Vec<u8>,
    /// The signature over the commitment hash.
    pub signature: Vec<u8>,
}

impl std::fmt::Debug for BundleSignature {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BundleSignature")
            .field("algorithm", &self.algorithm)
            .field("key_epoch", &self.key_epoch)
            .field("key_hash", &keccak256(&self.public_key))
            .field("signature_hash", &keccak256(&self.signature))
            .finish()
    }
}

/// A batch commitment and its signatures, at most one per algorithm, in algorithm-id order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignatureBundle {
    /// What is signed.
    pub commitment: BatchCommitment,
    /// The signatures, sorted by algorithm id.
    pub signatures: Vec<BundleSignature>,
}

/// Reads a canonical bundle field by field; every read checks the length first.
struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize, what: &str) -> Result<&'a [u8], PqcError> {
        let end = self
            .at
            .checked_add(n)
            .filter(|end| *end <= self.bytes.len());
        let Some(end) = end else {
            return Err(PqcError::MalformedBundle(format!(
                "truncated in {what} at byte {} ({} bytes left, {n} needed)",
                self.at,
                self.bytes.len() - self.at
            )));
        };
        let out = &self.bytes[self.at..end];
        self.at = end;
        Ok(out)
    }

    fn array<const N: usize>(&mut self, what: &str) -> Result<[u8; N], PqcError> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.take(N, what)?);
        Ok(out)
    }

    fn u8(&mut self, what: &str) -> Result<u8, PqcError> {
        Ok(self.array::<1>(what)?[0])
    }

    fn u16(&mut self, what: &str) -> Result<u16, PqcError> {
        Ok(u16::from_be_bytes(self.array(what)?))
    }

    fn u32(&mut self, what: &str) -> Result<u32, PqcError> {
        Ok(u32::from_be_bytes(self.array(what)?))
    }

    fn u64(&mut self, what: &str) -> Result<u64, PqcError> {
        Ok(u64::from_be_bytes(self.array(what)?))
    }

    fn b256(&mut self, what: &str) -> Result<B256, PqcError> {
        Ok(B256::from(self.array::<32>(what)?))
    }
}

impl SignatureBundle {
    /// An unsigned bundle for `commitment`.
    pub fn new(commitment: BatchCommitment) -> Self {
        Self {
            commitment,
            signatures: Vec::new(),
        }
    }

    /// Signs the commitment with `signer` (key epoch `key_epoch`) and adds the signature,
    /// replacing one of the same algorithm.
    pub fn sign_with(&mut self, signer: &dyn Signer, key_epoch: u32) -> Result<(), PqcError> {
        let signature = signer.sign(&self.commitment.hash())?;
        self.insert(BundleSignature {
            algorithm: signer.algorithm(),
            key_epoch,
            public_key: signer.public_key().to_vec(),
            signature,
        });
        Ok(())
    }

    /// Adds `signature` in id order, replacing one of the same algorithm.
    pub fn insert(&mut self, signature: BundleSignature) {
        match self
            .signatures
            .binary_search_by_key(&signature.algorithm, |s| s.algorithm)
        {
            Ok(i) => self.signatures[i] = signature,
            Err(i) => self.signatures.insert(i, signature),
        }
    }

    /// The signature of `algorithm`, if present.
    pub fn signature(&self, algorithm: Algorithm) -> Option<&BundleSignature> {
        self.signatures.iter().find(|s| s.algorithm == algorithm)
    }

    /// The SLH-DSA signature of either variant, if present.
    pub fn slh_dsa_signature(&self) -> Option<&BundleSignature> {
        self.signatures.iter().find(|s| s.algorithm.is_slh_dsa())
    }

    /// Checks every signature over the commitment hash, and that each one's epoch is the
    /// commitment's key epoch. Returns the algorithms that verified.
    pub fn verify(&self) -> Result<Vec<Algorithm>, PqcError> {
        let message = self.commitment.hash();
        let mut verified = Vec::with_capacity(self.signatures.len());
        for s in &self.signatures {
            if s.key_epoch != self.commitment.key_epoch {
                return Err(PqcError::MalformedBundle(format!(
                    "{} signature is from key epoch {}, the commitment names epoch {}",
                    s.algorithm, s.key_epoch, self.commitment.key_epoch
                )));
            }
            verify(s.algorithm, &s.public_key, &message, &s.signature)?;
            verified.push(s.algorithm);
        }
        Ok(verified)
    }

    /// Encodes the bundle canonically (see the crate README).
    pub fn encode(&self) -> Vec<u8> {
        let c = &self.commitment;
        let size: usize = 4
            + 1
            + 1
            + 8 * 4
            + 32 * 2
            + 4
            + 1
            + self
                .signatures
                .iter()
                .map(|s| 1 + 4 + 2 + s.public_key.len() + 4 + s.signature.len())
                .sum::<usize>();
        let mut out = Vec::with_capacity(size);
        out.extend_from_slice(&BUNDLE_MAGIC);
        out.push(BUNDLE_VERSION);
        out.push(KIND_BATCH);
        out.extend_from_slice(&c.chain_id.to_be_bytes());
        out.extend_from_slice(&c.batch_id.to_be_bytes());
        out.extend_from_slice(&c.first_block.to_be_bytes());
        out.extend_from_slice(&c.last_block.to_be_bytes());
        out.extend_from_slice(c.block_hashes_hash.as_slice());
        out.extend_from_slice(c.frames_hash.as_slice());
        out.extend_from_slice(&c.key_epoch.to_be_bytes());
        out.push(self.signatures.len() as u8);
        for s in &self.signatures {
            out.push(s.algorithm.id());
            out.extend_from_slice(&s.key_epoch.to_be_bytes());
            out.extend_from_slice(&(s.public_key.len() as u16).to_be_bytes());
            out.extend_from_slice(&s.public_key);
            out.extend_from_slice(&(s.signature.len() as u32).to_be_bytes());
            out.extend_from_slice(&s.signature);
        }
        out
    }

    /// Decodes a canonical bundle: known version and kind, at most one signature per
    /// algorithm in ascending id order, exact key and signature lengths, no trailing bytes.
    /// Decoding does not verify signatures: call [`SignatureBundle::verify`].
    pub fn decode(bytes: &[u8]) -> Result<Self, PqcError> {
        let mut r = Reader { bytes, at: 0 };
        if r.array::<4>("magic")? != BUNDLE_MAGIC {
            return Err(PqcError::MalformedBundle(
                "bad magic (expected \"AQSB\")".into(),
            ));
        }
        let version = r.u8("version")?;
        if version != BUNDLE_VERSION {
            return Err(PqcError::UnsupportedBundleVersion(version));
        }
        let kind = r.u8("kind")?;
        if kind != KIND_BATCH {
            return Err(PqcError::MalformedBundle(format!("unknown kind {kind}")));
        }
        let commitment = BatchCommitment {
            chain_id: r.u64("chain id")?,
            batch_id: r.u64("batch id")?,
            first_block: r.u64("first block")?,
            last_block: r.u64("last block")?,
            block_hashes_hash: r.b256("block hashes hash")?,
            frames_hash: r.b256("frames hash")?,
            key_epoch: r.u32("key epoch")?,
        };
        if commitment.first_block > commitment.last_block {
            return Err(PqcError::MalformedBundle(format!(
                "first block {} after last block {}",
                commitment.first_block, commitment.last_block
            )));
        }
        let count = r.u8("signature count")?;
        if usize::from(count) > Algorithm::ALL.len() {
            return Err(PqcError::MalformedBundle(format!(
                "{count} signatures, at most {} allowed",
                Algorithm::ALL.len()
            )));
        }
        let mut signatures: Vec<BundleSignature> = Vec::with_capacity(count.into());
        for _ in 0..count {
            let algorithm = Algorithm::from_id(r.u8("algorithm id")?)?;
            if signatures
                .last()
                .is_some_and(|last| last.algorithm >= algorithm)
            {
                return Err(PqcError::MalformedBundle(format!(
                    "{algorithm} signature out of order or repeated"
                )));
            }
            let key_epoch = r.u32("key epoch")?;
            let key_len = usize::from(r.u16("public key length")?);
            if key_len != algorithm.public_key_len() {
                return Err(PqcError::InvalidPublicKey {
                    algorithm: algorithm.name(),
                    reason: format!("{key_len} bytes, expected {}", algorithm.public_key_len()),
                });
            }
            let public_key = r.take(key_len, "public key")?.to_vec();
            let sig_len = r.u32("signature length")? as usize;
            if sig_len != algorithm.signature_len() {
                return Err(PqcError::SignatureLength {
                    algorithm: algorithm.name(),
                    expected: algorithm.signature_len(),
                    got: sig_len,
                });
            }
            let signature = r.take(sig_len, "signature")?.to_vec();
            signatures.push(BundleSignature {
                algorithm,
                key_epoch,
                public_key,
                signature,
            });
        }
        if r.at != bytes.len() {
            return Err(PqcError::MalformedBundle(format!(
                "{} trailing bytes",
                bytes.len() - r.at
            )));
        }
        Ok(Self {
            commitment,
            signatures,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{EcdsaSigner, MlDsa87Signer, SlhDsaSigner, SlhDsaVariant};
    use proptest::prelude::*;
    use rand_chacha::{ChaCha20Rng, rand_core::SeedableRng};

    fn commitment() -> BatchCommitment {
        BatchCommitment {
            chain_id: 901,
            batch_id: 7,
            first_block: 100,
            last_block: 110,
            block_hashes_hash: block_hashes_hash(&[B256::repeat_byte(1), B256::repeat_byte(2)]),
            frames_hash: B256::repeat_byte(3),
            key_epoch: 2,
        }
    }

    fn signed(with_slh: bool) -> SignatureBundle {
        let mut rng = ChaCha20Rng::seed_from_u64(1);
        let mut bundle = SignatureBundle::new(commitment());
        bundle
            .sign_with(&EcdsaSigner::generate(&mut rng), 2)
            .unwrap();
        bundle
            .sign_with(&MlDsa87Signer::generate(&mut rng), 2)
            .unwrap();
        if with_slh {
            let slh = SlhDsaSigner::generate(SlhDsaVariant::Sha2, &mut rng).unwrap();
            bundle.sign_with(&slh, 2).unwrap();
        }
        bundle
    }

    #[test]
    fn commitment_hash_is_the_eip712_struct_hash() {
        // keccak256(abi.encode(TYPEHASH, fields...)) written out by hand.
        let c = commitment();
        let typehash = keccak256(
            "AegisBatch(uint64 chainId,uint64 batchId,uint64 firstBlock,uint64 lastBlock,bytes32 blockHashesHash,bytes32 framesHash,uint32 keyEpoch)",
        );
        let mut encoded = typehash.to_vec();
        for word in [c.chain_id, c.batch_id, c.first_block, c.last_block] {
            encoded.extend_from_slice(&B256::left_padding_from(&word.to_be_bytes())[..]);
        }
        encoded.extend_from_slice(c.block_hashes_hash.as_slice());
        encoded.extend_from_slice(c.frames_hash.as_slice());
        encoded.extend_from_slice(&B256::left_padding_from(&c.key_epoch.to_be_bytes())[..]);
        assert_eq!(c.hash(), keccak256(encoded));
    }

    #[test]
    fn encode_decode_round_trip_and_verify() {
        let bundle = signed(true);
        let bytes = bundle.encode();
        let decoded = SignatureBundle::decode(&bytes).unwrap();
        assert_eq!(decoded, bundle);
        assert_eq!(
            decoded.verify().unwrap(),
            vec![
                Algorithm::Secp256k1,
                Algorithm::MlDsa87,
                Algorithm::SlhDsaSha2_256s
            ]
        );
    }

    #[test]
    fn every_tampered_field_fails() {
        let bundle = signed(false);
        let mut cases: Vec<(&str, SignatureBundle)> = Vec::new();
        let mut b = bundle.clone();
        b.commitment.chain_id += 1;
        cases.push(("chain id", b));
        let mut b = bundle.clone();
        b.commitment.batch_id += 1;
        cases.push(("batch id", b));
        let mut b = bundle.clone();
        b.commitment.first_block += 1;
        cases.push(("first block", b));
        let mut b = bundle.clone();
        b.commitment.last_block += 1;
        cases.push(("last block", b));
        let mut b = bundle.clone();
        b.commitment.block_hashes_hash = B256::repeat_byte(9);
        cases.push(("block hashes", b));
        let mut b = bundle.clone();
        b.commitment.frames_hash = B256::repeat_byte(9);
        cases.push(("frames hash", b));
        let mut b = bundle.clone();
        b.commitment.key_epoch += 1;
        cases.push(("commitment epoch", b));
        for i in 0..bundle.signatures.len() {
            let mut b = bundle.clone();
            b.signatures[i].key_epoch += 1;
            cases.push(("signature epoch", b));
            let mut b = bundle.clone();
            b.signatures[i].signature[5] ^= 0x80;
            cases.push(("signature", b));
            let mut b = bundle.clone();
            let other = keccak256(&b.signatures[i].public_key);
            let len = b.signatures[i].public_key.len();
            b.signatures[i].public_key[len - 1] ^= other[0] | 1;
            cases.push(("public key", b));
        }
        for (what, tampered) in cases {
            let decoded = SignatureBundle::decode(&tampered.encode());
            assert!(
                decoded.and_then(|b| b.verify()).is_err(),
                "tampered {what} still verifies"
            );
        }
    }

    #[test]
    fn non_canonical_encodings_are_refused() {
        let bundle = signed(false);
        let bytes = bundle.encode();
        let mut trailing = bytes.clone();
        trailing.push(0);
        assert!(SignatureBundle::decode(&trailing).is_err());
        let mut version = bytes.clone();
        version[4] = 2;
        assert!(matches!(
            SignatureBundle::decode(&version),
            Err(PqcError::UnsupportedBundleVersion(2))
        ));
        let mut swapped = bundle.clone();
        swapped.signatures.reverse();
        assert!(SignatureBundle::decode(&swapped.encode()).is_err());
        let mut repeated = bundle.clone();
        repeated.signatures[1] = repeated.signatures[0].clone();
        assert!(SignatureBundle::decode(&repeated.encode()).is_err());
        for len in 0..bytes.len() {
            assert!(
                SignatureBundle::decode(&bytes[..len]).is_err(),
                "prefix {len}"
            );
        }
    }

    proptest! {
        #[test]
        fn decode_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..8192)) {
            let _ = SignatureBundle::decode(&bytes);
        }

        #[test]
        fn decode_of_mutated_bundles_never_panics(at in 0usize..7000, value in any::<u8>()) {
            let mut bytes = signed(false).encode();
            let at = at % bytes.len();
            bytes[at] = value;
            if let Ok(b) = SignatureBundle::decode(&bytes) {
                // Canonical: whatever decodes encodes back to the same bytes.
                prop_assert_eq!(b.encode(), bytes);
                let _ = b.verify();
            }
        }
    }
}
