//! A typed client for the Cloudflare v4 API: the envelope, auth, retries
//! and a shared rate limiter. Resources call the typed operations in
//! [`tokens`] and [`ai_search`]; nothing here knows about Terraform.

pub mod ai_search;
pub mod error;
pub mod models;
pub mod ratelimit;
mod redact;
pub mod tokens;

use std::sync::Arc;
use std::time::Duration;

use rand::Rng;
use reqwest::header::{HeaderMap, HeaderValue, AUTHORIZATION, RETRY_AFTER, USER_AGENT};
use reqwest::Method;
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::Value;
use tracing::{debug, trace, warn};

pub use error::{ApiError, CfMessage, ErrorKind};
use ratelimit::RateLimiter;

use crate::secret::Secret;

pub const USER_AGENT_VALUE: &str = concat!("terraform-provider-cfai/", env!("CARGO_PKG_VERSION"));

#[derive(Debug, Clone)]
pub enum Auth {
    Token(Secret),
    GlobalKey { key: Secret, email: String },
}

#[derive(Debug, Clone)]
pub struct ClientConfig {
    pub base_url: String,
    pub auth: Option<Auth>,
    pub max_retries: u32,
    pub rate_limit_per_5_minutes: u32,
    pub rate_limit_per_second: u32,
    pub request_timeout: Duration,
    /// First retry delay; doubled per attempt, with jitter.
    pub backoff_base: Duration,
    pub backoff_max: Duration,
}

