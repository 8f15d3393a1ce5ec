//! Per-block record of old and new state values, used to move the flat state across a reorg.

use crate::{Account, StorageError};
use alloy_primitives::{Address, B256, U256};

/// One account's value before and after a block.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AccountChange {
    /// The account.
    pub address: Address,
    /// Before the block (`None`: did not exist).
    pub old: Option<Account>,
    /// After the block (`None`: does not exist).
    pub new: Option<Account>,
}

/// One storage slot's value before and after a block (zero means absent).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StorageChange {
    /// The account owning the slot.
    pub address: Address,
    /// keccak256 of the slot key.
    pub hashed_slot: B256,
    /// Before the block.
    pub old: U256,
    /// After the block.
    pub new: U256,
}

/// Everything one block changed, with the values on both sides.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Changeset {
    /// Account changes.
    pub accounts: Vec<AccountChange>,
    /// Storage changes.
    pub storage: Vec<StorageChange>,
}

const CORRUPT: StorageError = StorageError::CorruptRecord {
    table: "changesets",
    reason: "truncated or malformed",
};

impl Changeset {
    /// Binary encoding stored in the changesets table.
    pub(crate) fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(8 + self.accounts.len() * 230 + self.storage.len() * 116);
        out.extend_from_slice(&(self.accounts.len() as u32).to_be_bytes());
        for change in &self.accounts {
            out.extend_from_slice(change.address.as_slice());
            for side in [&change.old, &change.new] {
                match side {
                    Some(account) => {
                        out.push(1);
                        out.extend_from_slice(&account.encode_flat());
                    }
                    None => out.push(0),
                }
            }
        }
        out.extend_from_slice(&(self.storage.len() as u32).to_be_bytes());
        for change in &self.storage {
            out.extend_from_slice(change.address.as_slice());
            out.extend_from_slice(change.hashed_slot.as_slice());
            out.extend_from_slice(&change.old.to_be_bytes::<32>());
            out.extend_from_slice(&change.new.to_be_bytes::<32>());
        }
        out
    }

    pub(crate) fn decode(mut buf: &[u8]) -> Result<Self, StorageError> {
        fn take<'a>(buf: &mut &'a [u8], n: usize) -> Result<&'a [u8], StorageError> {
            if buf.len() < n {
                return Err(CORRUPT);
            }
            let (head, rest) = buf.split_at(n);
            *buf = rest;
            Ok(head)
        }
        fn count(buf: &mut &[u8]) -> Result<usize, StorageError> {
            Ok(u32::from_be_bytes(take(buf, 4)?.try_into().expect("4 bytes")) as usize)
        }
        fn account(buf: &mut &[u8]) -> Result<Option<Account>, StorageError> {
            match take(buf, 1)?[0] {
                0 => Ok(None),
                1 => Account::decode_flat(take(buf, Account::ENCODED_LEN)?).map(Some),
                _ => Err(CORRUPT),
            }
        }
        let n = count(&mut buf)?;
        let mut accounts = Vec::with_capacity(n.min(buf.len() / 22));
        for _ in 0..n {
            let address = Address::from_slice(take(&mut buf, 20)?);
            let old = account(&mut buf)?;
            let new = account(&mut buf)?;
            accounts.push(AccountChange { address, old, new });
        }
        let n = count(&mut buf)?;
        let mut storage = Vec::with_capacity(n.min(buf.len() / 116));
        for _ in 0..n {
            let address = Address::from_slice(take(&mut buf, 20)?);
            let hashed_slot = B256::from_slice(take(&mut buf, 32)?);
            let old = U256::from_be_slice(take(&mut buf, 32)?);
            let new = U256::from_be_slice(take(&mut buf, 32)?);
            storage.push(StorageChange {
                address,
                hashed_slot,
                old,
                new,
            });
        }
        if !buf.is_empty() {
            return Err(CORRUPT);
        }
        Ok(Self { accounts, storage })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn sample() -> Changeset {
        let account = Account {
            nonce: 3,
            balance: U256::from(10u64),
            code_hash: B256::repeat_byte(1),
            storage_root: B256::repeat_byte(2),
        };
        Changeset {
            accounts: vec![
                AccountChange {
                    address: Address::repeat_byte(9),
                    old: None,
                    new: Some(account),
                },
                AccountChange {
                    address: Address::repeat_byte(8),
                    old: Some(account),
                    new: None,
                },
            ],
            storage: vec![StorageChange {
                address: Address::repeat_byte(9),
                hashed_slot: B256::repeat_byte(3),
                old: U256::ZERO,
                new: U256::MAX,
            }],
        }
    }

    #[test]
    fn round_trips() {
        let cs = sample();
        assert_eq!(Changeset::decode(&cs.encode()).unwrap(), cs);
    }

    #[test]
    fn every_truncation_is_rejected() {
        let bytes = sample().encode();
        for len in 0..bytes.len() {
            assert!(
                Changeset::decode(&bytes[..len]).is_err(),
                "prefix of {len} bytes accepted"
            );
        }
    }

    proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..600)) {
            let _ = Changeset::decode(&bytes);
        }
    }
}
