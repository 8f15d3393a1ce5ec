//! op-conductor's JSON-RPC API (`conductor_*`), so kona-node's `--conductor.rpc` and op-node's
//! `--conductor.rpc` work unchanged against an aegis worker.

use crate::{Conductor, ConductorError, ServerInfo, Suffrage};
use aegis_rpc_types::errors::{INTERNAL, INVALID_PARAMS, SERVER_ERROR, rpc_error};
use jsonrpsee::{RpcModule, types::ErrorObjectOwned};
use op_alloy_rpc_types_engine::OpExecutionPayloadEnvelope;
use std::sync::Arc;

/// The `conductor_*` methods over `conductor`.
pub fn conductor_module(conductor: Arc<Conductor>) -> RpcModule<Arc<Conductor>> {
    let mut module = RpcModule::new(conductor);
    let mut register = |name: &'static str, f: Handler| {
        module
            .register_async_method(name, move |params, c, _| {
                let params = params.into_owned();
                async move { f(c.as_ref().clone(), params).await }
            })
            .expect("unique method name");
    };
    register("conductor_leader", |c, _| {
        Box::pin(async move { json(c.leader().await) })
    });
    register("conductor_leaderWithID", |c, _| {
        Box::pin(async move {
            let Some(id) = c.store().leader().await.map_err(error)? else {
                return Err(rpc_error(SERVER_ERROR, "no leader"));
            };
            let members = c.store().membership().await.map_err(error)?;
            let info = members
                .servers
                .into_iter()
                .find(|s| s.id == id)
                .unwrap_or(ServerInfo {
                    id,
                    addr: String::new(),
                    suffrage: Suffrage::Voter,
                });
            Ok(serde_json::to_value(info).expect("serialisable"))
        })
    });
    register("conductor_active", |c, _| {
        Box::pin(async move { Ok(c.active().into()) })
    });
    register("conductor_paused", |c, _| {
        Box::pin(async move { Ok(c.paused().into()) })
    });
    register("conductor_stopped", |c, _| {
        Box::pin(async move { Ok(c.stopped().into()) })
    });
    register("conductor_pause", |c, _| {
        Box::pin(async move {
            c.set_paused(true);
            Ok(serde_json::Value::Null)
        })
    });
    register("conductor_resume", |c, _| {
        Box::pin(async move {
            if c.stopped() {
                return Err(rpc_error(SERVER_ERROR, "conductor is stopped"));
            }
            c.set_paused(false);
            Ok(serde_json::Value::Null)
        })
    });
    register("conductor_stop", |c, _| {
        Box::pin(async move {
            c.stop();
            // A stopped conductor leads no more.
            c.transfer_leadership().await.map_err(error)?;
            Ok(serde_json::Value::Null)
        })
    });
    register("conductor_sequencerHealthy", |c, _| {
        Box::pin(async move { Ok(c.sequencer_healthy().into()) })
    });
    register("conductor_commitUnsafePayload", |c, params| {
        Box::pin(async move {
            let envelope: OpExecutionPayloadEnvelope = params.one().map_err(invalid)?;
            c.commit(&envelope).await.map_err(error)?;
            Ok(serde_json::Value::Null)
        })
    });
    register("conductor_transferLeader", |c, _| {
        Box::pin(async move {
            if !c.transfer_leadership().await.map_err(error)? {
                return Err(error(ConductorError::NotLeader));
            }
            Ok(serde_json::Value::Null)
        })
    });
    register("conductor_transferLeaderToServer", |c, params| {
        Box::pin(async move {
            let (id, _addr): (String, String) = params.parse().map_err(invalid)?;
            c.transfer_leadership_to(&id).await.map_err(error)?;
            Ok(serde_json::Value::Null)
        })
    });
    register("conductor_overrideLeader", |c, params| {
        Box::pin(async move {
            let overridden: bool = params.one().map_err(invalid)?;
            c.override_leader(overridden);
            Ok(serde_json::Value::Null)
        })
    });
    register("conductor_leaderOverridden", |c, _| {
        Box::pin(async move { Ok(c.leader_overridden().into()) })
    });
    register("conductor_clusterMembership", |c, _| {
        Box::pin(async move { json(c.store().membership().await) })
    });
    for (name, suffrage) in [
        ("conductor_addServerAsVoter", Suffrage::Voter),
        ("conductor_addServerAsNonvoter", Suffrage::Nonvoter),
    ] {
        module
            .register_async_method(name, move |params, c, _| {
                let params = params.into_owned();
                async move {
                    let (id, addr, version): (String, String, u64) =
                        params.parse().map_err(invalid)?;
                    let server = ServerInfo { id, addr, suffrage };
                    c.add_member(&server, version).await.map_err(error)?;
                    Ok::<_, ErrorObjectOwned>(serde_json::Value::Null)
                }
            })
            .expect("unique method name");
    }
    module
        .register_async_method("conductor_removeServer", |params, c, _| {
            let params = params.into_owned();
            async move {
                let (id, version): (String, u64) = params.parse().map_err(invalid)?;
                c.remove_member(&id, version).await.map_err(error)?;
                Ok::<_, ErrorObjectOwned>(serde_json::Value::Null)
            }
        })
        .expect("unique method name");
    module
}

