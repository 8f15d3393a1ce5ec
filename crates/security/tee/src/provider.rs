//! Where quotes come from: the Linux configfs-tsm interface, Phala's dstack guest agent, or the
//! simulator.

use crate::{Simulator, TeeError};
use rand_core::{OsRng, RngCore};
use std::{
    path::{Path, PathBuf},
    time::Duration,
};
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWriteExt, BufReader};
use zeroize::Zeroizing;

/// Default configfs-tsm report directory of a Linux TDX guest.
pub const DEFAULT_CONFIGFS_TSM_DIR: &str = "/sys/kernel/config/tsm/report";
/// Default socket of the dstack guest agent.
pub const DEFAULT_DSTACK_SOCKET: &str = "/var/run/dstack.sock";

/// Largest accepted outblob / HTTP body (the event log makes dstack's answer much larger than
/// the quote).
const MAX_RESPONSE: usize = 8 * 1024 * 1024;
/// Largest accepted HTTP status or header line.
const MAX_LINE: usize = 16 * 1024;
/// Largest accepted number of HTTP header lines.
const MAX_HEADERS: usize = 100;

/// A source of TDX quotes.
#[derive(Debug, Clone)]
pub enum AttestationProvider {
    /// The Linux configfs-tsm interface (`/sys/kernel/config/tsm/report`).
    ConfigfsTsm(ConfigfsTsm),
    /// Phala's dstack guest agent on a unix socket.
    Dstack(Dstack),
    /// Development quotes (see [`Simulator`]).
    Simulator(Simulator),
}

impl AttestationProvider {
    /// configfs-tsm in [`DEFAULT_CONFIGFS_TSM_DIR`].
    pub fn configfs_tsm() -> Self {
        Self::ConfigfsTsm(ConfigfsTsm::new(DEFAULT_CONFIGFS_TSM_DIR))
    }

    /// dstack on [`DEFAULT_DSTACK_SOCKET`].
    pub fn dstack() -> Self {
        Self::Dstack(Dstack::new(DEFAULT_DSTACK_SOCKET))
    }

    /// A quote whose REPORTDATA is `report_data`. The bytes are returned as the source gave
    /// them; check them with [`crate::verify_dcap`] or [`crate::verify_dev`].
    pub async fn quote(&self, report_data: [u8; 64]) -> Result<Vec<u8>, TeeError> {
        match self {
            Self::ConfigfsTsm(p) => p.quote(report_data).await,
            Self::Dstack(p) => p.quote(report_data).await,
            Self::Simulator(sim) => Ok(sim.quote(report_data)),
        }
    }

    /// The development root quotes chain to, for the simulator; `None` for real TEEs.
    pub fn dev_root_public_key(&self) -> Option<[u8; 64]> {
        match self {
            Self::Simulator(sim) => Some(sim.dev_root_public_key()),
            _ => None,
        }
    }

    /// The simulator's PCK public key `x ‖ y` (what a development PCK verifier allow-lists);
    /// `None` for real TEEs, whose PCK certificate chain travels in the quote.
    pub fn pck_public_key(&self) -> Option<[u8; 64]> {
        match self {
            Self::Simulator(sim) => Some(sim.pck_public_key()),
            _ => None,
        }
    }

    /// The simulator's workload id (see [`crate::Measurements::workload_id`]); `None` for real
    /// TEEs, whose measurements only their quotes show.
    pub fn simulated_workload_id(&self) -> Option<alloy_primitives::B256> {
        match self {
            Self::Simulator(sim) => Some(sim.measurements().workload_id()),
            _ => None,
        }
    }

    /// `"configfs-tsm"`, `"dstack"` or `"simulator"`.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::ConfigfsTsm(_) => "configfs-tsm",
            Self::Dstack(_) => "dstack",
            Self::Simulator(_) => "simulator",
        }
    }
}

// ----- configfs-tsm --------------------------------------------------------------------------

/// The Linux configfs-tsm report interface.
///
/// A quote is obtained by creating an entry directory under the report directory (the kernel
/// populates it with `inblob`, `outblob`, `generation`, ...), writing the 64-byte REPORTDATA to
/// `inblob` and reading `outblob`. `generation` is read before and after: if it did not advance
/// by exactly one, another writer used the entry concurrently and the quote is refused. An
/// entry created by this provider is removed afterwards.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigfsTsm {
    dir: PathBuf,
    entry_name: Option<String>,
}

