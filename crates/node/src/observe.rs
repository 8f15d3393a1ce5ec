//! Prometheus metrics on `/metrics`, liveness on `/healthz`, readiness on `/readyz`, and the
//! node's state snapshots on `/snapshot/latest` (the newest one's signed checkpoint) and
//! `/snapshot/<number>` (the snapshot, streamed).

use aegis_keyshare::{CHALLENGE_PATH, JOIN_PATH, JoinRequest, KeyShareService};
use aegis_snapshot::SnapshotDir;
use http_body_util::{BodyExt, Either, Full, Limited, channel::Channel};
use hyper::{Request, Response, StatusCode, body::Bytes, server::conn::http1, service::service_fn};
use hyper_util::rt::TokioIo;
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use std::{
    net::SocketAddr,
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
};

/// Installs the Prometheus recorder and records the build info.
pub(crate) fn install_recorder() -> anyhow::Result<PrometheusHandle> {
    let handle = PrometheusBuilder::new()
        .set_buckets(&[
            0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
        ])?
        .install_recorder()?;
    metrics::gauge!("aegis_build_info", "version" => env!("CARGO_PKG_VERSION")).set(1.0);
    Ok(handle)
}

type Body = Either<Full<Bytes>, Channel<Bytes, std::io::Error>>;

/// The cluster key service, once the node's keys are open.
pub(crate) type KeyShareSlot = Arc<std::sync::OnceLock<Arc<KeyShareService>>>;

/// The largest join request body (a request is at most about 18 KiB).
const MAX_JOIN_BODY: usize = 64 << 10;

fn json_response(value: &impl serde::Serialize) -> Response<Body> {
    let mut response = Response::new(Either::Left(Full::new(Bytes::from(
        serde_json::to_vec(value).expect("serialisable"),
    ))));
    response.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static("application/json"),
    );
    response
}

/// `POST /cluster/key-share/challenge` and `POST /cluster/key-share/join`: refusals are 403 with
/// the reason, malformed requests 400.
async fn key_share_response(
    service: Option<&KeyShareService>,
    path: &str,
    body: hyper::body::Incoming,
) -> Response<Body> {
    let Some(service) = service else {
        return respond(
            StatusCode::NOT_FOUND,
            "this node shares no cluster key\n".into(),
        );
    };
    if path == CHALLENGE_PATH {
        return match service.challenge() {
            Ok(challenge) => json_response(&challenge),
            Err(e) => respond(StatusCode::SERVICE_UNAVAILABLE, format!("{e}\n")),
        };
    }
    let bytes = match Limited::new(body, MAX_JOIN_BODY).collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(e) => return respond(StatusCode::BAD_REQUEST, format!("request body: {e}\n")),
    };
    let request: JoinRequest = match serde_json::from_slice(&bytes) {
        Ok(request) => request,
        Err(e) => return respond(StatusCode::BAD_REQUEST, format!("join request: {e}\n")),
    };
    match service.answer(&request).await {
        Ok(share) => json_response(&share),
        Err(e) => respond(StatusCode::FORBIDDEN, format!("{e}\n")),
    }
}

fn respond(status: StatusCode, body: String) -> Response<Body> {
    let mut response = Response::new(Either::Left(Full::new(Bytes::from(body))));
    *response.status_mut() = status;
    response
}

