//! The journal of locally submitted transactions, so they survive a restart (geth's
//! `transactions.rlp`).
//!
//! Records are `u32 LE length ‖ EIP-2718 bytes`, appended as transactions arrive. A record cut
//! short by a crash ends the replay; everything before it is kept. On start-up the journal is
//! replayed into the pool and rewritten with what the pool kept, and it is rewritten again
//! whenever stale records outnumber live ones, so it stays proportional to the pool.

use alloy_primitives::Bytes;
use std::{
    fs::{File, OpenOptions},
    io::{BufWriter, Read, Write},
    path::{Path, PathBuf},
};

/// Records larger than this are corrupt (the pool refuses transactions above 128 KiB).
const MAX_RECORD: usize = 1 << 20;
/// Rewrite once the journal holds this many more records than the pool.
const REWRITE_SLACK: usize = 1_024;

/// An append-only file of raw transactions.
#[derive(Debug)]
pub struct Journal {
    path: PathBuf,
    file: BufWriter<File>,
    records: usize,
}

impl Journal {
    /// Opens (creating) the journal at `path` and returns it with the transactions it holds.
    pub fn open(path: impl AsRef<Path>) -> std::io::Result<(Self, Vec<Bytes>)> {
        let path = path.as_ref().to_path_buf();
        let mut bytes = Vec::new();
        match File::open(&path) {
            Ok(mut file) => {
                file.read_to_end(&mut bytes)?;
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }
        let txs = decode_records(&bytes);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        let file = OpenOptions::new().create(true).append(true).open(&path)?;
        let records = txs.len();
        Ok((
            Self {
                path,
                file: BufWriter::new(file),
                records,
            },
            txs,
        ))
    }

    /// Appends one transaction and hands it to the OS (no fsync: a process crash loses
    /// nothing; a power cut may lose the last moments, as with geth).
    pub fn append(&mut self, raw: &[u8]) -> std::io::Result<()> {
        self.file.write_all(&(raw.len() as u32).to_le_bytes())?;
        self.file.write_all(raw)?;
        self.file.flush()?;
        self.records += 1;
        Ok(())
    }

    /// Whether the journal has grown well past `live` records.
    pub fn needs_rewrite(&self, live: usize) -> bool {
        self.records > live.saturating_mul(2) + REWRITE_SLACK
    }

    /// Replaces the journal with exactly `live`, atomically (write aside, fsync, rename).
    pub fn rewrite<'a>(
        &mut self,
        live: impl IntoIterator<Item = &'a Bytes>,
    ) -> std::io::Result<()> {
        let tmp = self.path.with_extension("tmp");
        let mut out = BufWriter::new(File::create(&tmp)?);
        let mut records = 0;
        for raw in live {
            out.write_all(&(raw.len() as u32).to_le_bytes())?;
            out.write_all(raw)?;
            records += 1;
        }
        out.flush()?;
        out.get_ref().sync_all()?;
        drop(out);
        std::fs::rename(&tmp, &self.path)?;
        let file = OpenOptions::new().append(true).open(&self.path)?;
        self.file = BufWriter::new(file);
        self.records = records;
        Ok(())
    }
}

/// The complete records of a journal image; a truncated or oversized record ends it.
pub fn decode_records(mut bytes: &[u8]) -> Vec<Bytes> {
    let mut txs = Vec::new();
    while bytes.len() >= 4 {
        let len = u32::from_le_bytes(bytes[..4].try_into().expect("4 bytes")) as usize;
        if len > MAX_RECORD || bytes.len() - 4 < len {
            break;
        }
        txs.push(Bytes::copy_from_slice(&bytes[4..4 + len]));
        bytes = &bytes[4 + len..];
    }
    txs
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn replays_appended_records_and_survives_a_torn_tail() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("transactions.journal");
        let (mut journal, txs) = Journal::open(&path).unwrap();
        assert!(txs.is_empty());
        journal.append(b"first").unwrap();
        journal.append(b"second").unwrap();
        drop(journal);
        // A crash mid-append leaves half a record.
        let mut file = OpenOptions::new().append(true).open(&path).unwrap();
        file.write_all(&100u32.to_le_bytes()).unwrap();
        file.write_all(b"trunc").unwrap();
        drop(file);
        let (mut journal, txs) = Journal::open(&path).unwrap();
        assert_eq!(
            txs,
            vec![Bytes::from_static(b"first"), Bytes::from_static(b"second")]
        );
        journal.rewrite(&txs[1..]).unwrap();
        journal.append(b"third").unwrap();
        drop(journal);
        let (_, txs) = Journal::open(&path).unwrap();
        assert_eq!(
            txs,
            vec![Bytes::from_static(b"second"), Bytes::from_static(b"third")]
        );
    }

    #[test]
    fn rewrite_threshold_tracks_the_pool() {
        let dir = tempfile::tempdir().unwrap();
        let (mut journal, _) = Journal::open(dir.path().join("j")).unwrap();
        for _ in 0..REWRITE_SLACK + 10 {
            journal.append(b"x").unwrap();
        }
        assert!(journal.needs_rewrite(0));
        assert!(!journal.needs_rewrite(10));
    }

    proptest! {
        /// Any bytes decode to records without panicking, and re-encoding them is a prefix of
        /// the input.
        #[test]
        fn arbitrary_images_decode_to_a_prefix(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
            let records = decode_records(&bytes);
            let mut encoded = Vec::new();
            for r in &records {
                encoded.extend_from_slice(&(r.len() as u32).to_le_bytes());
                encoded.extend_from_slice(r);
            }
            prop_assert!(bytes.starts_with(&encoded));
        }
    }
}
