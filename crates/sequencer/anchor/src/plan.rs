//! What a round does, decided from what the contracts say and what the node has attested.

use crate::AnchorConfig;
use aegis_attest::{BatchAttestation, SlhDsaStatus};
use alloy_primitives::{Address, B256};

/// The sequencer's state in `SequencerAttestation`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Registration {
    /// Never registered.
    Unregistered,
    /// Registered and not revoked: may commit.
    Active,
    /// Revoked by governance (or rotated away): may do nothing.
    Revoked,
}

/// This sequencer's last report to `QRMSOracle` (all zero before the first).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReporterView {
    /// Score reported.
    pub score: u16,
    /// Its round.
    pub round: u32,
    /// Unix seconds of the block that recorded it.
    pub reported_at: u64,
}

/// What the contracts say at the head.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ChainView {
    /// Registration.
    pub registration: Registration,
    /// Last committed batch id (of any sequencer), `None` before the first.
    pub last_batch: Option<u64>,
    /// Last L2 block of the last committed batch (0 before the first).
    pub last_l2_end_block: u64,
    /// The registered key hashes differ from the node's current keys (they rotated).
    pub keys_outdated: bool,
    /// The last report, `None` when there is no oracle or this sequencer is not a reporter.
    pub reporter: Option<ReporterView>,
    /// The registry's ML-DSA-87 verifier, `None` for a registry without the post-quantum path.
    pub mldsa_verifier: Option<Address>,
    /// keccak256 of the registered ML-DSA-87 public key (zero before registration).
    pub registered_mldsa_key: B256,
    /// This node's key epoch the registry holds (`None` before registration or after
    /// revocation). Behind the current epoch, the registry is walked forward one epoch per
    /// `updateKeys`, each expanded before it hands over to the next.
    pub registered_epoch: Option<u32>,
    /// The registry refuses the ECDSA-authorised `commitBatch` now: the oracle's level is
    /// EMERGENCY (it stays there until governance releases it) or ECDSA is deprecated.
    pub ecdsa_refused: bool,
    /// Parts (bit i: row i, bit 8: tr) of the registered ML-DSA key's expansion the verifier
    /// lacks; `commitBatchPq`, checkpoints and key updates need none missing.
    pub missing_key_parts: u16,
}

impl ChainView {
    /// Whether `commitBatchPq` can verify the registered key's signatures now.
    pub fn pq_ready(&self) -> bool {
        self.registration == Registration::Active
            && self.mldsa_verifier.is_some()
            && self.missing_key_parts == 0
            && !self.keys_outdated
    }
}

/// Every part of a key's expansion: rows 0..=7 and tr (part 8).
pub const ALL_KEY_PARTS: u16 = 0x1ff;

/// Which commitment paths a round may take.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CommitPaths {
    /// Commit through `commitBatchPq` once the key is expanded.
    pub pq: bool,
    /// The ECDSA-authorised `commitBatch` is refused (EMERGENCY).
    pub ecdsa_refused: bool,
}

/// One transaction of a round.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    /// `registerSequencer` with a fresh quote.
    Register,
    /// `updateKeys` with a fresh quote over the rotated keys.
    UpdateKeys,
    /// `commitBatch` for this batch id.
    Commit(u64),
    /// `MlDsa87Verifier.expandKey` for this part of the registered ML-DSA key.
    ExpandKey(u64),
    /// `commitBatchPq` for this batch id.
    CommitPq(u64),
    /// `recordCheckpoint` for this local checkpoint id.
    Checkpoint(u64),
    /// `submitReport(round, score)`.
    Report {
        /// The next round.
        round: u32,
        /// The score.
        score: u16,
    },
}

impl Action {
    /// Whether this makes the sequencer's own identity known (registration, key rotation, the
    /// on-chain expansion of its ML-DSA key), as opposed to writing the chain's record.
    pub fn is_identity(&self) -> bool {
        matches!(self, Self::Register | Self::UpdateKeys | Self::ExpandKey(_))
    }

    /// The contract function, for logs and metrics.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Register => "registerSequencer",
            Self::UpdateKeys => "updateKeys",
            Self::Commit(_) => "commitBatch",
            Self::ExpandKey(_) => "expandKey",
            Self::CommitPq(_) => "commitBatchPq",
            Self::Checkpoint(_) => "recordCheckpoint",
            Self::Report { .. } => "submitReport",
        }
    }
}

