//! OP Stack hardfork schedule and EIP-1559 parameters.

use crate::ChainSpecError;
use alloy_hardforks::{EthereumHardfork, EthereumHardforks, ForkCondition};
use alloy_op_hardforks::{OpHardfork, OpHardforks};
use alloy_primitives::U256;
use core::fmt;

/// An OP Stack network upgrade, in activation order.
///
/// Bedrock is the baseline (active from block 0 on every chain this crate accepts); every later fork
/// is activated by L2 block timestamp. The derived `Ord` follows activation order, so
/// `OpFork::Ecotone > OpFork::Canyon`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum OpFork {
    /// The Bedrock baseline.
    Bedrock,
    /// Regolith: deposit-transaction fixes.
    Regolith,
    /// Canyon: Shanghai on L2, EIP-1559 denominator change, deposit receipt version.
    Canyon,
    /// Ecotone: Cancun on L2, blob-based L1 fee, beacon block root.
    Ecotone,
    /// Fjord: FastLZ L1 fee, RIP-7212 precompile.
    Fjord,
    /// Granite: `bn256Pairing` input limit.
    Granite,
    /// Holocene: EIP-1559 parameters in `extraData`, configurable through the system config.
    Holocene,
    /// Isthmus: Prague on L2, operator fee, `withdrawalsRoot` = message-passer storage root.
    Isthmus,
    /// Jovian: minimum base fee, DA footprint in `blobGasUsed`.
    Jovian,
}

impl OpFork {
    /// All forks in activation order.
    pub const ALL: [Self; 9] = [
        Self::Bedrock,
        Self::Regolith,
        Self::Canyon,
        Self::Ecotone,
        Self::Fjord,
        Self::Granite,
        Self::Holocene,
        Self::Isthmus,
        Self::Jovian,
    ];

    /// The forks after Bedrock, which are activated by timestamp, in activation order.
    pub const TIMESTAMP_FORKS: [Self; 8] = [
        Self::Regolith,
        Self::Canyon,
        Self::Ecotone,
        Self::Fjord,
        Self::Granite,
        Self::Holocene,
        Self::Isthmus,
        Self::Jovian,
    ];

    /// The fork's name, e.g. `"Ecotone"`.
    pub const fn name(self) -> &'static str {
        match self {
            Self::Bedrock => "Bedrock",
            Self::Regolith => "Regolith",
            Self::Canyon => "Canyon",
            Self::Ecotone => "Ecotone",
            Self::Fjord => "Fjord",
            Self::Granite => "Granite",
            Self::Holocene => "Holocene",
            Self::Isthmus => "Isthmus",
            Self::Jovian => "Jovian",
        }
    }

    /// The key of the fork in an op-geth `genesis.json` `config` object, e.g. `"ecotoneTime"`
    /// (`"bedrockBlock"` for Bedrock).
    pub const fn genesis_key(self) -> &'static str {
        match self {
            Self::Bedrock => "bedrockBlock",
            Self::Regolith => "regolithTime",
            Self::Canyon => "canyonTime",
            Self::Ecotone => "ecotoneTime",
            Self::Fjord => "fjordTime",
            Self::Granite => "graniteTime",
            Self::Holocene => "holoceneTime",
            Self::Isthmus => "isthmusTime",
            Self::Jovian => "jovianTime",
        }
    }

    /// The key of the fork in an op-node / kona-node `rollup.json`, e.g. `"ecotone_time"`
    /// (`None` for Bedrock, which has no entry there).
    pub const fn rollup_key(self) -> Option<&'static str> {
        match self {
            Self::Bedrock => None,
            Self::Regolith => Some("regolith_time"),
            Self::Canyon => Some("canyon_time"),
            Self::Ecotone => Some("ecotone_time"),
            Self::Fjord => Some("fjord_time"),
            Self::Granite => Some("granite_time"),
            Self::Holocene => Some("holocene_time"),
            Self::Isthmus => Some("isthmus_time"),
            Self::Jovian => Some("jovian_time"),
        }
    }

    /// The fork immediately before this one (`None` for Bedrock).
    pub const fn previous(self) -> Option<Self> {
        match self {
            Self::Bedrock => None,
            Self::Regolith => Some(Self::Bedrock),
            Self::Canyon => Some(Self::Regolith),
            Self::Ecotone => Some(Self::Canyon),
            Self::Fjord => Some(Self::Ecotone),
            Self::Granite => Some(Self::Fjord),
            Self::Holocene => Some(Self::Granite),
            Self::Isthmus => Some(Self::Holocene),
            Self::Jovian => Some(Self::Isthmus),
        }
    }
}

