//! The member's book of outstanding challenge nonces.

use crate::{Challenge, KeyShareError, VERSION};
use alloy_primitives::B256;
use rand_core::{OsRng, RngCore};
use std::{
    collections::HashMap,
    sync::Mutex,
    time::{Duration, Instant},
};

/// How long a challenge stays valid by default.
pub const DEFAULT_NONCE_TTL: Duration = Duration::from_secs(60);

/// How many challenges a [`NonceBook`] holds by default (issued and not yet expired, used or
/// not).
pub const DEFAULT_NONCE_CAPACITY: usize = 1024;

#[derive(Debug, Clone, Copy)]
struct Entry {
    chain_id: u64,
    key_epoch: u32,
    expires: Instant,
    used: bool,
}

/// The challenges a member issued: each nonce is good for one join request, within the time to
/// live. A used nonce is remembered until it would have expired, so a replay is told apart
/// from a nonce never issued; after that it is simply unknown.
///
/// The book is bounded: when `capacity` challenges are live, [`NonceBook::issue`] refuses
/// ([`KeyShareError::NonceBookFull`]) until some expire, rather than forgetting outstanding
/// ones. Shared between tasks through `&self`.
#[derive(Debug)]
pub struct NonceBook {
    capacity: usize,
    ttl: Duration,
    entries: Mutex<HashMap<B256, Entry>>,
}

impl Default for NonceBook {
    fn default() -> Self {
        Self::new(DEFAULT_NONCE_CAPACITY, DEFAULT_NONCE_TTL)
    }
}

impl NonceBook {
    /// A book holding at most `capacity` live challenges, each valid for `ttl`.
    pub fn new(capacity: usize, ttl: Duration) -> Self {
        Self {
            capacity,
            ttl,
            entries: Mutex::new(HashMap::new()),
        }
    }

    /// The most live challenges.
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// How long a challenge stays valid.
    pub fn ttl(&self) -> Duration {
        self.ttl
    }

    fn entries(&self) -> std::sync::MutexGuard<'_, HashMap<B256, Entry>> {
        // Every update is a single insert or field write: a poisoned map is still consistent.
        self.entries.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Challenges issued, not yet used and not expired.
    pub fn outstanding(&self) -> usize {
        let now = Instant::now();
        self.entries()
            .values()
            .filter(|e| !e.used && e.expires > now)
            .count()
    }

    /// A challenge with a fresh random nonce for the cluster key of `key_epoch` on `chain_id`.
    pub fn issue(&self, chain_id: u64, key_epoch: u32) -> Result<Challenge, KeyShareError> {
        self.issue_at(chain_id, key_epoch, Instant::now())
    }

    pub(crate) fn issue_at(
        &self,
        chain_id: u64,
        key_epoch: u32,
        now: Instant,
    ) -> Result<Challenge, KeyShareError> {
        let mut nonce = B256::ZERO;
        OsRng
            .try_fill_bytes(nonce.as_mut_slice())
            .map_err(|_| KeyShareError::Randomness("could not draw a challenge nonce"))?;
        let mut entries = self.entries();
        entries.retain(|_, e| e.expires > now);
        if entries.len() >= self.capacity {
            return Err(KeyShareError::NonceBookFull {
                capacity: self.capacity,
            });
        }
        let expires = now.checked_add(self.ttl).unwrap_or(now);
        entries.insert(
            nonce,
            Entry {
                chain_id,
                key_epoch,
                expires,
                used: false,
            },
        );
        Ok(Challenge {
            version: VERSION,
            chain_id,
            key_epoch,
            nonce,
        })
    }

    /// Uses `nonce` up: the challenge it was issued with, unless it is unknown, already used or
    /// expired.
    pub fn consume(&self, nonce: &B256) -> Result<Challenge, KeyShareError> {
        self.consume_at(nonce, Instant::now())
    }