type Handler = fn(
    Arc<Conductor>,
    jsonrpsee::types::Params<'static>,
) -> std::pin::Pin<
    Box<dyn std::future::Future<Output = Result<serde_json::Value, ErrorObjectOwned>> + Send>,
>;

fn json<T: serde::Serialize>(
    r: Result<T, ConductorError>,
) -> Result<serde_json::Value, ErrorObjectOwned> {
    r.map(|v| serde_json::to_value(v).expect("serialisable"))
        .map_err(error)
}

/// op-conductor's messages where it has them (raft's "node is not the leader").
fn error(e: ConductorError) -> ErrorObjectOwned {
    match e {
        ConductorError::NotLeader => rpc_error(SERVER_ERROR, "node is not the leader"),
        ConductorError::Etcd(e) => rpc_error(INTERNAL, format!("etcd: {e}")),
        other => rpc_error(SERVER_ERROR, other.to_string()),
    }
}

fn invalid(e: ErrorObjectOwned) -> ErrorObjectOwned {
    rpc_error(INVALID_PARAMS, e.message().to_owned())
}

/// One member as `aegis cluster status` shows it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MemberStatus {
    /// The member.
    #[serde(flatten)]
    pub server: ServerInfo,
    /// Its conductor answered.
    pub reachable: bool,
    /// It says it leads.
    pub leader: bool,
    /// Its last health verdict.
    pub healthy: bool,
    /// Not paused or stopped.
    pub active: bool,
}

/// The cluster at a glance: who holds the leader key, the committed head, every member.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ClusterStatus {
    /// The worker holding the leader key.
    pub leader: Option<String>,
    /// The committed unsafe head.
    pub committed: Option<crate::CommittedHead>,
    /// The members, each asked over its conductor RPC.
    pub members: Vec<MemberStatus>,
}

/// Reads the cluster's state from etcd and asks each member's conductor (`timeout` each).
pub async fn cluster_status(
    store: &crate::ClusterStore,
    timeout: std::time::Duration,
) -> Result<ClusterStatus, ConductorError> {
    use jsonrpsee::{core::client::ClientT, rpc_params};
    let leader = store.leader().await?;
    let committed = store.head().await?;
    let mut members = Vec::new();
    for server in store.membership().await?.servers {
        let client = jsonrpsee::http_client::HttpClientBuilder::default()
            .request_timeout(timeout)
            .build(format!("http://{}", server.addr))
            .ok();
        let ask = async |method: &str| -> Option<bool> {
            client.as_ref()?.request(method, rpc_params![]).await.ok()
        };
        let (is_leader, healthy, active) = (
            ask("conductor_leader").await,
            ask("conductor_sequencerHealthy").await,
            ask("conductor_active").await,
        );
        members.push(MemberStatus {
            reachable: is_leader.is_some(),
            leader: is_leader.unwrap_or(false),
            healthy: healthy.unwrap_or(false),
            active: active.unwrap_or(false),
            server,
        });
    }
    Ok(ClusterStatus {
        leader,
        committed,
        members,
    })
}