impl fmt::Display for OpFork {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl From<OpFork> for OpHardfork {
    fn from(fork: OpFork) -> Self {
        match fork {
            OpFork::Bedrock => Self::Bedrock,
            OpFork::Regolith => Self::Regolith,
            OpFork::Canyon => Self::Canyon,
            OpFork::Ecotone => Self::Ecotone,
            OpFork::Fjord => Self::Fjord,
            OpFork::Granite => Self::Granite,
            OpFork::Holocene => Self::Holocene,
            OpFork::Isthmus => Self::Isthmus,
            OpFork::Jovian => Self::Jovian,
        }
    }
}

/// Activation timestamps of the OP Stack forks after Bedrock (`None` = not scheduled).
///
/// Bedrock itself is always active from block 0. A fork being active implies that every earlier
/// fork is active: [`OpForkSchedule::is_active`] and the [`OpHardforks`] implementation follow
/// that rule even for a schedule that was built by hand with gaps. Schedules loaded from a genesis
/// file are checked with [`OpForkSchedule::validate`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct OpForkSchedule {
    /// Regolith activation timestamp.
    pub regolith: Option<u64>,
    /// Canyon activation timestamp (Shanghai on L2).
    pub canyon: Option<u64>,
    /// Ecotone activation timestamp (Cancun on L2).
    pub ecotone: Option<u64>,
    /// Fjord activation timestamp.
    pub fjord: Option<u64>,
    /// Granite activation timestamp.
    pub granite: Option<u64>,
    /// Holocene activation timestamp.
    pub holocene: Option<u64>,
    /// Isthmus activation timestamp (Prague on L2).
    pub isthmus: Option<u64>,
    /// Jovian activation timestamp.
    pub jovian: Option<u64>,
}

impl OpForkSchedule {
    /// A schedule with every known fork active from timestamp 0.
    pub const fn all_at_genesis() -> Self {
        Self {
            regolith: Some(0),
            canyon: Some(0),
            ecotone: Some(0),
            fjord: Some(0),
            granite: Some(0),
            holocene: Some(0),
            isthmus: Some(0),
            jovian: Some(0),
        }
    }

    /// The scheduled activation timestamp of `fork` as written in the schedule (`Some(0)` for
    /// Bedrock). This is the raw value; see [`OpForkSchedule::activation`] for the effective one.
    pub const fn time(&self, fork: OpFork) -> Option<u64> {
        match fork {
            OpFork::Bedrock => Some(0),
            OpFork::Regolith => self.regolith,
            OpFork::Canyon => self.canyon,
            OpFork::Ecotone => self.ecotone,
            OpFork::Fjord => self.fjord,
            OpFork::Granite => self.granite,
            OpFork::Holocene => self.holocene,
            OpFork::Isthmus => self.isthmus,
            OpFork::Jovian => self.jovian,
        }
    }

    /// Sets the scheduled activation timestamp of a fork after Bedrock (Bedrock is ignored).
    pub const fn set_time(&mut self, fork: OpFork, time: Option<u64>) {
        match fork {
            OpFork::Bedrock => {}
            OpFork::Regolith => self.regolith = time,
            OpFork::Canyon => self.canyon = time,
            OpFork::Ecotone => self.ecotone = time,
            OpFork::Fjord => self.fjord = time,
            OpFork::Granite => self.granite = time,
            OpFork::Holocene => self.holocene = time,
            OpFork::Isthmus => self.isthmus = time,
            OpFork::Jovian => self.jovian = time,
        }
    }

    /// The effective activation timestamp of `fork`: the earliest scheduled time of `fork` or of
    /// any later fork (a later fork implies the earlier ones). `None` if it never activates.
    pub fn activation(&self, fork: OpFork) -> Option<u64> {
        OpFork::ALL
            .iter()
            .filter(|f| **f >= fork)
            .filter_map(|f| self.time(*f))
            .min()
    }

    /// The newest fork active at `timestamp` (Bedrock if no later fork is active).
    pub fn active_fork(&self, timestamp: u64) -> OpFork {
        OpFork::TIMESTAMP_FORKS
            .iter()
            .rev()
            .copied()
            .find(|fork| self.time(*fork).is_some_and(|t| t <= timestamp))
            .unwrap_or(OpFork::Bedrock)
    }

    /// Whether `fork` is active at `timestamp` (directly or implied by a later active fork).
    pub fn is_active(&self, fork: OpFork, timestamp: u64) -> bool {
        self.active_fork(timestamp) >= fork
    }

    /// Whether the block at `timestamp`, whose parent has `parent_timestamp`, is the first block
    /// with `fork` active. Such blocks carry the fork's network-upgrade transactions and still use
    /// the previous fork's L1-info call. Always `false` for Bedrock.
    pub fn is_activation_block(&self, fork: OpFork, parent_timestamp: u64, timestamp: u64) -> bool {
        fork != OpFork::Bedrock
            && self.is_active(fork, timestamp)
            && !self.is_active(fork, parent_timestamp)
    }

