//! JWT authentication of the engine port (execution-apis `authentication.md`): HS256 tokens
//! with an `iat` claim, as an HTTP layer in front of the JSON-RPC server.

use crate::EngineError;
use alloy_rpc_types_engine::JwtSecret;
use http::{HeaderValue, Response, StatusCode, header::AUTHORIZATION};
use jsonrpsee::server::{HttpBody, HttpRequest, HttpResponse};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use std::{
    future::Future,
    path::Path,
    pin::Pin,
    sync::Arc,
    task::{Context, Poll},
    time::{SystemTime, UNIX_EPOCH},
};

/// How old a token's `iat` may be.
pub const MAX_TOKEN_AGE_SECS: u64 = 60;
/// How far in the future `iat` may be: kona-node stamps `now + 60 s`, so the window is wider
/// than the spec's ±60 s to survive that plus clock drift.
pub const MAX_FUTURE_IAT_SECS: u64 = 120;

#[derive(serde::Deserialize)]
struct Claims {
    iat: u64,
}

/// Why a request was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    /// No `Authorization` header.
    #[error("missing authorization header")]
    Missing,
    /// Not `Bearer <jwt>`.
    #[error("authorization header is not a bearer token")]
    NotBearer,
    /// Signature, algorithm or structure is wrong.
    #[error("invalid token: {0}")]
    Invalid(String),
    /// `iat` is too old or too far in the future.
    #[error("token iat {iat} outside the accepted window around {now}")]
    Stale {
        /// The token's `iat`.
        iat: u64,
        /// Server time.
        now: u64,
    },
}

/// Seconds since the Unix epoch by the wall clock.
pub(crate) fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// Checks an `Authorization` header value against `secret` at time `now`.
pub fn check_authorization(
    secret: &JwtSecret,
    header: Option<&str>,
    now: u64,
) -> Result<(), AuthError> {
    let header = header.ok_or(AuthError::Missing)?;
    let token = header
        .strip_prefix("Bearer ")
        .ok_or(AuthError::NotBearer)?
        .trim();
    let mut validation = Validation::new(Algorithm::HS256);
    validation.set_required_spec_claims(&["iat"]);
    validation.validate_exp = false;
    let data = jsonwebtoken::decode::<Claims>(
        token,
        &DecodingKey::from_secret(secret.as_bytes()),
        &validation,
    )
    .map_err(|e| AuthError::Invalid(e.to_string()))?;
    let iat = data.claims.iat;
    if iat + MAX_TOKEN_AGE_SECS < now || iat > now + MAX_FUTURE_IAT_SECS {
        return Err(AuthError::Stale { iat, now });
    }
    Ok(())
}

/// Reads the hex secret at `path` (optional `0x`), or creates it (mode 0600) when missing.
pub fn load_or_create_secret(path: &Path) -> Result<JwtSecret, EngineError> {
    let bad = |reason: String| EngineError::JwtSecret {
        path: path.to_path_buf(),
        reason,
    };
    match std::fs::read_to_string(path) {
        Ok(text) => {
            let hex = text.trim();
            JwtSecret::from_hex(hex).map_err(|e| bad(format!("not a 32-byte hex secret: {e}")))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            use std::{io::Write, os::unix::fs::OpenOptionsExt};
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir).map_err(|e| bad(e.to_string()))?;
            }
            let secret = JwtSecret::random();
            let mut file = std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(path)
                .map_err(|e| bad(e.to_string()))?;
            file.write_all(hex::encode(secret.as_bytes()).as_bytes())
                .map_err(|e| bad(e.to_string()))?;
            tracing::info!(target: "aegis::engine", path = %path.display(), "generated JWT secret");
            Ok(secret)
        }
        Err(e) => Err(bad(e.to_string())),
    }
}

/// Tower layer refusing requests without a valid engine JWT (HTTP 401).
#[derive(Clone, Debug)]
pub struct JwtAuthLayer {
    secret: Arc<JwtSecret>,
}

impl JwtAuthLayer {
    /// A layer checking tokens against `secret`.
    pub fn new(secret: JwtSecret) -> Self {
        Self {
            secret: Arc::new(secret),
        }
    }
}

impl<S> tower::Layer<S> for JwtAuthLayer {
    type Service = JwtAuth<S>;

    fn layer(&self, inner: S) -> Self::Service {
        JwtAuth {
            inner,
            secret: self.secret.clone(),
        }
    }
}

