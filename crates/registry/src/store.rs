//! The sealed registry file: `"AQRG" ‖ 0x01 ‖ nonce (12) ‖ AES-256-GCM(JSON of the assets)`,
//! the first five bytes authenticated as associated data.

use crate::{Asset, RegistryError};
use aes_gcm::{Aes256Gcm, KeyInit, aead::Aead};
use rand_core::{OsRng, RngCore};
use std::{io::Write, path::PathBuf};
use zeroize::Zeroizing;

const MAGIC: &[u8; 4] = b"AQRG";
const VERSION: u8 = 1;
const HEADER: usize = 5;
const NONCE: usize = 12;

pub(crate) struct SealedFile {
    path: PathBuf,
    key: Zeroizing<[u8; 32]>,
}

impl std::fmt::Debug for SealedFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SealedFile")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl SealedFile {
    pub(crate) fn new(path: PathBuf, key: Zeroizing<[u8; 32]>) -> Self {
        Self { path, key }
    }

    fn err(&self, reason: impl std::fmt::Display) -> RegistryError {
        RegistryError::Storage {
            path: self.path.clone(),
            reason: reason.to_string(),
        }
    }

    /// The assets in the file; none when it does not exist.
    pub(crate) fn load(&self) -> Result<Vec<Asset>, RegistryError> {
        let bytes = match std::fs::read(&self.path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(self.err(e)),
        };
        if bytes.len() < HEADER + NONCE + 16 || &bytes[..4] != MAGIC {
            return Err(self.err("not a sealed registry file"));
        }
        if bytes[4] != VERSION {
            return Err(self.err(format!("unsupported version {}", bytes[4])));
        }
        let cipher = Aes256Gcm::new_from_slice(self.key.as_ref()).expect("32-byte key");
        let plain = Zeroizing::new(
            cipher
                .decrypt(
                    bytes[HEADER..HEADER + NONCE].into(),
                    aes_gcm::aead::Payload {
                        msg: &bytes[HEADER + NONCE..],
                        aad: &bytes[..HEADER],
                    },
                )
                .map_err(|_| self.err("cannot be opened with this node's key (or is corrupt)"))?,
        );
        serde_json::from_slice(&plain).map_err(|e| self.err(e))
    }

    /// Replaces the file with `assets`, sealed under a fresh nonce (write, fsync, rename).
    pub(crate) fn save<'a>(
        &self,
        assets: impl Iterator<Item = &'a Asset>,
    ) -> Result<(), RegistryError> {
        let assets: Vec<&Asset> = assets.collect();
        let plain = Zeroizing::new(serde_json::to_vec(&assets).map_err(|e| self.err(e))?);
        let mut nonce = [0u8; NONCE];
        OsRng.fill_bytes(&mut nonce);
        let mut header = [0u8; HEADER];
        header[..4].copy_from_slice(MAGIC);
        header[4] = VERSION;
        let cipher = Aes256Gcm::new_from_slice(self.key.as_ref()).expect("32-byte key");
        let sealed = cipher
            .encrypt(
                (&nonce).into(),
                aes_gcm::aead::Payload {
                    msg: &plain,
                    aad: &header,
                },
            )
            .map_err(|_| self.err("sealing failed"))?;
        if let Some(dir) = self.path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| self.err(e))?;
        }
        let tmp = self.path.with_extension("tmp");
        let mut file = std::fs::File::create(&tmp).map_err(|e| self.err(e))?;
        for part in [&header[..], &nonce[..], &sealed[..]] {
            file.write_all(part).map_err(|e| self.err(e))?;
        }
        file.sync_all().map_err(|e| self.err(e))?;
        std::fs::rename(&tmp, &self.path).map_err(|e| self.err(e))
    }
}