impl ClientConfig {
    pub fn new(base_url: &str, auth: Option<Auth>) -> Self {
        ClientConfig {
            base_url: base_url.trim_end_matches('/').to_string(),
            auth,
            max_retries: 4,
            rate_limit_per_5_minutes: 1200,
            rate_limit_per_second: 50,
            request_timeout: Duration::from_secs(30),
            backoff_base: Duration::from_millis(500),
            backoff_max: Duration::from_secs(30),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Client {
    http: reqwest::Client,
    config: Arc<ClientConfig>,
    limiter: Arc<RateLimiter>,
}

/// A decoded success envelope.
#[derive(Debug, Clone)]
pub struct Page<T> {
    pub result: T,
    pub info: Option<ResultInfo>,
}

#[derive(Debug, Clone, Copy, Default, Deserialize)]
pub struct ResultInfo {
    #[serde(default)]
    pub page: Option<u64>,
    #[serde(default)]
    pub per_page: Option<u64>,
    #[serde(default)]
    pub count: Option<u64>,
    #[serde(default)]
    pub total_count: Option<u64>,
}

impl ResultInfo {
    /// Cloudflare sends no `total_pages`: stop on a short page or when
    /// `page * per_page` reaches `total_count`.
    pub fn has_more(&self, page: u64, per_page: u64, got: usize) -> bool {
        if (got as u64) < per_page || got == 0 {
            return false;
        }
        match self.total_count {
            Some(total) => page * per_page < total,
            None => true,
        }
    }
}

#[derive(Deserialize)]
struct Envelope {
    #[serde(default)]
    success: Option<bool>,
    #[serde(default)]
    errors: Vec<CfMessage>,
    #[serde(default)]
    result: Value,
    #[serde(default)]
    result_info: Option<ResultInfo>,
}

/// What one attempt produced, before deciding on a retry.
enum Attempt {
    Done(Result<(Value, Option<ResultInfo>), ApiError>),
    Retry {
        error: ApiError,
        wait: Option<Duration>,
    },
}

pub(crate) fn idempotent(method: &Method) -> bool {
    matches!(
        *method,
        Method::GET | Method::PUT | Method::DELETE | Method::HEAD
    )
}

impl Client {
    pub fn new(config: ClientConfig) -> Result<Self, ApiError> {
        let fail = |e: String| ApiError::new(ErrorKind::Transport, "INIT", "", e);
        let tls = {
            use rustls_platform_verifier::BuilderVerifierExt;
            rustls::ClientConfig::builder_with_provider(crate::crypto::crypto_provider())
                .with_safe_default_protocol_versions()
                .map_err(|e| fail(e.to_string()))?
                .with_platform_verifier()
                .map_err(|e| fail(e.to_string()))?
                .with_no_client_auth()
        };
        let mut headers = HeaderMap::new();
        headers.insert(USER_AGENT, HeaderValue::from_static(USER_AGENT_VALUE));
        let http = reqwest::Client::builder()
            .tls_backend_preconfigured(tls)
            .default_headers(headers)
            .timeout(config.request_timeout)
            .connect_timeout(config.request_timeout.min(Duration::from_secs(10)))
            .build()
            .map_err(|e| fail(format!("cannot build the HTTP client: {e}")))?;
        let limiter = Arc::new(RateLimiter::new(
            config.rate_limit_per_5_minutes,
            config.rate_limit_per_second,
        ));
        Ok(Client {
            http,
            config: Arc::new(config),
            limiter,
        })
    }

    pub fn has_credentials(&self) -> bool {
        self.config.auth.is_some()
    }

    fn backoff(&self, attempt: u32) -> Duration {
        let exp = self
            .config
            .backoff_base
            .saturating_mul(1u32 << attempt.min(16).saturating_sub(1));
        let capped = exp.min(self.config.backoff_max);
        // Jitter in [50%, 100%] so that parallel resources do not retry in step.
        capped.mul_f64(rand::rng().random_range(0.5..=1.0))
    }

    /// One API call with retries; returns `result` and `result_info`.
    pub(crate) async fn call(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, String)],
        body: Option<&Value>,
        result_is_secret: bool,
    ) -> Result<Page<Value>, ApiError> {
        let Some(auth) = &self.config.auth else {
            return Err(ApiError::new(
                ErrorKind::MissingCredentials,
                method.as_str(),
                path,
                "No Cloudflare credentials were given.",
            ));
        };
        let url = format!("{}{}", self.config.base_url, path);
        let mut attempt = 0;
        loop {
            attempt += 1;
            self.limiter.acquire().await;
            let mut request = self.http.request(method.clone(), &url).query(query);
            request = match auth {
                Auth::Token(token) => {
                    request.header(AUTHORIZATION, format!("Bearer {}", token.expose()))
                }
                Auth::GlobalKey { key, email } => request
                    .header("X-Auth-Key", key.expose())
                    .header("X-Auth-Email", email),
            };
            if let Some(body) = body {
                trace!(method = %method, path, body = %redact::redacted(body), "Cloudflare request");
                request = request.json(body);
            } else {
                trace!(method = %method, path, "Cloudflare request");
            }
            let outcome = self.attempt(request, &method, path, result_is_secret).await;
            match outcome {
                Attempt::Done(Ok((result, info))) => return Ok(Page { result, info }),
                Attempt::Done(Err(mut error)) => {
                    error.attempts = attempt;
                    return Err(error);
                }
                Attempt::Retry { mut error, wait } => {
                    error.attempts = attempt;
                    if attempt > self.config.max_retries {
                        return Err(error);
                    }
                    let delay = wait.unwrap_or_else(|| self.backoff(attempt));
                    warn!(method = %method, path, attempt, status = ?error.status, delay_ms = delay.as_millis() as u64, "retrying Cloudflare request");
                    tokio::time::sleep(delay).await;
                }
            }
        }
    }

    async fn attempt(
        &self,
        request: reqwest::RequestBuilder,
        method: &Method,
        path: &str,
        result_is_secret: bool,
    ) -> Attempt {
        let m = method.as_str();
        let response = match request.send().await {
            Ok(r) => r,
            Err(e) => {
                let error = ApiError::new(ErrorKind::Transport, m, path, transport_detail(&e));
                // A refused connection provably never reached the server;
                // anything else (timeout, reset) may have, so only
                // idempotent requests are sent again.
                return if e.is_connect() || idempotent(method) {
                    Attempt::Retry { error, wait: None }
                } else {
                    Attempt::Done(Err(error))
                };
            }
        };
        let status = response.status().as_u16();
        let retry_after = response
            .headers()
            .get(RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(Duration::from_secs);
        let bytes = match response.bytes().await {
            Ok(b) => b,
            Err(e) => {
                let mut error = ApiError::new(ErrorKind::Transport, m, path, transport_detail(&e));
                error.status = Some(status);
                return if idempotent(method) {
                    Attempt::Retry { error, wait: None }
                } else {
                    Attempt::Done(Err(error))
                };
            }
        };
        let parsed: Option<Value> = serde_json::from_slice(&bytes).ok();
        if let Some(body) = &parsed {
            trace!(method = m, path, status, body = %redact::redacted_envelope(body, result_is_secret), "Cloudflare response");
        } else {
            debug!(method = m, path, status, "Cloudflare response is not JSON");
        }
        let envelope = parsed.as_ref().and_then(|v| Envelope::deserialize(v).ok());
        let errors = envelope
            .as_ref()
            .map(|e| e.errors.clone())
            .unwrap_or_default();
        if status == 429 {
            let wait = retry_after.unwrap_or(Duration::from_secs(5));
            self.limiter.pause_for(wait);
            return Attempt::Retry {
                error: ApiError::from_status(status, errors, m, path),
                wait: Some(wait),
            };
        }
        // 503 is Cloudflare's "not processed, try again"; 502/504 may have
        // been processed, so only idempotent requests repeat them.
        if status == 503 || (matches!(status, 502 | 504) && idempotent(method)) {
            let mut error = ApiError::from_status(status, errors, m, path);
            if envelope.is_none() {
                error.detail = "The response was not a Cloudflare API response (probably an error page from a proxy).".into();
            }
            return Attempt::Retry {
                error,
                wait: retry_after,
            };
        }
        let Some(envelope) = envelope else {
            let mut error = ApiError::new(
                ErrorKind::Malformed,
                m,
                path,
                format!(
                    "The response body is not the Cloudflare JSON envelope: {}",
                    snippet(&bytes)
                ),
            );
            error.status = Some(status);
            if status >= 400 {
                error.kind = ApiError::from_status(status, Vec::new(), m, path).kind;
            }
            return Attempt::Done(Err(error));
        };
        if !(200..300).contains(&status) || envelope.success == Some(false) {
            let mut error = ApiError::from_status(status, envelope.errors, m, path);
            if (200..300).contains(&status) {
                error.kind = ErrorKind::Validation;
            }
            return Attempt::Done(Err(error));
        }
        Attempt::Done(Ok((envelope.result, envelope.result_info)))
    }

    pub(crate) async fn get<T: DeserializeOwned>(
        &self,
        path: &str,
        query: &[(&str, String)],
    ) -> Result<Page<T>, ApiError> {
        let page = self.call(Method::GET, path, query, None, false).await?;
        decode("GET", path, page)
    }

    pub(crate) async fn send<T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        body: &Value,
    ) -> Result<T, ApiError> {
        let m = method.as_str().to_string();
        let page = self.call(method, path, &[], Some(body), false).await?;
        decode(&m, path, page).map(|p| p.result)
    }

    pub(crate) async fn delete(&self, path: &str) -> Result<(), ApiError> {
        self.call(Method::DELETE, path, &[], None, false)
            .await
            .map(|_| ())
    }

    /// Every page of a paginated list.
    pub(crate) async fn list_all<T: DeserializeOwned>(
        &self,
        path: &str,
        per_page: u64,
        extra: &[(&str, String)],
    ) -> Result<Vec<T>, ApiError> {
        let mut out = Vec::new();
        for page in 1..=10_000u64 {
            let mut query = vec![
                ("page", page.to_string()),
                ("per_page", per_page.to_string()),
            ];
            query.extend(extra.iter().cloned());
            let got: Page<Vec<T>> = self.get(path, &query).await?;
            let n = got.result.len();
            out.extend(got.result);
            if !got.info.unwrap_or_default().has_more(page, per_page, n) {
                break;
            }
        }
        Ok(out)
    }
}

fn decode<T: DeserializeOwned>(
    method: &str,
    path: &str,
    page: Page<Value>,
) -> Result<Page<T>, ApiError> {
    let result = serde_json::from_value(page.result).map_err(|e| {
        ApiError::new(
            ErrorKind::Malformed,
            method,
            path,
            format!("The API returned a result this provider does not understand: {e}"),
        )
    })?;
    Ok(Page {
        result,
        info: page.info,
    })
}

fn transport_detail(e: &reqwest::Error) -> String {
    let what = if e.is_timeout() {
        "the request timed out"
    } else if e.is_connect() {
        "could not connect"
    } else {
        "the connection failed"
    };
    // reqwest's Display includes the URL, which holds no secret; the
    // source chain says why (refused, reset, DNS…).
    let mut detail = format!("{what}: {e}");
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        detail.push_str(&format!(": {s}"));
        source = s.source();
    }
    detail
}

