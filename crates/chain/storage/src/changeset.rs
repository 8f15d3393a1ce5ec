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

/// First byte of the compact encoding. The first encoding began with a big-endian `u32`
/// account count, whose first byte is 0 for any block a gas limit allows.
const COMPACT: u8 = 2;

/// Flags of one side of a compact account change.
const PRESENT: u8 = 1;
const HAS_CODE: u8 = 2;
const HAS_STORAGE: u8 = 4;

/// Appends `bytes` without leading zeros, after their length.
fn put_trimmed(out: &mut Vec<u8>, bytes: &[u8]) {
    let start = bytes.iter().position(|b| *b != 0).unwrap_or(bytes.len());
    out.push((bytes.len() - start) as u8);
    out.extend_from_slice(&bytes[start..]);
}

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

/// Reads what [`put_trimmed`] wrote, at most `max` bytes, right-aligned in `N` bytes.
fn take_trimmed<const N: usize>(buf: &mut &[u8]) -> Result<[u8; N], StorageError> {
    let len = take(buf, 1)?[0] as usize;
    if len > N {
        return Err(CORRUPT);
    }
    let mut out = [0u8; N];
    out[N - len..].copy_from_slice(take(buf, len)?);
    Ok(out)
}

impl Changeset {
    /// Binary encoding stored in the changesets table: compact (values without leading zeros,
    /// the empty code hash and storage root left out), since a changeset is written for every
    /// block an archive store keeps.
    pub(crate) fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(9 + self.accounts.len() * 100 + self.storage.len() * 90);
        out.push(COMPACT);
        out.extend_from_slice(&(self.accounts.len() as u32).to_be_bytes());
        for change in &self.accounts {
            out.extend_from_slice(change.address.as_slice());
            for side in [&change.old, &change.new] {
                let Some(account) = side else {
                    out.push(0);
                    continue;
                };
                let has_code = account.code_hash != crate::EMPTY_CODE_HASH;
                let has_storage = account.storage_root != crate::trie::EMPTY_ROOT;
                out.push(
                    PRESENT
                        | if has_code { HAS_CODE } else { 0 }
                        | if has_storage { HAS_STORAGE } else { 0 },
                );
                put_trimmed(&mut out, &account.nonce.to_be_bytes());
                put_trimmed(&mut out, &account.balance.to_be_bytes::<32>());
                if has_code {
                    out.extend_from_slice(account.code_hash.as_slice());
                }
                if has_storage {
                    out.extend_from_slice(account.storage_root.as_slice());
                }
            }
        }
        out.extend_from_slice(&(self.storage.len() as u32).to_be_bytes());
        for change in &self.storage {
            out.extend_from_slice(change.address.as_slice());
            out.extend_from_slice(change.hashed_slot.as_slice());
            put_trimmed(&mut out, &change.old.to_be_bytes::<32>());
            put_trimmed(&mut out, &change.new.to_be_bytes::<32>());
        }
        out
    }

    /// Decodes either encoding: stores written before the compact one still reorg.
    pub(crate) fn decode(buf: &[u8]) -> Result<Self, StorageError> {
        match buf.first() {
            Some(&COMPACT) => Self::decode_with(&buf[1..], compact_account, |buf| {
                Ok(U256::from_be_bytes(take_trimmed::<32>(buf)?))
            }),
            // The first encoding: fixed-width fields.
            _ => Self::decode_with(buf, fixed_account, |buf| {
                Ok(U256::from_be_slice(take(buf, 32)?))
            }),
        }
    }

    /// The layout both encodings share, with their own account and slot value fields.
    fn decode_with(
        mut buf: &[u8],
        account: fn(&mut &[u8]) -> Result<Option<Account>, StorageError>,
        value: fn(&mut &[u8]) -> Result<U256, StorageError>,
    ) -> Result<Self, StorageError> {
        let n = count(&mut buf)?;
        let mut accounts = Vec::with_capacity(n.min(buf.len() / 22));
        for _ in 0..n {
            let address = Address::from_slice(take(&mut buf, 20)?);
            let old = account(&mut buf)?;
            let new = account(&mut buf)?;
            accounts.push(AccountChange { address, old, new });
        }
        let n = count(&mut buf)?;
        let mut storage = Vec::with_capacity(n.min(buf.len() / 54));
        for _ in 0..n {
            let address = Address::from_slice(take(&mut buf, 20)?);
            let hashed_slot = B256::from_slice(take(&mut buf, 32)?);
            let old = value(&mut buf)?;
            let new = value(&mut buf)?;
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

/// One side of an account change in the compact encoding.
fn compact_account(buf: &mut &[u8]) -> Result<Option<Account>, StorageError> {
    let flags = take(buf, 1)?[0];
    if flags == 0 {
        return Ok(None);
    }
    if flags & !(PRESENT | HAS_CODE | HAS_STORAGE) != 0 || flags & PRESENT == 0 {
        return Err(CORRUPT);
    }
    let nonce = u64::from_be_bytes(take_trimmed::<8>(buf)?);
    let balance = U256::from_be_bytes(take_trimmed::<32>(buf)?);
    let mut hash_or = |flag: u8, absent: B256| -> Result<B256, StorageError> {
        if flags & flag == 0 {
            return Ok(absent);
        }
        Ok(B256::from_slice(take(buf, 32)?))
    };
    let code_hash = hash_or(HAS_CODE, crate::EMPTY_CODE_HASH)?;
    let storage_root = hash_or(HAS_STORAGE, crate::trie::EMPTY_ROOT)?;
    Ok(Some(Account {
        nonce,
        balance,
        code_hash,
        storage_root,
    }))
}

/// One side of an account change in the first, fixed-width encoding.
fn fixed_account(buf: &mut &[u8]) -> Result<Option<Account>, StorageError> {
    match take(buf, 1)?[0] {
        0 => Ok(None),
        1 => Account::decode_flat(take(buf, Account::ENCODED_LEN)?).map(Some),
        _ => Err(CORRUPT),
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

    /// The first, fixed-width encoding, as stores written before the compact one hold it.
    fn encode_fixed(cs: &Changeset) -> Vec<u8> {
        let mut out = Vec::new();
        out.extend_from_slice(&(cs.accounts.len() as u32).to_be_bytes());
        for change in &cs.accounts {
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
        out.extend_from_slice(&(cs.storage.len() as u32).to_be_bytes());
        for change in &cs.storage {
            out.extend_from_slice(change.address.as_slice());
            out.extend_from_slice(change.hashed_slot.as_slice());
            out.extend_from_slice(&change.old.to_be_bytes::<32>());
            out.extend_from_slice(&change.new.to_be_bytes::<32>());
        }
        out
    }

    fn arb_account() -> impl Strategy<Value = Option<Account>> {
        let hash = prop_oneof![
            Just(crate::EMPTY_CODE_HASH),
            Just(crate::trie::EMPTY_ROOT),
            any::<[u8; 32]>().prop_map(B256::from),
        ];
        prop::option::of(
            (
                any::<u64>(),
                any::<[u8; 32]>(),
                0usize..=32,
                hash.clone(),
                hash,
            )
                .prop_map(|(nonce, balance, zeros, code_hash, storage_root)| {
                    // Balances of every width, zero included.
                    let mut balance = balance;
                    balance[..zeros].fill(0);
                    Account {
                        nonce: nonce >> (nonce % 64),
                        balance: U256::from_be_bytes(balance),
                        code_hash,
                        storage_root,
                    }
                }),
        )
    }

    fn arb_changeset() -> impl Strategy<Value = Changeset> {
        let accounts = prop::collection::vec(
            (any::<[u8; 20]>(), arb_account(), arb_account()).prop_map(|(a, old, new)| {
                AccountChange {
                    address: Address::from(a),
                    old,
                    new,
                }
            }),
            0..6,
        );
        let storage = prop::collection::vec(
            (
                any::<[u8; 20]>(),
                any::<[u8; 32]>(),
                any::<[u8; 32]>(),
                0usize..=32,
            )
                .prop_map(|(a, slot, value, zeros)| {
                    let mut old = value;
                    old[..zeros].fill(0);
                    StorageChange {
                        address: Address::from(a),
                        hashed_slot: B256::from(slot),
                        old: U256::from_be_bytes(old),
                        new: U256::from_be_bytes(value),
                    }
                }),
            0..6,
        );
        (accounts, storage).prop_map(|(accounts, storage)| Changeset { accounts, storage })
    }

    #[test]
    fn round_trips() {
        let cs = sample();
        assert_eq!(Changeset::decode(&cs.encode()).unwrap(), cs);
    }

    #[test]
    fn an_externally_owned_account_change_is_a_fifth_of_the_fixed_width() {
        let eoa = Account {
            nonce: 7,
            balance: U256::from(10u64).pow(U256::from(19)),
            code_hash: crate::EMPTY_CODE_HASH,
            storage_root: crate::trie::EMPTY_ROOT,
        };
        let cs = Changeset {
            accounts: vec![AccountChange {
                address: Address::repeat_byte(1),
                old: Some(eoa),
                new: Some(Account { nonce: 8, ..eoa }),
            }],
            storage: vec![],
        };
        assert_eq!(encode_fixed(&cs).len(), 238);
        assert_eq!(cs.encode().len(), 1 + 4 + 20 + 2 * (1 + 2 + 9) + 4);
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

        #[test]
        fn both_encodings_decode_to_the_same_changes(cs in arb_changeset()) {
            prop_assert_eq!(Changeset::decode(&cs.encode())?, cs.clone());
            prop_assert_eq!(Changeset::decode(&encode_fixed(&cs))?, cs);
        }

        #[test]
        fn every_truncation_of_a_compact_changeset_is_rejected(cs in arb_changeset()) {
            let bytes = cs.encode();
            for len in 0..bytes.len() {
                prop_assert!(Changeset::decode(&bytes[..len]).is_err(), "prefix of {} bytes", len);
            }
        }
    }
}