impl ConfigfsTsm {
    /// The interface rooted at `dir` (normally [`DEFAULT_CONFIGFS_TSM_DIR`]); each quote uses a
    /// fresh entry `aegis-<16 random hex digits>`.
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self {
            dir: dir.into(),
            entry_name: None,
        }
    }

    /// Uses the fixed entry `name` instead of a fresh one. An existing entry is reused and
    /// left in place (this also lets tests emulate the kernel by pre-creating the entry).
    pub fn with_entry_name(mut self, name: impl Into<String>) -> Self {
        self.entry_name = Some(name.into());
        self
    }

    /// The report directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Obtains a quote over `report_data`.
    pub async fn quote(&self, report_data: [u8; 64]) -> Result<Vec<u8>, TeeError> {
        match tokio::fs::metadata(&self.dir).await {
            Ok(meta) if meta.is_dir() => {}
            Ok(_) => {
                return Err(TeeError::ConfigfsTsmUnavailable {
                    path: self.dir.clone(),
                    reason: "not a directory".to_owned(),
                });
            }
            Err(e) => {
                return Err(TeeError::ConfigfsTsmUnavailable {
                    path: self.dir.clone(),
                    reason: e.to_string(),
                });
            }
        }

        let (entry, created) = match &self.entry_name {
            Some(name) => {
                if name.is_empty() || name.contains('/') || name == "." || name == ".." {
                    return Err(TeeError::ConfigfsTsm {
                        operation: "name entry",
                        path: self.dir.join(name),
                        reason: "not a single path component".to_owned(),
                    });
                }
                let entry = self.dir.join(name);
                match tokio::fs::create_dir(&entry).await {
                    Ok(()) => (entry, true),
                    Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => (entry, false),
                    Err(e) => return Err(fs_error("mkdir", &entry, e)),
                }
            }
            None => {
                let mut suffix = [0u8; 8];
                OsRng
                    .try_fill_bytes(&mut suffix)
                    .map_err(|e| TeeError::ConfigfsTsm {
                        operation: "name entry",
                        path: self.dir.clone(),
                        reason: format!("no randomness: {e}"),
                    })?;
                let entry = self.dir.join(format!("aegis-{}", hex::encode(suffix)));
                tokio::fs::create_dir(&entry)
                    .await
                    .map_err(|e| fs_error("mkdir", &entry, e))?;
                (entry, true)
            }
        };

        let result = quote_in_entry(&entry, &report_data).await;
        if created && let Err(e) = tokio::fs::remove_dir(&entry).await {
            tracing::warn!(
                target: "aegis::tee",
                path = %entry.display(),
                error = %e,
                "cannot remove configfs-tsm entry"
            );
        }
        result
    }
}

fn fs_error(operation: &'static str, path: &Path, e: std::io::Error) -> TeeError {
    TeeError::ConfigfsTsm {
        operation,
        path: path.to_path_buf(),
        reason: e.to_string(),
    }
}

async fn read_generation(entry: &Path) -> Result<Option<u64>, TeeError> {
    let path = entry.join("generation");
    match tokio::fs::read(&path).await {
        Ok(bytes) => {
            let text = String::from_utf8_lossy(&bytes);
            text.trim()
                .parse::<u64>()
                .map(Some)
                .map_err(|_| TeeError::ConfigfsTsm {
                    operation: "parse",
                    path,
                    reason: format!("generation {:?} is not a number", text.trim()),
                })
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(fs_error("read", &path, e)),
    }
}

async fn quote_in_entry(entry: &Path, report_data: &[u8; 64]) -> Result<Vec<u8>, TeeError> {
    let before = read_generation(entry).await?;

    let inblob = entry.join("inblob");
    tokio::fs::write(&inblob, report_data)
        .await
        .map_err(|e| fs_error("write", &inblob, e))?;

    let outblob = entry.join("outblob");
    let file = tokio::fs::File::open(&outblob)
        .await
        .map_err(|e| fs_error("read", &outblob, e))?;
    let mut quote = Vec::new();
    file.take(MAX_RESPONSE as u64 + 1)
        .read_to_end(&mut quote)
        .await
        .map_err(|e| fs_error("read", &outblob, e))?;
    if quote.is_empty() {
        return Err(TeeError::ConfigfsTsm {
            operation: "read",
            path: outblob,
            reason: "empty outblob".to_owned(),
        });
    }
    if quote.len() > MAX_RESPONSE {
        return Err(TeeError::ConfigfsTsm {
            operation: "read",
            path: outblob,
            reason: format!("outblob larger than {MAX_RESPONSE} bytes"),
        });
    }

    let after = read_generation(entry).await?;
    match (before, after) {
        (Some(before), Some(after)) if after != before.wrapping_add(1) => {
            Err(TeeError::ConfigfsTsmRace {
                path: entry.to_path_buf(),
                before,
                after,
            })
        }
        _ => Ok(quote),
    }
}

// ----- dstack --------------------------------------------------------------------------------

/// Phala's dstack guest agent: `GET /GetQuote?report_data=<hex>` over HTTP/1.1 on a unix
/// socket, answered by JSON `{"quote": "<hex>", "event_log": ..., ...}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dstack {
    socket: PathBuf,
    timeout: Duration,
}

