//! The sealed registry file: `"AQRG" ‖ version ‖ nonce (12) ‖ AES-256-GCM(JSON)`, the first
//! five bytes authenticated as associated data. Version 1 holds the JSON array of the assets;
//! version 2 (written since control of assets is checked) holds
//! `{"assets": [...], "consumed": {"<digest>": <deadline>}}`, the signed messages used. A
//! version 1 file is read (its assets marked `legacy`) and rewritten as version 2 at the next
//! change.

use crate::{Asset, RegistryError};
use aes_gcm::{Aes256Gcm, KeyInit, aead::Aead};
use alloy_primitives::B256;
use rand_core::{OsRng, RngCore};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::{io::Write, path::PathBuf};
use zeroize::Zeroizing;

const MAGIC: &[u8; 4] = b"AQRG";
const VERSION_1: u8 = 1;
const VERSION: u8 = 2;
const HEADER: usize = 5;
const NONCE: usize = 12;

/// What a file holds.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Contents {
    pub(crate) assets: Vec<Asset>,
    #[serde(default)]
    pub(crate) consumed: BTreeMap<B256, u64>,
}

#[derive(Serialize)]
struct ContentsRef<'a> {
    assets: Vec<&'a Asset>,
    consumed: &'a BTreeMap<B256, u64>,
}

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

    /// What the file holds; nothing when it does not exist.
    pub(crate) fn load(&self) -> Result<Contents, RegistryError> {
        let bytes = match std::fs::read(&self.path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Contents::default()),
            Err(e) => return Err(self.err(e)),
        };
        if bytes.len() < HEADER + NONCE + 16 || &bytes[..4] != MAGIC {
            return Err(self.err("not a sealed registry file"));
        }
        if bytes[4] != VERSION && bytes[4] != VERSION_1 {
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
        if bytes[4] == VERSION_1 {
            let assets = serde_json::from_slice(&plain).map_err(|e| self.err(e))?;
            return Ok(Contents {
                assets,
                consumed: BTreeMap::new(),
            });
        }
        serde_json::from_slice(&plain).map_err(|e| self.err(e))
    }

    /// Replaces the file with `assets` and `consumed` (version 2), sealed under a fresh nonce
    /// (write, fsync, rename).
    pub(crate) fn save<'a>(
        &self,
        assets: impl Iterator<Item = &'a Asset>,
        consumed: &BTreeMap<B256, u64>,
    ) -> Result<(), RegistryError> {
        let contents = ContentsRef {
            assets: assets.collect(),
            consumed,
        };
        let plain = Zeroizing::new(serde_json::to_vec(&contents).map_err(|e| self.err(e))?);
        self.write(VERSION, &plain)
    }

    /// Writes a version 1 file (the format before control checks), for migration tests.
    #[cfg(test)]
    pub(crate) fn save_v1(&self, assets: &[Asset]) -> Result<(), RegistryError> {
        let plain = serde_json::to_vec(assets).map_err(|e| self.err(e))?;
        self.write(VERSION_1, &plain)
    }

    fn write(&self, version: u8, plain: &[u8]) -> Result<(), RegistryError> {
        let mut nonce = [0u8; NONCE];
        OsRng.fill_bytes(&mut nonce);
        let mut header = [0u8; HEADER];
        header[..4].copy_from_slice(MAGIC);
        header[4] = version;
        let cipher = Aes256Gcm::new_from_slice(self.key.as_ref()).expect("32-byte key");
        let sealed = cipher
            .encrypt(
                (&nonce).into(),
                aes_gcm::aead::Payload {
                    msg: plain,
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