/// The service [`JwtAuthLayer`] wraps around the RPC server.
#[derive(Clone, Debug)]
pub struct JwtAuth<S> {
    inner: S,
    secret: Arc<JwtSecret>,
}

fn unauthorized(error: &AuthError) -> HttpResponse {
    let mut response = Response::new(HttpBody::from(error.to_string()));
    *response.status_mut() = StatusCode::UNAUTHORIZED;
    response.headers_mut().insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    response
}

impl<S, B> tower::Service<HttpRequest<B>> for JwtAuth<S>
where
    S: tower::Service<HttpRequest<B>, Response = HttpResponse>,
    S::Future: Send + 'static,
{
    type Response = HttpResponse;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<HttpResponse, S::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: HttpRequest<B>) -> Self::Future {
        let header = request
            .headers()
            .get(AUTHORIZATION)
            .and_then(|v| v.to_str().ok());
        match check_authorization(&self.secret, header, now_secs()) {
            Ok(()) => Box::pin(self.inner.call(request)),
            Err(error) => {
                tracing::debug!(target: "aegis::engine", %error, "refused engine request");
                let response = unauthorized(&error);
                Box::pin(async move { Ok(response) })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy_rpc_types_engine::Claims as AlloyClaims;

    fn token(secret: &JwtSecret, iat: u64) -> String {
        format!(
            "Bearer {}",
            secret.encode(&AlloyClaims { iat, exp: None }).unwrap()
        )
    }

    #[test]
    fn accepts_fresh_and_near_future_tokens() {
        let secret = JwtSecret::random();
        let now = 1_700_000_000;
        for iat in [now, now - 30, now + 60, now + 100] {
            check_authorization(&secret, Some(&token(&secret, iat)), now).unwrap();
        }
    }

    #[test]
    fn refuses_missing_wrong_key_stale_future_and_none_alg() {
        let secret = JwtSecret::random();
        let now = 1_700_000_000;
        assert_eq!(
            check_authorization(&secret, None, now),
            Err(AuthError::Missing)
        );
        assert_eq!(
            check_authorization(&secret, Some("Basic abc"), now),
            Err(AuthError::NotBearer)
        );
        let other = JwtSecret::random();
        assert!(matches!(
            check_authorization(&secret, Some(&token(&other, now)), now),
            Err(AuthError::Invalid(_))
        ));
        assert!(matches!(
            check_authorization(&secret, Some(&token(&secret, now - 61)), now),
            Err(AuthError::Stale { .. })
        ));
        assert!(matches!(
            check_authorization(&secret, Some(&token(&secret, now + 121)), now),
            Err(AuthError::Stale { .. })
        ));
        // {"alg":"none","typ":"JWT"}.{"iat":now}. with no signature.
        use base64_url::encode;
        let unsigned = format!(
            "Bearer {}.{}.",
            encode(r#"{"alg":"none","typ":"JWT"}"#),
            encode(&format!(r#"{{"iat":{now}}}"#))
        );
        assert!(matches!(
            check_authorization(&secret, Some(&unsigned), now),
            Err(AuthError::Invalid(_))
        ));
        assert!(matches!(
            check_authorization(&secret, Some("Bearer not.a.jwt"), now),
            Err(AuthError::Invalid(_))
        ));
    }

    mod base64_url {
        /// Unpadded base64url, enough to forge test tokens.
        pub(super) fn encode(input: &str) -> String {
            const ALPHABET: &[u8; 64] =
                b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
            let bytes = input.as_bytes();
            let mut out = String::new();
            for chunk in bytes.chunks(3) {
                let n = chunk
                    .iter()
                    .enumerate()
                    .fold(0u32, |acc, (i, b)| acc | (*b as u32) << (16 - 8 * i));
                for i in 0..=chunk.len() {
                    out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
                }
            }
            out
        }
    }

    #[test]
    fn secret_file_is_created_0600_and_read_back() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("jwt.hex");
        let created = load_or_create_secret(&path).unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        assert_eq!(
            load_or_create_secret(&path).unwrap().as_bytes(),
            created.as_bytes()
        );
        std::fs::write(&path, format!("0x{}\n", hex::encode([7u8; 32]))).unwrap();
        assert_eq!(load_or_create_secret(&path).unwrap().as_bytes(), &[7u8; 32]);
        std::fs::write(&path, "zz").unwrap();
        let err = load_or_create_secret(&path).unwrap_err().to_string();
        assert!(err.contains("jwt.hex"), "{err}");
    }
}