    /// Checks that the schedule is ordered: every scheduled fork has all earlier forks scheduled
    /// at or before its own time.
    pub fn validate(&self) -> Result<(), ChainSpecError> {
        let mut previous: Option<(OpFork, u64)> = None;
        let mut first_unset: Option<OpFork> = None;
        for fork in OpFork::TIMESTAMP_FORKS {
            match self.time(fork) {
                None => {
                    first_unset.get_or_insert(fork);
                }
                Some(time) => {
                    if let Some(missing) = first_unset {
                        return Err(ChainSpecError::ForkGap {
                            fork: fork.genesis_key(),
                            time,
                            missing: missing.genesis_key(),
                        });
                    }
                    if let Some((prev, prev_time)) = previous
                        && prev_time > time
                    {
                        return Err(ChainSpecError::ForkOrder {
                            fork: fork.genesis_key(),
                            time,
                            previous: prev.genesis_key(),
                            previous_time: prev_time,
                        });
                    }
                    previous = Some((fork, time));
                }
            }
        }
        Ok(())
    }

    /// Iterates over the forks after Bedrock with their scheduled times.
    pub fn iter(&self) -> impl Iterator<Item = (OpFork, Option<u64>)> + '_ {
        OpFork::TIMESTAMP_FORKS
            .into_iter()
            .map(|fork| (fork, self.time(fork)))
    }

    fn condition(&self, fork: OpFork) -> ForkCondition {
        if fork == OpFork::Bedrock {
            return ForkCondition::Block(0);
        }
        self.activation(fork)
            .map_or(ForkCondition::Never, ForkCondition::Timestamp)
    }
}

impl EthereumHardforks for OpForkSchedule {
    /// L1 forks as op-geth runs them on an OP chain: everything up to London at block 0, the merge
    /// at genesis, Shanghai with Canyon, Cancun with Ecotone, Prague with Isthmus; later L1 forks
    /// are not scheduled.
    fn ethereum_fork_activation(&self, fork: EthereumHardfork) -> ForkCondition {
        match fork {
            EthereumHardfork::Frontier
            | EthereumHardfork::Homestead
            | EthereumHardfork::Tangerine
            | EthereumHardfork::SpuriousDragon
            | EthereumHardfork::Byzantium
            | EthereumHardfork::Constantinople
            | EthereumHardfork::Petersburg
            | EthereumHardfork::Istanbul
            | EthereumHardfork::MuirGlacier
            | EthereumHardfork::Berlin
            | EthereumHardfork::London
            | EthereumHardfork::ArrowGlacier
            | EthereumHardfork::GrayGlacier => ForkCondition::Block(0),
            EthereumHardfork::Paris => ForkCondition::TTD {
                activation_block_number: 0,
                fork_block: None,
                total_difficulty: U256::ZERO,
            },
            EthereumHardfork::Shanghai => self.condition(OpFork::Canyon),
            EthereumHardfork::Cancun => self.condition(OpFork::Ecotone),
            EthereumHardfork::Prague => self.condition(OpFork::Isthmus),
            _ => ForkCondition::Never,
        }
    }
}

impl OpHardforks for OpForkSchedule {
    fn op_fork_activation(&self, fork: OpHardfork) -> ForkCondition {
        let fork = match fork {
            OpHardfork::Bedrock => OpFork::Bedrock,
            OpHardfork::Regolith => OpFork::Regolith,
            OpHardfork::Canyon => OpFork::Canyon,
            OpHardfork::Ecotone => OpFork::Ecotone,
            OpHardfork::Fjord => OpFork::Fjord,
            OpHardfork::Granite => OpFork::Granite,
            OpHardfork::Holocene => OpFork::Holocene,
            OpHardfork::Isthmus => OpFork::Isthmus,
            OpHardfork::Jovian => OpFork::Jovian,
            _ => return ForkCondition::Never,
        };
        self.condition(fork)
    }
}

/// EIP-1559 parameters of an OP chain (`config.optimism` in op-geth's genesis).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Eip1559Params {
    /// Elasticity multiplier (gas target = gas limit / elasticity).
    pub elasticity: u64,
    /// Base-fee max change denominator before Canyon.
    pub denominator: u64,
    /// Base-fee max change denominator from Canyon on.
    pub denominator_canyon: u64,
}

impl Eip1559Params {
    /// The OP Mainnet / Superchain default values: elasticity 6, denominator 50, Canyon
    /// denominator 250.
    pub const OPTIMISM: Self = Self {
        elasticity: 6,
        denominator: 50,
        denominator_canyon: 250,
    };