impl Dstack {
    /// The agent listening on `socket` (normally [`DEFAULT_DSTACK_SOCKET`]), 30 s timeout.
    pub fn new(socket: impl Into<PathBuf>) -> Self {
        Self {
            socket: socket.into(),
            timeout: Duration::from_secs(30),
        }
    }

    /// Sets the timeout of a whole request.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The socket path.
    pub fn socket(&self) -> &Path {
        &self.socket
    }

    /// Obtains a quote over `report_data`.
    pub async fn quote(&self, report_data: [u8; 64]) -> Result<Vec<u8>, TeeError> {
        tokio::time::timeout(self.timeout, self.request(&report_data))
            .await
            .map_err(|_| TeeError::dstack(format!("no answer within {:?}", self.timeout)))?
    }

    async fn request(&self, report_data: &[u8; 64]) -> Result<Vec<u8>, TeeError> {
        let request = format!(
            "GET /GetQuote?report_data={} HTTP/1.1\r\nHost: dstack\r\nAccept: application/json\r\n\
             Connection: close\r\n\r\n",
            hex::encode(report_data)
        );
        parse_quote_json(&self.exchange(&request).await?)
    }

    /// A 32-byte secret the agent derives for this application at `path` (`POST /GetKey`): the
    /// same app (measurement and app id) gets the same key on any machine of its cluster, no
    /// other app can. The key store is sealed under it, so the key file never exists on disk.
    pub async fn get_key(
        &self,
        path: &str,
        purpose: &str,
    ) -> Result<Zeroizing<[u8; 32]>, TeeError> {
        let body = serde_json::json!({"path": path, "purpose": purpose}).to_string();
        let request = format!(
            "POST /GetKey HTTP/1.1\r\nHost: dstack\r\nAccept: application/json\r\n\
             Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        );
        let answer = tokio::time::timeout(self.timeout, self.exchange(&request))
            .await
            .map_err(|_| TeeError::dstack(format!("no answer within {:?}", self.timeout)))??;
        parse_key_json(&answer)
    }

    /// Sends one HTTP/1.1 request over the socket; the body of a 200 answer.
    async fn exchange(&self, request: &str) -> Result<Vec<u8>, TeeError> {
        let mut stream = tokio::net::UnixStream::connect(&self.socket)
            .await
            .map_err(|e| TeeError::DstackUnavailable {
                path: self.socket.clone(),
                reason: e.to_string(),
            })?;
        stream
            .write_all(request.as_bytes())
            .await
            .map_err(|e| TeeError::dstack(format!("sending the request: {e}")))?;
        let (status, body) = read_http_response(&mut BufReader::new(stream)).await?;
        if status != 200 {
            let snippet: String = String::from_utf8_lossy(&body).chars().take(200).collect();
            return Err(TeeError::dstack(format!("HTTP status {status}: {snippet}")));
        }
        Ok(body)
    }
}

#[derive(serde::Deserialize)]
struct GetKeyResponse {
    key: String,
}

/// The sealing secret from a GetKey answer: SHA-256 of the derived key bytes (whatever their
/// length and curve), so it is always 32 uniform bytes.
fn parse_key_json(body: &[u8]) -> Result<Zeroizing<[u8; 32]>, TeeError> {
    use sha2::Digest;
    let response: GetKeyResponse = serde_json::from_slice(body)
        .map_err(|e| TeeError::dstack(format!("invalid GetKey answer: {e}")))?;
    let hex_text = response.key.trim_start_matches("0x");
    let key = Zeroizing::new(
        hex::decode(hex_text).map_err(|_| TeeError::dstack("GetKey: key is not hex"))?,
    );
    if key.len() < 16 {
        return Err(TeeError::dstack(format!(
            "GetKey: a {}-byte key is too short to seal with",
            key.len()
        )));
    }
    Ok(Zeroizing::new(sha2::Sha256::digest(key.as_slice()).into()))
}

#[derive(serde::Deserialize)]
struct GetQuoteResponse {
    quote: String,
}

fn parse_quote_json(body: &[u8]) -> Result<Vec<u8>, TeeError> {
    let response: GetQuoteResponse = serde_json::from_slice(body)
        .map_err(|e| TeeError::dstack(format!("invalid JSON answer: {e}")))?;
    let hex_text = response.quote.trim();
    let hex_text = hex_text.strip_prefix("0x").unwrap_or(hex_text);
    let quote =
        hex::decode(hex_text).map_err(|e| TeeError::dstack(format!("quote is not hex: {e}")))?;
    if quote.is_empty() {
        return Err(TeeError::dstack("empty quote"));
    }
    Ok(quote)
}

/// Reads one line ending in `\n` (at most [`MAX_LINE`] bytes), without the line ending.
async fn read_line<R: AsyncRead + Unpin>(
    reader: &mut BufReader<R>,
    what: &str,
) -> Result<Vec<u8>, TeeError> {
    let mut line = Vec::new();
    (&mut *reader)
        .take(MAX_LINE as u64)
        .read_until(b'\n', &mut line)
        .await
        .map_err(|e| TeeError::dstack(format!("reading the {what}: {e}")))?;
    match line.strip_suffix(b"\n") {
        Some(l) => Ok(l.strip_suffix(b"\r").unwrap_or(l).to_vec()),
        None if line.len() >= MAX_LINE => Err(TeeError::dstack(format!(
            "{what} longer than {MAX_LINE} bytes"
        ))),
        None => Err(TeeError::dstack(format!(
            "connection closed while reading the {what}"
        ))),
    }
}

/// Reads an HTTP/1.1 response: status code and body (Content-Length, chunked, or until the
/// connection closes).
pub(crate) async fn read_http_response<R: AsyncRead + Unpin>(
    reader: &mut BufReader<R>,
) -> Result<(u16, Vec<u8>), TeeError> {
    let status_line = read_line(reader, "status line").await?;
    let status_line = String::from_utf8_lossy(&status_line);
    let mut parts = status_line.splitn(3, ' ');
    let version = parts.next().unwrap_or_default();
    if !version.starts_with("HTTP/1.") {
        return Err(TeeError::dstack(format!(
            "not an HTTP/1.x status line: {:?}",
            status_line.chars().take(80).collect::<String>()
        )));
    }
    let status: u16 = parts
        .next()
        .and_then(|s| s.parse().ok())
        .filter(|s| (100..=999).contains(s))
        .ok_or_else(|| TeeError::dstack("invalid HTTP status code"))?;

    let mut content_length: Option<usize> = None;
    let mut chunked = false;
    let mut headers = 0;
    loop {
        let line = read_line(reader, "headers").await?;
        if line.is_empty() {
            break;
        }
        headers += 1;
        if headers > MAX_HEADERS {
            return Err(TeeError::dstack("too many HTTP headers"));
        }
        let line = String::from_utf8_lossy(&line);
        let Some((name, value)) = line.split_once(':') else {
            return Err(TeeError::dstack("malformed HTTP header"));
        };
        let value = value.trim();
        if name.eq_ignore_ascii_case("content-length") {
            let n: usize = value
                .parse()
                .map_err(|_| TeeError::dstack("invalid Content-Length"))?;
            if content_length.is_some_and(|old| old != n) {
                return Err(TeeError::dstack("conflicting Content-Length headers"));
            }
            content_length = Some(n);
        } else if name.eq_ignore_ascii_case("transfer-encoding") {
            let last = value.rsplit(',').next().unwrap_or_default().trim();
            if last.eq_ignore_ascii_case("chunked") {
                chunked = true;
            } else if !last.eq_ignore_ascii_case("identity") {
                return Err(TeeError::dstack(format!(
                    "unsupported Transfer-Encoding {value:?}"
                )));
            }
        }
    }

    let body = if chunked {
        read_chunked(reader).await?
    } else if let Some(n) = content_length {
        if n > MAX_RESPONSE {
            return Err(TeeError::dstack(format!(
                "body of {n} bytes exceeds {MAX_RESPONSE}"
            )));
        }
        let mut body = vec![0u8; n];
        reader
            .read_exact(&mut body)
            .await
            .map_err(|e| TeeError::dstack(format!("reading the body: {e}")))?;
        body
    } else {
        let mut body = Vec::new();
        (&mut *reader)
            .take(MAX_RESPONSE as u64 + 1)
            .read_to_end(&mut body)
            .await
            .map_err(|e| TeeError::dstack(format!("reading the body: {e}")))?;
        if body.len() > MAX_RESPONSE {
            return Err(TeeError::dstack(format!(
                "body exceeds {MAX_RESPONSE} bytes"
            )));
        }
        body
    };
    Ok((status, body))
}

async fn read_chunked<R: AsyncRead + Unpin>(
    reader: &mut BufReader<R>,
) -> Result<Vec<u8>, TeeError> {
    let mut body = Vec::new();
    loop {
        let line = read_line(reader, "chunk size").await?;
        let line = String::from_utf8_lossy(&line);
        let size_text = line.split(';').next().unwrap_or_default().trim();
        let size = usize::from_str_radix(size_text, 16)
            .map_err(|_| TeeError::dstack(format!("invalid chunk size {size_text:?}")))?;
        if size == 0 {
            // Trailer fields, then the empty line.
            loop {
                if read_line(reader, "trailer").await?.is_empty() {
                    return Ok(body);
                }
            }
        }
        if size > MAX_RESPONSE.saturating_sub(body.len()) {
            return Err(TeeError::dstack(format!(
                "body exceeds {MAX_RESPONSE} bytes"
            )));
        }
        let start = body.len();
        body.resize(start + size, 0);
        let chunk = body.get_mut(start..).unwrap_or_default();
        reader
            .read_exact(chunk)
            .await
            .map_err(|e| TeeError::dstack(format!("reading a chunk: {e}")))?;
        if !read_line(reader, "chunk end").await?.is_empty() {
            return Err(TeeError::dstack("chunk not followed by CRLF"));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn parse(raw: &[u8]) -> Result<(u16, Vec<u8>), TeeError> {
        read_http_response(&mut BufReader::new(raw)).await
    }

    #[tokio::test]
    async fn http_content_length_chunked_and_eof() {
        let (s, b) = parse(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhelloEXTRA")
            .await
            .unwrap();
        assert_eq!((s, b.as_slice()), (200, &b"hello"[..]));
        let (s, b) = parse(
            b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n3;ext=1\r\nhel\r\n2\r\nlo\r\n0\r\nX-T: 1\r\n\r\n",
        )
        .await
        .unwrap();
        assert_eq!((s, b.as_slice()), (200, &b"hello"[..]));
        let (s, b) = parse(b"HTTP/1.0 404 Not Found\nServer: x\n\nnope")
            .await
            .unwrap();
        assert_eq!((s, b.as_slice()), (404, &b"nope"[..]));
    }

    #[tokio::test]
    async fn http_malformed() {
        for bad in [
            &b""[..],
            b"SSH-2.0\r\n\r\n",
            b"HTTP/1.1 abc OK\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort",
            b"HTTP/1.1 200 OK\r\nContent-Length: 99999999999\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nhelXX0\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffff\r\n",
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nbad header\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab",
        ] {
            assert!(
                matches!(parse(bad).await, Err(TeeError::Dstack { .. })),
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
        let long = [b"HTTP/1.1 200 OK\r\nX: ".as_slice(), &[b'a'; MAX_LINE]].concat();
        assert!(parse(&long).await.is_err());
    }

    #[test]
    fn quote_json() {
        assert_eq!(
            parse_quote_json(br#"{"quote":"0x0102","event_log":"[]"}"#).unwrap(),
            [1, 2]
        );
        assert_eq!(parse_quote_json(br#"{"quote":"0a"}"#).unwrap(), [10]);
        assert!(parse_quote_json(br#"{"quote":""}"#).is_err());
        assert!(parse_quote_json(br#"{"quote":"xyz"}"#).is_err());
        assert!(parse_quote_json(br#"{"event_log":"[]"}"#).is_err());
        assert!(parse_quote_json(b"not json").is_err());
    }

    #[test]
    fn provider_is_send_sync_and_futures_send() {
        fn check<T: Send + Sync>(_: &T) {}
        fn check_send<T: Send>(_: &T) {}
        let p = AttestationProvider::configfs_tsm();
        check(&p);
        check_send(&p.quote([0; 64]));
        assert_eq!(p.kind(), "configfs-tsm");
        assert_eq!(AttestationProvider::dstack().kind(), "dstack");
    }

    #[test]
    fn get_key_answers_become_32_byte_secrets_and_bad_ones_are_refused() {
        let key = "ab".repeat(32);
        let a = parse_key_json(format!(r#"{{"key":"{key}","signature_chain":[]}}"#).as_bytes())
            .unwrap();
        let b = parse_key_json(format!(r#"{{"key":"0x{key}"}}"#).as_bytes()).unwrap();
        assert_eq!(*a, *b);
        assert_ne!(*a, [0xab; 32], "the secret is hashed, not the raw key");
        for bad in [
            r#"{"key":"zz"}"#,
            r#"{"key":"abcd"}"#,
            r#"{"nokey":1}"#,
            "not json",
        ] {
            assert!(parse_key_json(bad.as_bytes()).is_err(), "{bad}");
        }
    }
}
