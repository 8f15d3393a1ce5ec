use crate::PqcError;
use alloy_primitives::B256;
use fips204::traits::{SerDes as _, Verifier as _};
use fips205::traits::{SerDes as _, Verifier as _};

/// The SLH-DSA-256s parameter set's hash family.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum SlhDsaVariant {
    /// SLH-DSA-SHA2-256s: about four times faster to sign than SHAKE here.
    #[default]
    Sha2,
    /// SLH-DSA-SHAKE-256s.
    Shake,
}

impl std::str::FromStr for SlhDsaVariant {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "sha2" => Ok(Self::Sha2),
            "shake" => Ok(Self::Shake),
            other => Err(format!(
                "unknown SLH-DSA variant {other:?} (expected sha2 or shake)"
            )),
        }
    }
}

/// A signature algorithm and its id in signature bundles.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u8)]
pub enum Algorithm {
    /// secp256k1 ECDSA over the 32-byte message as a prehash; 65-byte `r ‖ s ‖ v` signatures
    /// (v ∈ {0, 1}), 33-byte compressed SEC1 public keys.
    Secp256k1 = 0x01,
    /// ML-DSA-87 (FIPS 204), empty context, hedged signing.
    MlDsa87 = 0x02,
    /// SLH-DSA-SHA2-256s (FIPS 205), empty context, pure (not pre-hash) mode.
    SlhDsaSha2_256s = 0x03,
    /// SLH-DSA-SHAKE-256s (FIPS 205), empty context, pure mode.
    SlhDsaShake256s = 0x04,
}

impl Algorithm {
    /// All algorithms, in id order.
    pub const ALL: [Self; 4] = [
        Self::Secp256k1,
        Self::MlDsa87,
        Self::SlhDsaSha2_256s,
        Self::SlhDsaShake256s,
    ];

    /// The algorithm with bundle id `id`.
    pub fn from_id(id: u8) -> Result<Self, PqcError> {
        Self::ALL
            .into_iter()
            .find(|a| *a as u8 == id)
            .ok_or(PqcError::UnknownAlgorithm(id))
    }

    /// The bundle id.
    pub const fn id(self) -> u8 {
        self as u8
    }

    /// Its name as in FIPS 204/205 (and `secp256k1`).
    pub const fn name(self) -> &'static str {
        match self {
            Self::Secp256k1 => "secp256k1",
            Self::MlDsa87 => "ML-DSA-87",
            Self::SlhDsaSha2_256s => "SLH-DSA-SHA2-256s",
            Self::SlhDsaShake256s => "SLH-DSA-SHAKE-256s",
        }
    }

    /// Whether it is a post-quantum scheme.
    pub const fn is_post_quantum(self) -> bool {
        !matches!(self, Self::Secp256k1)
    }

    /// Whether it is one of the SLH-DSA-256s variants.
    pub const fn is_slh_dsa(self) -> bool {
        matches!(self, Self::SlhDsaSha2_256s | Self::SlhDsaShake256s)
    }

    /// Public key length in bytes.
    pub const fn public_key_len(self) -> usize {
        match self {
            Self::Secp256k1 => 33,
            Self::MlDsa87 => fips204::ml_dsa_87::PK_LEN,
            Self::SlhDsaSha2_256s | Self::SlhDsaShake256s => fips205::slh_dsa_sha2_256s::PK_LEN,
        }
    }

    /// Signature length in bytes.
    pub const fn signature_len(self) -> usize {
        match self {
            Self::Secp256k1 => 65,
            Self::MlDsa87 => fips204::ml_dsa_87::SIG_LEN,
            Self::SlhDsaSha2_256s | Self::SlhDsaShake256s => fips205::slh_dsa_sha2_256s::SIG_LEN,
        }
    }

    pub(crate) fn check_lengths(self, public_key: &[u8], signature: &[u8]) -> Result<(), PqcError> {
        if public_key.len() != self.public_key_len() {
            return Err(PqcError::InvalidPublicKey {
                algorithm: self.name(),
                reason: format!(
                    "{} bytes, expected {}",
                    public_key.len(),
                    self.public_key_len()
                ),
            });
        }
        if signature.len() != self.signature_len() {
            return Err(PqcError::SignatureLength {
                algorithm: self.name(),
                expected: self.signature_len(),
                got: signature.len(),
            });
        }
        Ok(())
    }
}