fn snippet(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    let compact: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if compact.len() > 200 {
        format!(
            "{}…",
            &compact[..compact
                .char_indices()
                .nth(200)
                .map_or(compact.len(), |(i, _)| i)]
        )
    } else if compact.is_empty() {
        "(empty)".into()
    } else {
        compact
    }
}

/// Percent-encodes one path segment (ids come from users and state).
pub(crate) fn segment(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    for b in raw.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::models::{PermissionGroupRef, Policy, Token, TokenRequest};
    use super::*;
    use crate::emulator::{Emulator, EmulatorConfig};

    #[test]
    fn pages_end_on_a_short_page_or_the_total() {
        let info = ResultInfo {
            page: Some(1),
            per_page: Some(5),
            count: Some(5),
            total_count: Some(12),
        };
        assert!(info.has_more(1, 5, 5));
        assert!(info.has_more(2, 5, 5));
        assert!(!info.has_more(3, 5, 2));
        let no_total = ResultInfo::default();
        assert!(no_total.has_more(7, 5, 5));
        assert!(!no_total.has_more(7, 5, 0));
    }

    #[tokio::test]
    async fn list_all_walks_every_page() {
        let account = "0123456789abcdef0123456789abcdef";
        let config = EmulatorConfig {
            account_id: account.into(),
            other_accounts: Vec::new(),
            api_token: "t".into(),
            api_key: None,
            state_file: None,
        };
        let emu = Emulator::start(config, "127.0.0.1:0".parse().unwrap())
            .await
            .unwrap();
        let client = Client::new(ClientConfig::new(
            &emu.base_url,
            Some(Auth::Token(Secret::new("t"))),
        ))
        .unwrap();
        let mut resources = serde_json::Map::new();
        resources.insert(
            format!("com.cloudflare.api.account.{account}"),
            Value::from("*"),
        );
        for i in 0..12 {
            let request = TokenRequest {
                name: format!("t{i}"),
                policies: vec![Policy {
                    id: None,
                    effect: "allow".into(),
                    permission_groups: vec![PermissionGroupRef {
                        id: "bf7481a1826f439697cb59a20b22293e".into(),
                        name: None,
                    }],
                    resources: resources.clone(),
                }],
                condition: None,
                not_before: None,
                expires_on: None,
                status: None,
            };
            client.create_token(account, &request).await.unwrap();
        }
        let all: Vec<Token> = client
            .list_all(&format!("/accounts/{account}/tokens"), 5, &[])
            .await
            .unwrap();
        assert_eq!(all.len(), 12);
        let ids: std::collections::BTreeSet<_> = all.iter().map(|t| t.id.clone()).collect();
        assert_eq!(ids.len(), 12, "no token seen twice");
        assert_eq!(emu.count("GET /accounts/{account_id}/tokens"), 3);
    }
}
