//! revm database over a store state view.

use aegis_storage::{StateView, StorageError};
use alloy_primitives::{Address, B256, U256};
use revm::{
    bytecode::Bytecode,
    database_interface::{DBErrorMarker, Database, DatabaseRef},
    state::AccountInfo,
};

/// Reads the state after one block for the EVM.
#[derive(Debug)]
pub(crate) struct StoreDb {
    view: StateView,
}

impl StoreDb {
    pub(crate) fn new(view: StateView) -> Self {
        Self { view }
    }
}

/// A state read failed.
#[derive(Debug, thiserror::Error)]
#[error(transparent)]
pub(crate) struct DbError(#[from] StorageError);

impl DBErrorMarker for DbError {}

// Reads need no mutation: the reference form serves tracers, which read the state before a
// transaction while the block's execution holds it.
impl DatabaseRef for StoreDb {
    type Error = DbError;

    fn basic_ref(&self, address: Address) -> Result<Option<AccountInfo>, DbError> {
        Ok(self.view.account(&address)?.map(|a| AccountInfo {
            balance: a.balance,
            nonce: a.nonce,
            code_hash: a.code_hash,
            account_id: None,
            code: None,
        }))
    }

    fn code_by_hash_ref(&self, code_hash: B256) -> Result<Bytecode, DbError> {
        let code = self
            .view
            .code(&code_hash)?
            .ok_or(StorageError::CorruptRecord {
                table: "code",
                reason: "code referenced by an account is missing",
            })?;
        Ok(Bytecode::new_raw(code))
    }

    fn storage_ref(&self, address: Address, index: U256) -> Result<U256, DbError> {
        Ok(self.view.storage(&address, &index)?)
    }

    fn block_hash_ref(&self, number: u64) -> Result<B256, DbError> {
        Ok(self.view.ancestor_hash(number)?.unwrap_or_default())
    }
}

impl Database for StoreDb {
    type Error = DbError;

    fn basic(&mut self, address: Address) -> Result<Option<AccountInfo>, DbError> {
        self.basic_ref(address)
    }

    fn code_by_hash(&mut self, code_hash: B256) -> Result<Bytecode, DbError> {
        self.code_by_hash_ref(code_hash)
    }

    fn storage(&mut self, address: Address, index: U256) -> Result<U256, DbError> {
        self.storage_ref(address, index)
    }

    fn block_hash(&mut self, number: u64) -> Result<B256, DbError> {
        self.block_hash_ref(number)
    }
}