/// The round's transactions, in nonce order. `uncommitted` are the attested batches after the
/// last committed one, oldest first; `unrecorded` the local checkpoints the contract lacks;
/// `risk` the current score; `now` unix seconds.
///
/// Registration comes before any commitment (which would revert without it); rotated keys are
/// re-attested on chain first thing. Batches are
/// committed in order, each once its SLH-DSA signature is settled or `slh_wait` has passed,
/// and the first one still waiting holds back the ones after it (batch ids must increase on
/// chain). A batch whose blocks are all covered by the last commitment (a restarted batcher
/// posts undelivered blocks again) is passed over: the contract only accepts ranges that
/// extend the committed one. A score is reported when it differs from the last report or that report is older
/// than `report_refresh`.
///
/// The registered ML-DSA key's missing expansion parts are written first: checkpoints (always
/// ML-DSA verified on chain) and `commitBatchPq` need the whole expansion, so until then they
/// wait. With `paths.pq` (the risk level or `--anchor.pq always` asks for it) batches are then
/// committed with `commitBatchPq`, else with `commitBatch`; when the ECDSA path is refused
/// (`paths.ecdsa_refused`: the local monitor says EMERGENCY; `view.ecdsa_refused`: the registry
/// says so, as it does until governance releases the oracle's EMERGENCY) they wait for the
/// post-quantum path.
pub fn plan(
    view: &ChainView,
    uncommitted: &[BatchAttestation],
    unrecorded: &[u64],
    risk: Option<u16>,
    paths: CommitPaths,
    now: u64,
    config: &AnchorConfig,
) -> Vec<Action> {
    let mut actions = Vec::new();
    match view.registration {
        Registration::Revoked => return actions,
        Registration::Unregistered => actions.push(Action::Register),
        Registration::Active => {
            // The registered key's expansion first: rotated keys are handed over by the
            // registered key's ML-DSA signature, which the verifier checks from it.
            if view.mldsa_verifier.is_some() {
                actions.extend(
                    (0..9)
                        .filter(|part| view.missing_key_parts & (1 << part) != 0)
                        .map(Action::ExpandKey),
                );
            }
            if view.keys_outdated && view.missing_key_parts == 0 {
                actions.push(Action::UpdateKeys);
            }
            let ecdsa_refused = paths.ecdsa_refused || view.ecdsa_refused;
            let commit_pq = (paths.pq || ecdsa_refused) && view.pq_ready();
            let commits = if commit_pq || !ecdsa_refused {
                config.max_commits_per_round
            } else {
                0
            };
            for batch in uncommitted.iter().take(commits) {
                let waited = now.saturating_sub(batch.created_at);
                if batch.slh_dsa == SlhDsaStatus::Pending && waited < config.slh_wait.as_secs() {
                    break;
                }
                let covered = view.last_batch.is_some()
                    && batch.commitment.last_block <= view.last_l2_end_block;
                if !covered {
                    actions.push(if commit_pq {
                        Action::CommitPq(batch.batch_id)
                    } else {
                        Action::Commit(batch.batch_id)
                    });
                }
            }
            if view.pq_ready() {
                actions.extend(unrecorded.iter().map(|id| Action::Checkpoint(*id)));
            }
        }
    }
    if let (Some(last), Some(score)) = (view.reporter, risk) {
        let stale = now.saturating_sub(last.reported_at) >= config.report_refresh.as_secs();
        if last.round == 0 || last.score != score || stale {
            actions.push(Action::Report {
                round: last.round + 1,
                score,
            });
        }
    }
    actions
}

#[cfg(test)]
mod tests {
    use super::*;
    use aegis_pqc::BatchCommitment;
    use alloy_primitives::Bytes;

