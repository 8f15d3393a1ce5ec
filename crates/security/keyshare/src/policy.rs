//! Which peers a worker trusts with the cluster key.

use alloy_primitives::B256;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

/// TCB statuses accepted unless the policy says otherwise: `"UpToDate"` (DCAP) and
/// [`aegis_tee::DEVELOPMENT_TCB_STATUS`] (simulator quotes, which only a development root
/// accepts in the first place).
pub const DEFAULT_TCB_STATUSES: [&str; 2] = ["UpToDate", aegis_tee::DEVELOPMENT_TCB_STATUS];

/// What a verified peer quote must show: a workload id (`keccak256(MRTD ‖ RTMR0..3)`) from the
/// allow-list and an accepted TCB status. The trust root the quote chains to is given
/// separately ([`aegis_attest::QuoteTrust`]). A member applies it to joiners, a joiner to the
/// member that answers.
///
/// JSON: `{"workloads": ["0x…"], "tcbStatuses": ["UpToDate", "development"]}`
/// (`tcbStatuses` defaults to [`DEFAULT_TCB_STATUSES`]).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct JoinPolicy {
    /// Accepted workload ids. Empty: nobody is accepted.
    pub workloads: BTreeSet<B256>,
    /// Accepted TCB statuses (`VerifiedQuote::tcb_status`), compared exactly.
    #[serde(default = "default_tcb_statuses")]
    pub tcb_statuses: BTreeSet<String>,
}

fn default_tcb_statuses() -> BTreeSet<String> {
    DEFAULT_TCB_STATUSES.iter().map(|s| s.to_string()).collect()
}

impl JoinPolicy {
    /// Accepts `workloads` with the [`DEFAULT_TCB_STATUSES`].
    pub fn new(workloads: impl IntoIterator<Item = B256>) -> Self {
        Self {
            workloads: workloads.into_iter().collect(),
            tcb_statuses: default_tcb_statuses(),
        }
    }

    /// Replaces the accepted TCB statuses.
    pub fn with_tcb_statuses(
        mut self,
        statuses: impl IntoIterator<Item = impl Into<String>>,
    ) -> Self {
        self.tcb_statuses = statuses.into_iter().map(Into::into).collect();
        self
    }

    /// Whether `workload_id` is allowed.
    pub fn allows_workload(&self, workload_id: &B256) -> bool {
        self.workloads.contains(workload_id)
    }

    /// Whether `status` is accepted.
    pub fn accepts_tcb_status(&self, status: &str) -> bool {
        self.tcb_statuses.contains(status)
    }
}