impl std::fmt::Display for Algorithm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Verifies `signature` by `public_key` over `message` with `algorithm`.
pub fn verify(
    algorithm: Algorithm,
    public_key: &[u8],
    message: &B256,
    signature: &[u8],
) -> Result<(), PqcError> {
    algorithm.check_lengths(public_key, signature)?;
    let bad_key = |reason: &str| PqcError::InvalidPublicKey {
        algorithm: algorithm.name(),
        reason: reason.to_string(),
    };
    let ok = match algorithm {
        Algorithm::Secp256k1 => {
            use k256::ecdsa::{RecoveryId, Signature, VerifyingKey};
            let key = VerifyingKey::from_sec1_bytes(public_key)
                .map_err(|_| bad_key("not a point on secp256k1"))?;
            let sig = Signature::from_slice(&signature[..64])
                .map_err(|_| PqcError::BadSignature(algorithm.name()))?;
            let recovery = RecoveryId::from_byte(signature[64])
                .ok_or(PqcError::BadSignature(algorithm.name()))?;
            // High-s signatures are malleable copies: canonical bundles carry low s only.
            sig.normalize_s().is_none()
                && VerifyingKey::recover_from_prehash(message.as_slice(), &sig, recovery)
                    .is_ok_and(|recovered| recovered == key)
        }
        Algorithm::MlDsa87 => {
            use fips204::ml_dsa_87;
            let pk: [u8; ml_dsa_87::PK_LEN] =
                public_key.try_into().map_err(|_| bad_key("length"))?;
            let sig: [u8; ml_dsa_87::SIG_LEN] = signature
                .try_into()
                .map_err(|_| PqcError::BadSignature(algorithm.name()))?;
            let pk = ml_dsa_87::PublicKey::try_from_bytes(pk).map_err(bad_key)?;
            pk.verify(message.as_slice(), &sig, &[])
        }
        Algorithm::SlhDsaSha2_256s => {
            use fips205::slh_dsa_sha2_256s as slh;
            let pk: &[u8; slh::PK_LEN] = public_key.try_into().map_err(|_| bad_key("length"))?;
            let sig: &[u8; slh::SIG_LEN] = signature
                .try_into()
                .map_err(|_| PqcError::BadSignature(algorithm.name()))?;
            let pk = slh::PublicKey::try_from_bytes(pk).map_err(bad_key)?;
            pk.verify(message.as_slice(), sig, &[])
        }
        Algorithm::SlhDsaShake256s => {
            use fips205::slh_dsa_shake_256s as slh;
            let pk: &[u8; slh::PK_LEN] = public_key.try_into().map_err(|_| bad_key("length"))?;
            let sig: &[u8; slh::SIG_LEN] = signature
                .try_into()
                .map_err(|_| PqcError::BadSignature(algorithm.name()))?;
            let pk = slh::PublicKey::try_from_bytes(pk).map_err(bad_key)?;
            pk.verify(message.as_slice(), sig, &[])
        }
    };
    if ok {
        Ok(())
    } else {
        Err(PqcError::BadSignature(algorithm.name()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip_and_unknown_ids_are_refused() {
        for algorithm in Algorithm::ALL {
            assert_eq!(Algorithm::from_id(algorithm.id()).unwrap(), algorithm);
        }
        for id in [0u8, 5, 0xff] {
            assert!(matches!(
                Algorithm::from_id(id),
                Err(PqcError::UnknownAlgorithm(i)) if i == id
            ));
        }
    }

    #[test]
    fn sizes_match_the_standards() {
        assert_eq!(Algorithm::MlDsa87.public_key_len(), 2592);
        assert_eq!(Algorithm::MlDsa87.signature_len(), 4627);
        assert_eq!(Algorithm::SlhDsaSha2_256s.public_key_len(), 64);
        assert_eq!(Algorithm::SlhDsaSha2_256s.signature_len(), 29792);
        assert_eq!(Algorithm::SlhDsaShake256s.signature_len(), 29792);
    }

    #[test]
    fn wrong_lengths_are_typed_errors() {
        let message = B256::repeat_byte(1);
        for algorithm in Algorithm::ALL {
            let err = verify(algorithm, &[0; 3], &message, &[]).unwrap_err();
            assert!(matches!(err, PqcError::InvalidPublicKey { .. }), "{err}");
            let pk = vec![2u8; algorithm.public_key_len()];
            let err = verify(algorithm, &pk, &message, &[0; 7]).unwrap_err();
            assert!(
                matches!(err, PqcError::SignatureLength { got: 7, .. }),
                "{err}"
            );
        }
    }
}
