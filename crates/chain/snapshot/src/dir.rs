//! A node's snapshot directory: the snapshots it took, each with the signed checkpoint of its
//! block, and downloads from a peer's.
//!
//! `<dir>/<number>.snap` is the snapshot of block `<number>` (20 digits), `<dir>/<number>.json`
//! its checkpoint record (opaque here). The record is written last, so a listed snapshot is
//! whole.

use crate::{ExportSummary, SnapshotError, export_to_file};
use aegis_storage::HeadReader;
use std::{
    io::Read,
    path::{Path, PathBuf},
};

/// Where a node keeps its snapshots.
#[derive(Clone, Debug)]
pub struct SnapshotDir {
    dir: PathBuf,
}

impl SnapshotDir {
    /// The directory (created on the first write).
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self { dir: dir.into() }
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        &self.dir
    }

    /// The snapshot file of block `number`.
    pub fn snapshot_path(&self, number: u64) -> PathBuf {
        self.dir.join(format!("{number:020}.snap"))
    }

    /// The checkpoint record of block `number`.
    pub fn record_path(&self, number: u64) -> PathBuf {
        self.dir.join(format!("{number:020}.json"))
    }

    /// Exports the frozen head, then writes `record` (the head's checkpoint) beside it, and
    /// keeps only the newest `keep` snapshots.
    pub fn write(
        &self,
        reader: &HeadReader,
        chain_id: u64,
        record: &[u8],
        keep: usize,
    ) -> Result<ExportSummary, SnapshotError> {
        std::fs::create_dir_all(&self.dir).map_err(|e| SnapshotError::io(&self.dir, e))?;
        let number = reader.header().number;
        let summary = export_to_file(reader, chain_id, &self.snapshot_path(number))?;
        let path = self.record_path(number);
        let partial = crate::temporary_path(&path);
        std::fs::write(&partial, record)
            .and_then(|()| std::fs::rename(&partial, &path))
            .map_err(|e| SnapshotError::io(&path, e))?;
        self.prune(keep)?;
        Ok(summary)
    }

    /// Block numbers of the whole snapshots held, oldest first.
    pub fn numbers(&self) -> Result<Vec<u64>, SnapshotError> {
        let entries = match std::fs::read_dir(&self.dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(SnapshotError::io(&self.dir, e)),
        };
        let mut numbers: Vec<u64> = entries
            .filter_map(|entry| {
                let name = entry.ok()?.file_name().into_string().ok()?;
                name.strip_suffix(".json")?.parse().ok()
            })
            .filter(|n| self.snapshot_path(*n).exists())
            .collect();
        numbers.sort_unstable();
        Ok(numbers)
    }

    /// The newest whole snapshot's block number.
    pub fn latest(&self) -> Result<Option<u64>, SnapshotError> {
        Ok(self.numbers()?.last().copied())
    }

    fn prune(&self, keep: usize) -> Result<(), SnapshotError> {
        let numbers = self.numbers()?;
        for number in &numbers[..numbers.len().saturating_sub(keep.max(1))] {
            for path in [self.record_path(*number), self.snapshot_path(*number)] {
                std::fs::remove_file(&path).map_err(|e| SnapshotError::io(&path, e))?;
            }
        }
        Ok(())
    }
}

/// A peer's snapshot service (`/snapshot/...` on its operations port).
#[derive(Debug, Clone)]
pub struct SnapshotSource {
    base: String,
    client: reqwest::blocking::Client,
}

impl SnapshotSource {
    /// The service at `base` (e.g. `http://10.0.0.2:7300`).
    pub fn new(base: &str) -> Result<Self, SnapshotError> {
        let client = reqwest::blocking::Client::builder()
            .connect_timeout(std::time::Duration::from_secs(10))
            // A large snapshot takes long: only a stalled read fails.
            .timeout(None)
            .build()
            .map_err(|e| SnapshotError::io(Path::new(base), e))?;
        Ok(Self {
            base: base.trim_end_matches('/').to_string(),
            client,
        })
    }

    fn get(&self, path: &str) -> Result<reqwest::blocking::Response, SnapshotError> {
        let url = format!("{}{path}", self.base);
        let response = self
            .client
            .get(&url)
            .send()
            .map_err(|e| SnapshotError::io(Path::new(&url), e))?;
        if !response.status().is_success() {
            return Err(SnapshotError::io(
                Path::new(&url),
                format!("HTTP {}", response.status()),
            ));
        }
        Ok(response)
    }

    /// The newest snapshot's checkpoint record (`GET /snapshot/latest`), at most 1 MiB.
    pub fn latest_record(&self) -> Result<Vec<u8>, SnapshotError> {
        let mut body = Vec::new();
        self.get("/snapshot/latest")?
            .take(1 << 20)
            .read_to_end(&mut body)
            .map_err(|e| SnapshotError::io(Path::new(&self.base), e))?;
        Ok(body)
    }

    /// The snapshot of block `number` as a stream (`GET /snapshot/<number>`).
    pub fn snapshot(&self, number: u64) -> Result<impl Read + use<>, SnapshotError> {
        self.get(&format!("/snapshot/{number}"))
    }
}
