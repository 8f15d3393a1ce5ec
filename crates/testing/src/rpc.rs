//! JSON-RPC over real HTTP for tests and benches: plain calls to a public port, and a
//! JWT-authenticated client for an engine port as a rollup node calls it.

use alloy_rpc_types_engine::{Claims, JwtSecret};
use serde_json::{Value, json};
use std::time::{SystemTime, UNIX_EPOCH};

/// Seconds since the Unix epoch.
pub fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock after 1970")
        .as_secs()
}

/// The whole JSON-RPC response object of `method(params)` at `url`.
pub async fn call(url: &str, method: &str, params: Value) -> Value {
    let body = json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params});
    let response = reqwest::Client::new().post(url).json(&body).send().await;
    let response = response.unwrap_or_else(|e| panic!("{method}: {e}"));
    response.json().await.expect("JSON-RPC response")
}

/// The code and message of an error answer; panics on a result.
pub fn error_of(response: &Value) -> (i64, String) {
    let error = &response["error"];
    assert!(error.is_object(), "expected an error: {response}");
    let code = error["code"].as_i64().expect("error code");
    let message = error["message"].as_str().expect("error message");
    (code, message.to_owned())
}

/// Calls an engine port with a fresh HS256 token per request.
#[derive(Clone, Debug)]
pub struct EngineClient {
    url: String,
    secret: JwtSecret,
    http: reqwest::Client,
}

impl EngineClient {
    /// A client for the engine at `url` sharing `secret`.
    pub fn new(url: impl Into<String>, secret: JwtSecret) -> Self {
        Self {
            url: url.into(),
            secret,
            http: reqwest::Client::new(),
        }
    }

    /// An `Authorization` header value with the token issued at `iat`.
    pub fn bearer(&self, iat: u64) -> String {
        let token = self
            .secret
            .encode(&Claims { iat, exp: None })
            .expect("encode JWT");
        format!("Bearer {token}")
    }

    /// Posts `body` with the `Authorization` header `auth`, if any.
    pub async fn post(&self, body: &Value, auth: Option<String>) -> reqwest::Response {
        let mut request = self.http.post(&self.url).json(body);
        if let Some(auth) = auth {
            request = request.header("authorization", auth);
        }
        request.send().await.expect("engine port unreachable")
    }

    /// The whole JSON-RPC response object of `method(params)`, authenticated now.
    pub async fn request(&self, method: &str, params: Value) -> Value {
        let body = json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params});
        let response = self.post(&body, Some(self.bearer(unix_now()))).await;
        assert_eq!(response.status(), 200, "{method}: HTTP status");
        response.json().await.expect("JSON-RPC response")
    }

    /// The result of `method(params)`; panics on an error answer.
    pub async fn call(&self, method: &str, params: Value) -> Value {
        let response = self.request(method, params).await;
        assert!(response.get("error").is_none(), "{method}: {response}");
        response["result"].clone()
    }
}