    fn batch(id: u64, slh: SlhDsaStatus, created_at: u64) -> BatchAttestation {
        let commitment = BatchCommitment {
            chain_id: 901,
            batch_id: id,
            first_block: id * 10,
            last_block: id * 10 + 9,
            block_hashes_hash: B256::ZERO,
            frames_hash: B256::ZERO,
            key_epoch: 0,
        };
        BatchAttestation {
            batch_id: id,
            commitment_hash: commitment.hash(),
            commitment,
            block_hashes: Vec::new(),
            bundle: Bytes::new(),
            report_data_binding: aegis_tee::ReportDataBinding {
                sequencer: Address::ZERO,
                mldsa_key_hash: B256::ZERO,
                slhdsa_key_hash: B256::ZERO,
                encryption_key_hash: B256::ZERO,
                binding: B256::ZERO,
                domain: aegis_tee::ReportDataDomain::off_chain(
                    aegis_tee::ReportDataPurpose::Batch,
                    901,
                ),
            },
            quote: Bytes::new(),
            quote_provider: "simulator".into(),
            slh_dsa: slh,
            created_at,
        }
    }

    fn config() -> AnchorConfig {
        AnchorConfig::new(Address::repeat_byte(1), Some(Address::repeat_byte(2)))
    }

    fn view(registration: Registration, reporter: Option<ReporterView>) -> ChainView {
        ChainView {
            registration,
            last_batch: None,
            last_l2_end_block: 0,
            keys_outdated: false,
            reporter,
            ecdsa_refused: false,
            mldsa_verifier: Some(Address::repeat_byte(3)),
            registered_mldsa_key: B256::repeat_byte(4),
            registered_epoch: Some(0),
            missing_key_parts: 0,
        }
    }

    const NOW: u64 = 1_000_000;

    #[test]
    fn an_unregistered_sequencer_registers_before_committing() {
        let batches = [batch(1, SlhDsaStatus::Signed, NOW)];
        let actions = plan(
            &view(Registration::Unregistered, None),
            &batches,
            &[],
            None,
            CommitPaths::default(),
            NOW,
            &config(),
        );
        assert_eq!(actions, [Action::Register]);
    }

    #[test]
    fn a_revoked_sequencer_does_nothing() {
        let reporter = Some(ReporterView {
            score: 0,
            round: 0,
            reported_at: 0,
        });
        let batches = [batch(1, SlhDsaStatus::Signed, NOW)];
        let actions = plan(
            &view(Registration::Revoked, reporter),
            &batches,
            &[],
            Some(5),
            CommitPaths::default(),
            NOW,
            &config(),
        );
        assert!(actions.is_empty());
    }

    #[test]
    fn batches_commit_in_order_and_a_pending_slh_signature_holds_back_later_ones() {
        let batches = [
            batch(3, SlhDsaStatus::Signed, NOW - 10),
            batch(4, SlhDsaStatus::Dropped, NOW - 5),
            batch(5, SlhDsaStatus::Pending, NOW - 1),
            batch(6, SlhDsaStatus::Signed, NOW),
        ];
        let actions = plan(
            &view(Registration::Active, None),
            &batches,
            &[],
            None,
            CommitPaths::default(),
            NOW,
            &config(),
        );
        assert_eq!(actions, [Action::Commit(3), Action::Commit(4)]);
        // After slh_wait the pending one goes without its SLH-DSA hash.
        let later = NOW - 1 + config().slh_wait.as_secs();
        let actions = plan(
            &view(Registration::Active, None),
            &batches,
            &[],
            None,
            CommitPaths::default(),
            later,
            &config(),
        );
        assert_eq!(
            actions,
            [
                Action::Commit(3),
                Action::Commit(4),
                Action::Commit(5),
                Action::Commit(6)
            ]
        );
    }

    #[test]
    fn batches_covered_by_the_last_commitment_are_passed_over() {
        // Batch 7 ended at block 79; after a restart the batcher posted 70..79 again (batch 8)
        // and then 70..89 (batch 9).
        let mut b8 = batch(8, SlhDsaStatus::Signed, NOW);
        (b8.commitment.first_block, b8.commitment.last_block) = (70, 79);
        let mut b9 = batch(9, SlhDsaStatus::Signed, NOW);
        (b9.commitment.first_block, b9.commitment.last_block) = (70, 89);
        let view = ChainView {
            registration: Registration::Active,
            last_batch: Some(7),
            last_l2_end_block: 79,
            ..view(Registration::Active, None)
        };
        assert_eq!(
            plan(
                &view,
                &[b8, b9],
                &[],
                None,
                CommitPaths::default(),
                NOW,
                &config()
            ),
            [Action::Commit(9)]
        );
    }

