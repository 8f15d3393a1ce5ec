//! The client side of attestation: what a wallet or an operator runs against a node they do
//! not trust, to get its mempool encryption key only with a quote that binds it.

use crate::AttestError;
use aegis_envelope::RecipientPublicKey;
use aegis_tee::{ReportDataBinding, ReportDataDomain, ReportDataPurpose, VerifiedQuote};
use alloy_primitives::{B256, Bytes};
use jsonrpsee::{
    core::client::ClientT,
    http_client::{HttpClient, HttpClientBuilder},
    rpc_params,
};
use serde::Deserialize;

/// What a quote must chain to.
#[derive(Clone, Copy, Debug)]
pub enum QuoteTrust<'a> {
    /// Intel's PCS collateral (DCAP), checked at unix time `at`.
    Dcap {
        /// The collateral JSON.
        collateral: &'a [u8],
        /// Unix seconds.
        at: u64,
    },
    /// A development root (simulator quotes).
    DevRoot(&'a [u8; 64]),
    /// Any of these development roots (a cluster of simulated TEEs, each under its own root).
    DevRoots(&'a [[u8; 64]]),
}

/// Verifies `quote` under `trust`.
pub fn verify_quote(quote: &[u8], trust: QuoteTrust<'_>) -> Result<VerifiedQuote, AttestError> {
    Ok(match trust {
        QuoteTrust::Dcap { collateral, at } => aegis_tee::verify_dcap(quote, collateral, at)?,
        QuoteTrust::DevRoot(root) => aegis_tee::verify_dev(quote, root)?,
        QuoteTrust::DevRoots(roots) => {
            let mut last = None;
            for root in roots {
                match aegis_tee::verify_dev(quote, root) {
                    Ok(verified) => return Ok(verified),
                    Err(e) => last = Some(e),
                }
            }
            return Err(match last {
                Some(e) => e.into(),
                None => AttestError::Untrusted("no development root is trusted".into()),
            });
        }
    })
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct KeyAnswer {
    public_key: RecipientPublicKey,
    attestation: KeyAttestation,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct KeyAttestation {
    quote: Bytes,
    report_data_binding: ReportDataBinding,
}

/// A node's JSON-RPC, for the attested mempool key and encrypted submission.
#[derive(Debug)]
pub struct AttestedNode {
    client: HttpClient,
}

fn rpc_error(method: &'static str, reason: impl std::fmt::Display) -> AttestError {
    AttestError::Rpc {
        method,
        reason: reason.to_string(),
    }
}

impl AttestedNode {
    /// A client for the node at `url`.
    pub fn new(url: &str) -> Result<Self, AttestError> {
        let client = HttpClientBuilder::default()
            .build(url)
            .map_err(|e| rpc_error("connect", e))?;
        Ok(Self { client })
    }

    /// The node's mempool key, fetched with a fresh quote over a random nonce, and returned
    /// only if the quote verifies under `trust` and its REPORTDATA binds exactly that key and
    /// nonce, for the mempool-key purpose on the key's chain (REPORTDATA v3 domain, no
    /// verifying contract).
    pub async fn encryption_key(
        &self,
        trust: QuoteTrust<'_>,
    ) -> Result<RecipientPublicKey, AttestError> {
        let nonce = B256::random();
        let answer: KeyAnswer = self
            .client
            .request("aegis_getEncryptionKey", rpc_params![nonce])
            .await
            .map_err(|e| rpc_error("aegis_getEncryptionKey", e))?;
        let (key, binding) = (answer.public_key, answer.attestation.report_data_binding);
        let verified = verify_quote(&answer.attestation.quote, trust)?;
        let untrusted = |why: String| AttestError::Untrusted(why);
        if binding.binding != nonce || binding.encryption_key_hash != key.key_hash() {
            return Err(untrusted(
                "the quote's REPORTDATA binding is not for this key and request".into(),
            ));
        }
        let expected = ReportDataDomain::off_chain(ReportDataPurpose::MempoolKey, key.chain_id());
        if binding.domain != expected {
            return Err(untrusted(format!(
                "the quote is not a mempool-key quote for chain {}: its domain is {:?}",
                key.chain_id(),
                binding.domain
            )));
        }
        if !binding.matches(&verified.report_data) {
            return Err(untrusted(
                "the quote's REPORTDATA does not match the key binding it came with".into(),
            ));
        }
        Ok(key)
    }

    /// Submits a sealed envelope with `aegis_sendEncryptedTransaction`; the transaction hash.
    pub async fn send_encrypted(&self, envelope: Bytes) -> Result<B256, AttestError> {
        self.client
            .request("aegis_sendEncryptedTransaction", rpc_params![envelope])
            .await
            .map_err(|e| rpc_error("aegis_sendEncryptedTransaction", e))
    }
}