    /// The denominator in force at a block with Canyon active or not.
    pub const fn denominator_for(&self, canyon_active: bool) -> u64 {
        if canyon_active {
            self.denominator_canyon
        } else {
            self.denominator
        }
    }
}

impl Default for Eip1559Params {
    fn default() -> Self {
        Self::OPTIMISM
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn staggered() -> OpForkSchedule {
        OpForkSchedule {
            regolith: Some(0),
            canyon: Some(0),
            ecotone: Some(0),
            fjord: Some(0),
            granite: Some(0),
            holocene: Some(0),
            isthmus: Some(104),
            jovian: Some(108),
        }
    }

    #[test]
    fn active_fork_follows_timestamps() {
        let s = staggered();
        assert_eq!(s.active_fork(0), OpFork::Holocene);
        assert_eq!(s.active_fork(103), OpFork::Holocene);
        assert_eq!(s.active_fork(104), OpFork::Isthmus);
        assert_eq!(s.active_fork(107), OpFork::Isthmus);
        assert_eq!(s.active_fork(108), OpFork::Jovian);
        assert_eq!(s.active_fork(u64::MAX), OpFork::Jovian);
        assert_eq!(
            OpForkSchedule::default().active_fork(u64::MAX),
            OpFork::Bedrock
        );
    }

    #[test]
    fn is_active_and_activation_block() {
        let s = staggered();
        assert!(s.is_active(OpFork::Bedrock, 0));
        assert!(s.is_active(OpFork::Ecotone, 0));
        assert!(!s.is_active(OpFork::Isthmus, 102));
        assert!(s.is_active(OpFork::Isthmus, 104));
        assert!(s.is_activation_block(OpFork::Isthmus, 102, 104));
        assert!(!s.is_activation_block(OpFork::Isthmus, 104, 106));
        assert!(!s.is_activation_block(OpFork::Bedrock, 0, 2));
        assert!(!s.is_activation_block(OpFork::Ecotone, 0, 2));
    }

    #[test]
    fn later_fork_implies_earlier() {
        let s = OpForkSchedule {
            jovian: Some(10),
            ..Default::default()
        };
        assert!(s.is_active(OpFork::Canyon, 10));
        assert!(!s.is_active(OpFork::Canyon, 9));
        assert_eq!(s.activation(OpFork::Canyon), Some(10));
        assert!(s.is_canyon_active_at_timestamp(10));
        assert!(s.is_shanghai_active_at_timestamp(10));
        assert!(!s.is_shanghai_active_at_timestamp(9));
        // ...but such a schedule does not validate.
        let err = s.validate().unwrap_err().to_string();
        assert!(
            err.contains("jovianTime") && err.contains("regolithTime"),
            "{err}"
        );
    }

    #[test]
    fn validate_reports_out_of_order_fork() {
        let mut s = staggered();
        s.isthmus = Some(200);
        let err = s.validate().unwrap_err().to_string();
        assert!(
            err.contains("jovianTime") && err.contains("isthmusTime"),
            "{err}"
        );
        assert!(staggered().validate().is_ok());
        assert!(OpForkSchedule::default().validate().is_ok());
        assert!(OpForkSchedule::all_at_genesis().validate().is_ok());
    }

    #[test]
    fn hardfork_traits_map_l1_forks() {
        let s = staggered();
        assert!(s.is_cancun_active_at_timestamp(0));
        assert!(!s.is_prague_active_at_timestamp(103));
        assert!(s.is_prague_active_at_timestamp(104));
        assert!(s.is_jovian_active_at_timestamp(108));
        assert!(!s.is_interop_active_at_timestamp(u64::MAX));
        assert!(!s.is_osaka_active_at_timestamp(u64::MAX));
        assert!(s.is_london_active_at_block(0));
        assert!(s.is_bedrock_active_at_block(0));
    }

    #[test]
    fn fork_order_and_names() {
        assert!(OpFork::Jovian > OpFork::Isthmus);
        assert_eq!(OpFork::Ecotone.to_string(), "Ecotone");
        assert_eq!(OpFork::Ecotone.genesis_key(), "ecotoneTime");
        assert_eq!(OpFork::Ecotone.rollup_key(), Some("ecotone_time"));
        assert_eq!(OpFork::Canyon.previous(), Some(OpFork::Regolith));
        assert_eq!(OpHardfork::from(OpFork::Jovian), OpHardfork::Jovian);
        for pair in OpFork::ALL.windows(2) {
            assert!(pair[0] < pair[1]);
            assert_eq!(pair[1].previous(), Some(pair[0]));
        }
    }
}
