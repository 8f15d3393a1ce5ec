//! What a pending transaction is, from its bytes and registry lookups alone.

use crate::OrderingContext;
use aegis_executor::PoolTx;
use alloy_consensus::Transaction;
use alloy_primitives::{Address, B256};

/// `transfer(address,uint256)`: recipient in word 0.
const TRANSFER: [u8; 4] = [0xa9, 0x05, 0x9c, 0xbb];
/// `transferFrom(address,address,uint256)`: recipient in word 1.
const TRANSFER_FROM: [u8; 4] = [0x23, 0xb8, 0x72, 0xdd];
/// ERC-721 `safeTransferFrom(address,address,uint256)`.
const SAFE_TRANSFER_FROM: [u8; 4] = [0x42, 0x84, 0x2e, 0x0e];
/// ERC-721 `safeTransferFrom(address,address,uint256,bytes)`.
const SAFE_TRANSFER_FROM_DATA: [u8; 4] = [0xb8, 0x8d, 0x4f, 0xde];
/// ERC-1155 `safeTransferFrom(address,address,uint256,uint256,bytes)`.
const SAFE_TRANSFER_FROM_1155: [u8; 4] = [0xf2, 0x42, 0x43, 0x2a];
/// Calldata words looked at for protected addresses (bounded so classification stays cheap).
const MAX_WORDS: usize = 8;

/// Whether the transaction may go into the block.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Sequence it.
    Include,
    /// Hold it: it touches this protected asset and its policy at the current level forbids it.
    Quarantine(B256),
}

/// A transaction's class.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Classification {
    /// The sender signed before (nonce above zero): its public key is on chain.
    pub exposed: bool,
    /// It moves value: ETH, or a token/NFT transfer.
    pub moves_value: bool,
    /// It touches a protected asset (as recipient, in its access list or in its arguments).
    pub protected: bool,
    /// It goes to a vault or migration contract (as recipient or as the token's recipient).
    pub migration: bool,
    /// Whether it may be sequenced.
    pub verdict: Verdict,
}

impl Classification {
    /// `0..=3`: exposed and moving value 3, exposed 2, moving value 1.
    pub fn risk(&self) -> u8 {
        u8::from(self.exposed) * 2 + u8::from(self.moves_value)
    }
}

/// Classifies against one context.
#[derive(Debug)]
pub struct Classifier<'a> {
    context: &'a OrderingContext,
}

impl<'a> Classifier<'a> {
    /// A classifier for `context`.
    pub fn new(context: &'a OrderingContext) -> Self {
        Self { context }
    }

    /// Classifies `tx` (no execution, no state access).
    pub fn classify(&self, tx: &PoolTx) -> Classification {
        let envelope = tx.envelope();
        let to = envelope.to();
        let input = envelope.input();
        let (selector, args) = match input.len() {
            4.. => (&input[..4], &input[4..]),
            _ => (&[][..], &[][..]),
        };
        let recipient_word = match <[u8; 4]>::try_from(selector) {
            Ok(TRANSFER) => Some(0),
            Ok(
                TRANSFER_FROM
                | SAFE_TRANSFER_FROM
                | SAFE_TRANSFER_FROM_DATA
                | SAFE_TRANSFER_FROM_1155,
            ) => Some(1),
            _ => None,
        };
        let recipient = recipient_word.and_then(|i| address_word(args, i));
        let protection = &self.context.protection;
        let is_target = |a: &Address| {
            protection.all_vaults.contains(a) || self.context.migration_targets.contains(a)
        };
        let migration =
            to.as_ref().is_some_and(is_target) || recipient.as_ref().is_some_and(is_target);

        let mut protected = false;
        let mut verdict = Verdict::Include;
        // The sequencer's own transactions (and system senders) are never held.
        let exempt = protection.exempt_senders.contains(&tx.sender());
        if !protection.assets.is_empty() {
            let mut check = |address: Address| {
                let Some(asset) = protection.assets.get(&address) else {
                    return;
                };
                protected = true;
                let allowed = match asset.policy.at(self.context.level) {
                    aegis_registry::Allowance::Any => true,
                    aegis_registry::Allowance::Frozen => false,
                    aegis_registry::Allowance::VaultsOnly => {
                        let to_vault = |a: &Address| asset.vaults.contains(a) || is_target(a);
                        match recipient {
                            // A token transfer: where the token goes decides.
                            Some(r) if to == Some(address) => to_vault(&r),
                            _ => to.as_ref().is_some_and(to_vault),
                        }
                    }
                };
                if !allowed && !exempt && verdict == Verdict::Include {
                    verdict = Verdict::Quarantine(asset.id);
                }
            };
            if let Some(to) = to {
                check(to);
            }
            if let Some(list) = envelope.access_list() {
                for item in list.iter() {
                    check(item.address);
                }
            }
            for i in 0..MAX_WORDS {
                match address_word(args, i) {
                    Some(address) => check(address),
                    None if args.len() < (i + 1) * 32 => break,
                    None => {}
                }
            }
        }
        Classification {
            exposed: tx.nonce() > 0,
            moves_value: !envelope.value().is_zero() || recipient.is_some(),
            protected,
            migration,
            verdict,
        }
    }
}

/// Word `index` of ABI arguments if it holds an address (12 zero bytes, then 20 not all zero).
fn address_word(args: &[u8], index: usize) -> Option<Address> {
    let word = args.get(index * 32..index * 32 + 32)?;
    if word[..12].iter().any(|b| *b != 0) || word[12..].iter().all(|b| *b == 0) {
        return None;
    }
    Some(Address::from_slice(&word[12..]))
}
