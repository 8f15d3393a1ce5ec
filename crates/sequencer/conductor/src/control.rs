//! The control loop's decision: what to do with the local sequencer given leadership, health,
//! whether it is sequencing, and its head against the committed one.

use crate::CommittedHead;

/// What the conductor sees in one tick.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Observation {
    /// This worker holds the leader key (and its lease has not lapsed).
    pub leader: bool,
    /// The local sequencer is healthy (unsafe head age, `aegis` readiness, rollup node sync).
    pub healthy: bool,
    /// The local rollup node is sequencing.
    pub active: bool,
    /// The local rollup node's unsafe head.
    pub local: CommittedHead,
    /// The committed head in etcd (`None` before the first commit).
    pub committed: Option<CommittedHead>,
}

/// One action on the local rollup node or the cluster.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    /// `admin_stopSequencer`: a follower or an unhealthy leader must not sequence.
    StopSequencer,
    /// `admin_postUnsafePayload` of the committed payloads `from..=to`, in order: the local
    /// head is behind the committed one (a follower keeping up, or a new leader catching up
    /// before it may sequence).
    CatchUp {
        /// The first block to insert (local head + 1).
        from: u64,
        /// The committed head.
        to: u64,
    },
    /// `admin_startSequencer`: a healthy leader whose head is the committed head.
    StartSequencer,
    /// Give the leader key up so a healthy worker takes over.
    TransferLeadership,
    /// The local head is ahead of, or off, the committed chain: it holds blocks that were never
    /// committed. Such a worker must not sequence on them; it waits (and is reported unhealthy).
    Diverged,
}

/// The steps for `o`, in order (empty: nothing to do).
///
/// | leader | healthy | active | steps |
/// |---|---|---|---|
/// | no | any | yes | stop, then keep up with the committed head |
/// | no | any | no | keep up with the committed head |
/// | yes | yes | no | catch up to the committed head, then start (next tick) |
/// | yes | yes | yes | nothing |
/// | yes | no | yes | stop, transfer leadership |
/// | yes | no | no | transfer leadership |
pub fn decide(o: &Observation) -> Vec<Step> {
    let behind = match o.committed {
        Some(c) if o.local.number < c.number => Some(Step::CatchUp {
            from: o.local.number + 1,
            to: c.number,
        }),
        _ => None,
    };
    let at_head = o.committed.is_none_or(|c| c == o.local);
    match (o.leader, o.healthy, o.active) {
        (false, _, active) => {
            let stop = active.then_some(Step::StopSequencer);
            stop.into_iter().chain(behind).collect()
        }
        (true, true, false) => match behind {
            Some(catch_up) => vec![catch_up],
            None if at_head => vec![Step::StartSequencer],
            None => vec![Step::Diverged],
        },
        (true, true, true) if !at_head && behind.is_none() => vec![Step::Diverged],
        (true, true, true) => Vec::new(),
        (true, false, true) => vec![Step::StopSequencer, Step::TransferLeadership],
        (true, false, false) => vec![Step::TransferLeadership],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy_primitives::B256;

    fn head(number: u64) -> CommittedHead {
        CommittedHead {
            number,
            hash: B256::with_last_byte(number as u8),
        }
    }

    fn seen(leader: bool, healthy: bool, active: bool) -> Observation {
        Observation {
            leader,
            healthy,
            active,
            local: head(10),
            committed: Some(head(10)),
        }
    }

    #[test]
    fn all_eight_states_at_the_committed_head() {
        use Step::*;
        let cases = [
            ((false, false, false), vec![]),
            ((false, false, true), vec![StopSequencer]),
            ((false, true, false), vec![]),
            ((false, true, true), vec![StopSequencer]),
            ((true, false, false), vec![TransferLeadership]),
            ((true, false, true), vec![StopSequencer, TransferLeadership]),
            ((true, true, false), vec![StartSequencer]),
            ((true, true, true), vec![]),
        ];
        for ((leader, healthy, active), steps) in cases {
            assert_eq!(
                decide(&seen(leader, healthy, active)),
                steps,
                "leader {leader}, healthy {healthy}, active {active}"
            );
        }
    }

    #[test]
    fn a_new_leader_five_blocks_behind_catches_up_before_it_starts() {
        let mut o = seen(true, true, false);
        o.local = head(5);
        assert_eq!(decide(&o), [Step::CatchUp { from: 6, to: 10 }]);
        // Caught up (the payloads were inserted): now it starts.
        o.local = head(10);
        assert_eq!(decide(&o), [Step::StartSequencer]);
    }

    #[test]
    fn followers_keep_up_and_never_sequence() {
        let mut o = seen(false, true, true);
        o.local = head(9);
        assert_eq!(
            decide(&o),
            [Step::StopSequencer, Step::CatchUp { from: 10, to: 10 }]
        );
        o.active = false;
        assert_eq!(decide(&o), [Step::CatchUp { from: 10, to: 10 }]);
    }

    #[test]
    fn a_head_off_the_committed_chain_never_starts() {
        let mut o = seen(true, true, false);
        // Same number, another hash: a block that was never committed.
        o.local.hash = B256::repeat_byte(0xee);
        assert_eq!(decide(&o), [Step::Diverged]);
        // Ahead of the committed head.
        o.local = head(11);
        assert_eq!(decide(&o), [Step::Diverged]);
        o.active = true;
        assert_eq!(decide(&o), [Step::Diverged]);
    }

    #[test]
    fn the_first_leader_starts_on_an_empty_cluster() {
        let mut o = seen(true, true, false);
        o.committed = None;
        assert_eq!(decide(&o), [Step::StartSequencer]);
    }
}