/// `/snapshot/latest`: the newest snapshot's checkpoint record; `/snapshot/<n>`: the snapshot
/// of block n, read from disk 256 KiB at a time whatever its size.
async fn snapshot_response(dir: &SnapshotDir, what: &str) -> Response<Body> {
    let number = match what {
        "latest" => match dir.latest() {
            Ok(Some(number)) => {
                return match tokio::fs::read(dir.record_path(number)).await {
                    Ok(record) => {
                        let mut response =
                            Response::new(Either::Left(Full::new(Bytes::from(record))));
                        response.headers_mut().insert(
                            hyper::header::CONTENT_TYPE,
                            hyper::header::HeaderValue::from_static("application/json"),
                        );
                        response
                    }
                    Err(e) => respond(StatusCode::INTERNAL_SERVER_ERROR, format!("{e}\n")),
                };
            }
            Ok(None) => return respond(StatusCode::NOT_FOUND, "no snapshot yet\n".into()),
            Err(e) => return respond(StatusCode::INTERNAL_SERVER_ERROR, format!("{e}\n")),
        },
        number => match number.parse::<u64>() {
            Ok(number) => number,
            Err(_) => {
                return respond(
                    StatusCode::BAD_REQUEST,
                    format!("{number:?} is not a block number\n"),
                );
            }
        },
    };
    let path = dir.snapshot_path(number);
    let Ok(mut file) = tokio::fs::File::open(&path).await else {
        return respond(
            StatusCode::NOT_FOUND,
            format!("no snapshot of block {number}\n"),
        );
    };
    let length = file.metadata().await.map(|m| m.len()).ok();
    let (mut sender, body) = Channel::new(4);
    tokio::spawn(async move {
        use tokio::io::AsyncReadExt;
        let mut buf = vec![0u8; 256 << 10];
        loop {
            match file.read(&mut buf).await {
                Ok(0) => break,
                Ok(n) => {
                    // The client went away: stop reading.
                    if sender
                        .send_data(Bytes::copy_from_slice(&buf[..n]))
                        .await
                        .is_err()
                    {
                        break;
                    }
                }
                Err(e) => {
                    sender.abort(e);
                    break;
                }
            }
        }
    });
    let mut response = Response::new(Either::Right(body));
    if let Some(length) = length {
        response
            .headers_mut()
            .insert(hyper::header::CONTENT_LENGTH, length.into());
    }
    response
}

/// Serves the endpoints on `addr`; `ready` says whether the engine port is up.
pub(crate) async fn serve(
    addr: SocketAddr,
    handle: PrometheusHandle,
    ready: Arc<AtomicBool>,
    snapshots: Option<SnapshotDir>,
    key_share: KeyShareSlot,
) -> anyhow::Result<SocketAddr> {
    let listener = tokio::net::TcpListener::bind(addr).await?;
    let local = listener.local_addr()?;
    let snapshots = Arc::new(snapshots);
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            let (handle, ready, snapshots, key_share) = (
                handle.clone(),
                ready.clone(),
                snapshots.clone(),
                key_share.clone(),
            );
            tokio::spawn(async move {
                let service = service_fn(move |request: Request<hyper::body::Incoming>| {
                    let (handle, ready, snapshots, key_share) = (
                        handle.clone(),
                        ready.clone(),
                        snapshots.clone(),
                        key_share.clone(),
                    );
                    async move {
                        let path = request.uri().path().to_string();
                        if request.method() == hyper::Method::POST
                            && (path == CHALLENGE_PATH || path == JOIN_PATH)
                        {
                            let service = key_share.get().map(Arc::as_ref);
                            let response =
                                key_share_response(service, &path, request.into_body()).await;
                            return Ok::<_, std::convert::Infallible>(response);
                        }
                        let path = path.as_str();
                        let response = match path {
                            "/metrics" => respond(StatusCode::OK, handle.render()),
                            "/healthz" | "/livez" => respond(StatusCode::OK, "ok\n".into()),
                            "/readyz" if ready.load(Ordering::Acquire) => {
                                respond(StatusCode::OK, "ready\n".into())
                            }
                            "/readyz" => {
                                respond(StatusCode::SERVICE_UNAVAILABLE, "starting\n".into())
                            }
                            _ => {
                                match (path.strip_prefix("/snapshot/"), snapshots.as_ref().as_ref())
                                {
                                    (Some(what), Some(dir)) => snapshot_response(dir, what).await,
                                    _ => respond(StatusCode::NOT_FOUND, "not found\n".into()),
                                }
                            }
                        };
                        Ok::<_, std::convert::Infallible>(response)
                    }
                });
                let _ = http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    Ok(local)
}
