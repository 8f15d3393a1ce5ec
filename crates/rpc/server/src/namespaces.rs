//! Which namespaces the public port serves, like geth's `--http.api`.
//!
//! A method's namespace is its name up to the first `_` (`eth_call` → `eth`). Methods of
//! namespaces the operator did not name are answered the way geth answers an unknown method
//! (-32601 "the method X does not exist/is not available"), so a caller learns nothing more.

use crate::RpcResult;
use jsonrpsee::{Methods, RpcModule, types::ErrorObjectOwned};

/// What the public port serves unless told otherwise: the wallet namespaces and the public
/// `aegis_*` methods (attestation, encrypted submission, risk and asset reads).
pub const DEFAULT_APIS: &[&str] = &["eth", "net", "web3", "txpool", "aegis"];

/// Every namespace this node has methods in. `miner` (`miner_setMaxDASize`) throttles the
/// builder: it belongs on the authenticated engine port and is public only when named; `debug`
/// (`debug_trace*`) re-executes whole blocks, so it too is served only when named.
pub const KNOWN_APIS: &[&str] = &["eth", "net", "web3", "txpool", "aegis", "miner", "debug"];

/// geth's answer to a method it does not serve.
const METHOD_NOT_FOUND: i32 = -32601;

/// Parses a comma-separated namespace list (`--http.api eth,net,web3`), naming a bad entry.
pub fn parse_apis(list: &str) -> Result<Vec<String>, String> {
    let mut apis = Vec::new();
    for name in list.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let name = name.to_ascii_lowercase();
        if !KNOWN_APIS.contains(&name.as_str()) {
            return Err(format!(
                "unknown API namespace {name:?} (known: {})",
                KNOWN_APIS.join(", ")
            ));
        }
        if !apis.contains(&name) {
            apis.push(name);
        }
    }
    if apis.is_empty() {
        return Err("no API namespace named".into());
    }
    Ok(apis)
}

fn namespace(method: &str) -> &str {
    method.split_once('_').map_or(method, |(ns, _)| ns)
}

/// `methods` with every method outside `apis` answered as unknown. Subscriptions
/// (`eth_subscribe`) follow their namespace like any other method.
pub(crate) fn restrict(methods: Methods, apis: &[String]) -> std::io::Result<Methods> {
    let mut module = RpcModule::new(());
    module
        .merge(methods)
        .map_err(|e| std::io::Error::other(e.to_string()))?;
    // `rpc_modules` is always served: it is how a client learns what is.
    let hidden: Vec<&'static str> = module
        .method_names()
        .filter(|name| namespace(name) != "rpc" && !apis.iter().any(|api| api == namespace(name)))
        .collect();
    for name in hidden {
        module.remove_method(name);
        module
            .register_method(name, move |_, _, _| -> RpcResult<()> {
                Err(ErrorObjectOwned::owned(
                    METHOD_NOT_FOUND,
                    format!("the method {name} does not exist/is not available"),
                    None::<()>,
                ))
            })
            .map_err(|e| std::io::Error::other(e.to_string()))?;
    }
    Ok(module.into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_lists_and_names_a_bad_entry() {
        assert_eq!(parse_apis("eth, NET,eth").unwrap(), ["eth", "net"]);
        let error = parse_apis("eth,admin").unwrap_err();
        assert!(error.contains("\"admin\""), "{error}");
        assert!(parse_apis(" , ").is_err());
    }

    #[tokio::test]
    async fn hidden_namespaces_answer_like_geth() {
        let mut module = RpcModule::new(());
        module
            .register_method("eth_chainId", |_, _, _| "0x1")
            .unwrap();
        module
            .register_method("miner_setMaxDASize", |_, _, _| true)
            .unwrap();
        let served = restrict(module.into(), &["eth".into()]).unwrap();
        let (answer, _) = served
            .raw_json_request(
                r#"{"jsonrpc":"2.0","id":1,"method":"miner_setMaxDASize","params":["0x1","0x1"]}"#,
                1,
            )
            .await
            .unwrap();
        let answer: serde_json::Value = serde_json::from_str(answer.get()).unwrap();
        assert_eq!(answer["error"]["code"], -32601);
        assert_eq!(
            answer["error"]["message"],
            "the method miner_setMaxDASize does not exist/is not available"
        );
        let (answer, _) = served
            .raw_json_request(
                r#"{"jsonrpc":"2.0","id":1,"method":"eth_chainId","params":[]}"#,
                1,
            )
            .await
            .unwrap();
        assert!(answer.get().contains("0x1"), "{}", answer.get());
    }
}