    #[test]
    fn checkpoints_follow_commitments_and_need_a_registration() {
        let batches = [batch(1, SlhDsaStatus::Signed, NOW)];
        let active = view(Registration::Active, None);
        assert_eq!(
            plan(
                &active,
                &batches,
                &[2, 3],
                None,
                CommitPaths::default(),
                NOW,
                &config()
            ),
            [
                Action::Commit(1),
                Action::Checkpoint(2),
                Action::Checkpoint(3)
            ]
        );
        let unregistered = view(Registration::Unregistered, None);
        assert_eq!(
            plan(
                &unregistered,
                &[],
                &[2],
                None,
                CommitPaths::default(),
                NOW,
                &config()
            ),
            [Action::Register]
        );
    }

    #[test]
    fn rotated_keys_are_re_attested_before_anything_else() {
        let batches = [batch(1, SlhDsaStatus::Signed, NOW)];
        let mut active = view(Registration::Active, None);
        active.keys_outdated = true;
        assert_eq!(
            plan(
                &active,
                &batches,
                &[],
                None,
                CommitPaths::default(),
                NOW,
                &config()
            ),
            [Action::UpdateKeys, Action::Commit(1)]
        );
        let mut unregistered = view(Registration::Unregistered, None);
        unregistered.keys_outdated = true;
        assert_eq!(
            plan(
                &unregistered,
                &[],
                &[],
                None,
                CommitPaths::default(),
                NOW,
                &config()
            ),
            [Action::Register]
        );
    }

    #[test]
    fn commits_per_round_are_capped() {
        let batches: Vec<_> = (1..=40)
            .map(|id| batch(id, SlhDsaStatus::Signed, NOW))
            .collect();
        let actions = plan(
            &view(Registration::Active, None),
            &batches,
            &[],
            None,
            CommitPaths::default(),
            NOW,
            &config(),
        );
        assert_eq!(actions.len(), config().max_commits_per_round);
        assert_eq!(actions.last(), Some(&Action::Commit(16)));
    }

    #[test]
    fn scores_are_reported_when_new_changed_or_stale() {
        let fresh = ReporterView {
            score: 4200,
            round: 7,
            reported_at: NOW - 60,
        };
        let active = |r| view(Registration::Active, Some(r));
        // Same score, recent: nothing.
        assert!(
            plan(
                &active(fresh),
                &[],
                &[],
                Some(4200),
                CommitPaths::default(),
                NOW,
                &config()
            )
            .is_empty()
        );
        // No score known yet: nothing.
        assert!(
            plan(
                &active(fresh),
                &[],
                &[],
                None,
                CommitPaths::default(),
                NOW,
                &config()
            )
            .is_empty()
        );
        // Changed: the next round.
        assert_eq!(
            plan(
                &active(fresh),
                &[],
                &[],
                Some(6100),
                CommitPaths::default(),
                NOW,
                &config()
            ),
            [Action::Report {
                round: 8,
                score: 6100
            }]
        );
        // Unchanged but stale.
        let stale = ReporterView {
            reported_at: NOW - config().report_refresh.as_secs(),
            ..fresh
        };
        assert_eq!(
            plan(
                &active(stale),
                &[],
                &[],
                Some(4200),
                CommitPaths::default(),
                NOW,
                &config()
            ),
            [Action::Report {
                round: 8,
                score: 4200
            }]
        );
        // Never reported: round 1, even a zero score.
        let never = ReporterView {
            score: 0,
            round: 0,
            reported_at: 0,
        };
        assert_eq!(
            plan(
                &active(never),
                &[],
                &[],
                Some(0),
                CommitPaths::default(),
                NOW,
                &config()
            ),
            [Action::Report { round: 1, score: 0 }]
        );
        // Not a reporter: nothing.
        assert!(
            plan(
                &view(Registration::Active, None),
                &[],
                &[],
                Some(1),
                CommitPaths::default(),
                NOW,
                &config()
            )
            .is_empty()
        );
    }

    const PQ: CommitPaths = CommitPaths {
        pq: true,
        ecdsa_refused: false,
    };

    fn pq_view(missing_key_parts: u16) -> ChainView {
        ChainView {
            mldsa_verifier: Some(Address::repeat_byte(3)),
            missing_key_parts,
            ..view(Registration::Active, None)
        }
    }