    pub(crate) fn consume_at(
        &self,
        nonce: &B256,
        now: Instant,
    ) -> Result<Challenge, KeyShareError> {
        let mut entries = self.entries();
        let Some(entry) = entries.get_mut(nonce) else {
            return Err(KeyShareError::UnknownNonce(*nonce));
        };
        if entry.used {
            return Err(KeyShareError::NonceReplayed(*nonce));
        }
        if entry.expires <= now {
            entries.remove(nonce);
            return Err(KeyShareError::NonceExpired(*nonce));
        }
        entry.used = true;
        Ok(Challenge {
            version: VERSION,
            chain_id: entry.chain_id,
            key_epoch: entry.key_epoch,
            nonce: *nonce,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_nonce_is_good_once() {
        let book = NonceBook::default();
        let challenge = book.issue(901, 3).unwrap();
        assert_eq!(
            (challenge.version, challenge.chain_id, challenge.key_epoch),
            (VERSION, 901, 3)
        );
        assert_eq!(book.outstanding(), 1);
        assert_eq!(book.consume(&challenge.nonce).unwrap(), challenge);
        assert_eq!(book.outstanding(), 0);
        assert!(matches!(
            book.consume(&challenge.nonce),
            Err(KeyShareError::NonceReplayed(n)) if n == challenge.nonce
        ));
        assert!(matches!(
            book.consume(&B256::repeat_byte(7)),
            Err(KeyShareError::UnknownNonce(_))
        ));
        let other = book.issue(901, 3).unwrap();
        assert_ne!(other.nonce, challenge.nonce);
    }

    #[test]
    fn nonces_expire_and_are_then_forgotten() {
        let book = NonceBook::new(4, Duration::from_secs(60));
        let t0 = Instant::now();
        let late = book.issue_at(901, 0, t0).unwrap();
        let used = book.issue_at(901, 0, t0).unwrap();
        book.consume_at(&used.nonce, t0 + Duration::from_secs(59))
            .unwrap();
        assert!(matches!(
            book.consume_at(&late.nonce, t0 + Duration::from_secs(60)),
            Err(KeyShareError::NonceExpired(_))
        ));
        // Expired: gone for good.
        assert!(matches!(
            book.consume_at(&late.nonce, t0 + Duration::from_secs(61)),
            Err(KeyShareError::UnknownNonce(_))
        ));
        // A used nonce is told apart as a replay until it would have expired, then forgotten
        // (purged by the next issue).
        assert!(matches!(
            book.consume_at(&used.nonce, t0 + Duration::from_secs(59)),
            Err(KeyShareError::NonceReplayed(_))
        ));
        book.issue_at(901, 0, t0 + Duration::from_secs(61)).unwrap();
        assert!(matches!(
            book.consume_at(&used.nonce, t0 + Duration::from_secs(61)),
            Err(KeyShareError::UnknownNonce(_))
        ));
    }

    #[test]
    fn the_book_is_bounded_and_frees_expired_entries() {
        let book = NonceBook::new(2, Duration::from_secs(60));
        let t0 = Instant::now();
        let first = book.issue_at(901, 0, t0).unwrap();
        book.issue_at(901, 0, t0).unwrap();
        assert!(matches!(
            book.issue_at(901, 0, t0),
            Err(KeyShareError::NonceBookFull { capacity: 2 })
        ));
        // Using a nonce does not free its slot before it expires (replays stay detectable).
        book.consume_at(&first.nonce, t0).unwrap();
        assert!(matches!(
            book.issue_at(901, 0, t0 + Duration::from_secs(1)),
            Err(KeyShareError::NonceBookFull { .. })
        ));
        book.issue_at(901, 0, t0 + Duration::from_secs(60)).unwrap();
        book.issue_at(901, 0, t0 + Duration::from_secs(60)).unwrap();

        let empty = NonceBook::new(0, Duration::from_secs(60));
        assert!(matches!(
            empty.issue(901, 0),
            Err(KeyShareError::NonceBookFull { capacity: 0 })
        ));
    }
}