    #[test]
    fn the_key_is_expanded_first_then_pq_commits_and_checkpoints_follow() {
        let batches = [
            batch(1, SlhDsaStatus::Signed, NOW),
            batch(2, SlhDsaStatus::Signed, NOW),
        ];
        // Two parts missing: they are written; this round's batches still go through
        // commitBatch (the verifier cannot check the key yet) and the checkpoint waits.
        let actions = plan(
            &pq_view(0b1_0000_0010),
            &batches,
            &[7],
            None,
            PQ,
            NOW,
            &config(),
        );
        assert_eq!(
            actions,
            [
                Action::ExpandKey(1),
                Action::ExpandKey(8),
                Action::Commit(1),
                Action::Commit(2)
            ]
        );
        let actions = plan(&pq_view(0), &batches, &[7], None, PQ, NOW, &config());
        assert_eq!(
            actions,
            [
                Action::CommitPq(1),
                Action::CommitPq(2),
                Action::Checkpoint(7)
            ]
        );
        // Without the PQ path asked for, the key is still expanded (checkpoints need it) and
        // commitBatch is used.
        let actions = plan(
            &pq_view(ALL_KEY_PARTS),
            &batches[..1],
            &[],
            None,
            CommitPaths::default(),
            NOW,
            &config(),
        );
        assert_eq!(actions.len(), 10);
        assert_eq!(
            actions[..9],
            (0..9).map(Action::ExpandKey).collect::<Vec<_>>()[..]
        );
        assert_eq!(actions[9], Action::Commit(1));
    }

    #[test]
    fn at_emergency_batches_wait_for_the_pq_path() {
        let batches = [batch(1, SlhDsaStatus::Signed, NOW)];
        let emergency = CommitPaths {
            pq: true,
            ecdsa_refused: true,
        };
        // Not expanded yet: expansions only, the batch waits (commitBatch would be refused).
        let actions = plan(
            &pq_view(1 << 3),
            &batches,
            &[],
            None,
            emergency,
            NOW,
            &config(),
        );
        assert_eq!(actions, [Action::ExpandKey(3)]);
        let actions = plan(&pq_view(0), &batches, &[], None, emergency, NOW, &config());
        assert_eq!(actions, [Action::CommitPq(1)]);
    }

    #[test]
    fn the_registrys_emergency_outlasts_a_calm_local_monitor() {
        let batches = [batch(1, SlhDsaStatus::Signed, NOW)];
        // The monitor says NORMAL (no PQ path asked for), the oracle is still latched.
        let latched = |missing| ChainView {
            ecdsa_refused: true,
            ..pq_view(missing)
        };
        let calm = CommitPaths::default();
        let actions = plan(&latched(1 << 2), &batches, &[], None, calm, NOW, &config());
        assert_eq!(
            actions,
            [Action::ExpandKey(2)],
            "commitBatch would be refused"
        );
        let actions = plan(&latched(0), &batches, &[], None, calm, NOW, &config());
        assert_eq!(actions, [Action::CommitPq(1)]);
        // Released: commitBatch again.
        let actions = plan(&pq_view(0), &batches, &[], None, calm, NOW, &config());
        assert_eq!(actions, [Action::Commit(1)]);
    }

    #[test]
    fn rotated_keys_are_attested_before_their_expansion_and_pq_commits() {
        let batches = [batch(1, SlhDsaStatus::Signed, NOW)];
        let rotated = ChainView {
            keys_outdated: true,
            ..pq_view(0)
        };
        assert!(!rotated.pq_ready());
        let actions = plan(&rotated, &batches, &[4], None, PQ, NOW, &config());
        assert_eq!(actions, [Action::UpdateKeys, Action::Commit(1)]);
        // The registered (outgoing) key is expanded before it can hand over.
        let unexpanded = ChainView {
            missing_key_parts: 1 << 8,
            ..rotated
        };
        let actions = plan(&unexpanded, &batches, &[4], None, PQ, NOW, &config());
        assert_eq!(actions, [Action::ExpandKey(8), Action::Commit(1)]);
        // A registry without the PQ path: commitBatch, nothing to expand, no checkpoints.
        let old = ChainView {
            mldsa_verifier: None,
            ..pq_view(ALL_KEY_PARTS)
        };
        let actions = plan(&old, &batches, &[4], None, PQ, NOW, &config());
        assert_eq!(actions, [Action::Commit(1)]);
    }
}
