//! A typed client for the Cloudflare v4 API: the envelope, auth, retries
//! and a shared rate limiter. Resources call the typed operations in
//! [`tokens`] and [`ai_search`]; nothing here knows about Terraform.

pub mod ai_search;
pub mod error;
pub mod models;
pub mod r2;
pub mod ratelimit;
mod redact;
mod tls;
pub mod tokens;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use rand::Rng;
use reqwest::header::{HeaderMap, HeaderValue, AUTHORIZATION, RETRY_AFTER, USER_AGENT};
use reqwest::Method;
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::Value;
use tracing::{debug, trace, warn};

pub use error::{ApiError, CfMessage, ErrorKind};
use ratelimit::{parse_ratelimit_header, parse_retry_after, RateLimiter};

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
    /// A `retry-after` longer than this fails at once (saying when to
    /// retry) instead of holding the run.
    pub max_retry_wait: Duration,
    /// How long connection failures are retried before the API counts as
    /// unreachable for the rest of the process.
    pub connect_budget: Duration,
    /// Cancelled when the caller stops: work not yet sent is abandoned, a
    /// read in flight too; a write already sent is awaited (bounded by
    /// `request_timeout`) so that its result can be kept.
    pub cancel: CancellationToken,
    /// Shares the limiter's send times with the other processes using the
    /// same token and API (see [`ratelimit`]); none when `None`.
    pub journal: Option<std::path::PathBuf>,
}

impl ClientConfig {
    pub fn new(base_url: &str, auth: Option<Auth>) -> Self {
        ClientConfig {
            base_url: base_url.trim_end_matches('/').to_string(),
            auth,
            max_retries: 4,
            rate_limit_per_5_minutes: 1200,
            rate_limit_per_second: 100,
            request_timeout: Duration::from_secs(30),
            backoff_base: Duration::from_millis(500),
            backoff_max: Duration::from_secs(30),
            max_retry_wait: Duration::from_secs(60),
            connect_budget: Duration::from_secs(4),
            cancel: CancellationToken::new(),
            journal: None,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Client {
    http: reqwest::Client,
    config: Arc<ClientConfig>,
    limiter: Arc<RateLimiter>,
    /// Set once connections have kept failing: later calls fail at once
    /// with this error instead of each waiting out its own retries.
    unreachable: Arc<Mutex<Option<(Instant, ApiError)>>>,
    /// Counts writes sent by this process: a listing fetched before the
    /// latest write is stale.
    writes: Arc<std::sync::atomic::AtomicU64>,
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
    /// The connection could not be made (so the request never arrived).
    ConnectFailed(ApiError),
}

/// How long a remembered "unreachable" verdict stands before the API is tried again.
const UNREACHABLE_FOR: Duration = Duration::from_secs(60);

/// Whether a request whose answer was lost (or was a 5xx) may be sent
/// again. Per operation of this provider:
/// - every `GET`: reads;
/// - `PUT` token, AI Search token, instance, namespace: each replaces the
///   whole object with the same body, so a repeat changes nothing more;
/// - `PUT` token value (roll): a repeat rolls again, which yields a fresh,
///   live value, the one the state then keeps;
/// - `DELETE`: a repeat finds the object gone (404), which callers count
///   as deleted.
///
/// Never repeated: `POST` (token create, AI Search token registration,
/// instance and namespace create, sync job, temporary credentials) and
/// `PATCH` (instance move), whose repeat would make a second object or
/// act twice; a lost token create is recovered by finding the token it made.
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
            let provider = crate::crypto::crypto_provider();
            rustls::ClientConfig::builder_with_provider(provider.clone())
                .with_safe_default_protocol_versions()
                .map_err(|e| fail(e.to_string()))?
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(tls::LazyPlatformVerifier::new(
                    provider,
                )))
                .with_no_client_auth()
        };
        let mut headers = HeaderMap::new();
        headers.insert(USER_AGENT, HeaderValue::from_static(USER_AGENT_VALUE));
        let http = reqwest::Client::builder()
            .tls_backend_preconfigured(tls)
            .default_headers(headers)
            .timeout(config.request_timeout)
            .connect_timeout(config.request_timeout.min(Duration::from_secs(4)))
            .build()
            .map_err(|e| fail(format!("cannot build the HTTP client: {e}")))?;
        let mut limiter = RateLimiter::new(
            config.rate_limit_per_5_minutes,
            config.rate_limit_per_second,
        );
        if let Some(path) = &config.journal {
            limiter = limiter.with_journal(path.clone());
        }
        let limiter = Arc::new(limiter);
        Ok(Client {
            http,
            config: Arc::new(config),
            limiter,
            unreachable: Arc::new(Mutex::new(None)),
            writes: Arc::new(std::sync::atomic::AtomicU64::new(0)),
        })
    }

    /// How many writes this process has sent (see [`Client::call`]).
    pub fn write_generation(&self) -> u64 {
        self.writes.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// The same client, deaf to the caller's stop: for clean-up that must
    /// still happen once Terraform has asked the provider to stop.
    pub fn detached(&self) -> Client {
        let mut config = (*self.config).clone();
        config.cancel = CancellationToken::new();
        Client {
            config: Arc::new(config),
            ..self.clone()
        }
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
        let m = method.as_str();
        let Some(auth) = &self.config.auth else {
            return Err(ApiError::new(
                ErrorKind::MissingCredentials,
                m,
                path,
                "No Cloudflare credentials were given.",
            ));
        };
        let url = format!("{}{}", self.config.base_url, path);
        let cancel = &self.config.cancel;
        let cancelled = |attempts: u32| {
            let mut e = ApiError::new(
                ErrorKind::Cancelled,
                m,
                path,
                "Stopped before the request was sent; nothing was changed by it.",
            );
            e.attempts = attempts.max(1);
            e
        };
        let started = Instant::now();
        let mut attempt = 0;
        loop {
            attempt += 1;
            if let Some(error) = self.known_unreachable(m, path) {
                return Err(error);
            }
            let permit = tokio::select! {
                biased;
                _ = cancel.cancelled() => return Err(cancelled(attempt - 1)),
                permit = self.limiter.acquire() => permit,
            };
            if cancel.is_cancelled() {
                return Err(cancelled(attempt - 1));
            }
            if !matches!(method, Method::GET | Method::HEAD) {
                self.writes
                    .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            }
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
                trace!(method = m, path, body = %redact::redacted(body), "Cloudflare request");
                request = request.json(body);
            } else {
                trace!(method = m, path, "Cloudflare request");
            }
            let outcome = if matches!(method, Method::GET | Method::HEAD) {
                // Nothing changes if a read is abandoned halfway.
                tokio::select! {
                    biased;
                    _ = cancel.cancelled() => {
                        let mut e = cancelled(attempt);
                        e.detail = "Stopped while the read was in flight; it changes nothing.".into();
                        return Err(e);
                    }
                    outcome = self.attempt(request, &method, path, result_is_secret) => outcome,
                }
            } else {
                // A write that has left the process is awaited (bounded by
                // the request timeout), interrupted or not, so that its
                // result (a new token, a rolled value) reaches the state.
                self.attempt(request, &method, path, result_is_secret).await
            };
            drop(permit);
            let (mut error, wait) = match outcome {
                Attempt::Done(Ok((result, info))) => return Ok(Page { result, info }),
                Attempt::Done(Err(mut error)) => {
                    error.attempts = attempt;
                    if error.kind == ErrorKind::Malformed
                        && !matches!(method, Method::GET | Method::HEAD)
                    {
                        // Answered, but unreadably: the write went through.
                        error.maybe_applied = true;
                    }
                    return Err(error);
                }
                Attempt::ConnectFailed(error) => {
                    if started.elapsed() + self.backoff(attempt) > self.config.connect_budget
                        || attempt > self.config.max_retries
                    {
                        let mut error = error;
                        error.attempts = attempt;
                        error.detail.push_str(&format!(
                            "\nThe API could not be reached for {:.1} s; other requests of this run fail at once instead of waiting too.",
                            started.elapsed().as_secs_f64()
                        ));
                        // Only the first request to give up reports why.
                        return Err(self.mark_unreachable(error));
                    }
                    (error, None)
                }
                Attempt::Retry { error, wait } => (error, wait),
            };
            error.attempts = attempt;
            if attempt > self.config.max_retries {
                return Err(error);
            }
            let delay = wait.unwrap_or_else(|| self.backoff(attempt));
            if delay > self.config.max_retry_wait {
                error.detail = format!(
                    "Cloudflare asked to wait {} s before retrying (until {}), longer than this run waits ({} s). Try again after that time.",
                    delay.as_secs(),
                    retry_at(delay),
                    self.config.max_retry_wait.as_secs()
                );
                return Err(error);
            }
            warn!(method = m, path, attempt, status = ?error.status, delay_ms = delay.as_millis() as u64, "retrying Cloudflare request");
            tokio::select! {
                biased;
                _ = cancel.cancelled() => {
                    let mut e = cancelled(attempt);
                    e.detail = format!("Stopped while waiting to retry after: {error}");
                    // The attempt that failed may have made the change.
                    e.maybe_applied = error.maybe_applied;
                    return Err(e);
                }
                _ = tokio::time::sleep(delay) => {}
            }
        }
    }

    fn known_unreachable(&self, method: &str, path: &str) -> Option<ApiError> {
        let guard = self.unreachable.lock().unwrap_or_else(|p| p.into_inner());
        not_sent(guard.as_ref()?, method, path)
    }

    /// Records the verdict; returns the error to report: this one if it is
    /// the first, else the short "not sent" one naming the first.
    fn mark_unreachable(&self, error: ApiError) -> ApiError {
        let mut guard = self.unreachable.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(earlier) = guard
            .as_ref()
            .and_then(|u| not_sent(u, &error.method, &error.path))
        {
            return earlier;
        }
        *guard = Some((Instant::now(), error.clone()));
        error
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
                let error = transport_error(&e, m, path, self.config.request_timeout);
                // A refused connection provably never reached the server;
                // anything else (timeout, reset) may have, so only
                // idempotent requests are sent again.
                return if e.is_connect() {
                    Attempt::ConnectFailed(error)
                } else if idempotent(method) {
                    Attempt::Retry { error, wait: None }
                } else {
                    Attempt::Done(Err(error))
                };
            }
        };
        let status = response.status().as_u16();
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        };
        let retry_after = header(RETRY_AFTER.as_str()).and_then(|v| parse_retry_after(&v));
        if let Some((remaining, reset)) =
            header("ratelimit").and_then(|v| parse_ratelimit_header(&v))
        {
            self.limiter.observe(remaining, reset);
        }
        let bytes = match read_body(response).await {
            Ok(b) => b,
            Err(BodyError::TooLarge(seen)) => {
                let mut error = ApiError::new(
                    ErrorKind::Malformed,
                    m,
                    path,
                    format!("the answer is larger than {} MiB ({seen} bytes and counting); Cloudflare's answers here are kilobytes, so it was refused unread", MAX_BODY >> 20),
                );
                error.status = Some(status);
                return Attempt::Done(Err(error));
            }
            Err(BodyError::Transport(e)) => {
                let mut error = transport_error(&e, m, path, self.config.request_timeout);
                error.status = Some(status);
                return if idempotent(method) {
                    Attempt::Retry { error, wait: None }
                } else {
                    Attempt::Done(Err(error))
                };
            }
        };
        let parsed: Option<Value> = serde_json::from_slice(&bytes).ok();
        if let Some(number) = parsed.as_ref().and_then(out_of_range_number) {
            let mut error = ApiError::new(
                ErrorKind::Malformed,
                m,
                path,
                format!("the answer holds a number out of any sensible range ({number}); refused unread"),
            );
            error.status = Some(status);
            return Attempt::Done(Err(error));
        }
        if let Some(body) = &parsed {
            trace!(method = m, path, status, body = %redact::redacted_envelope(body, result_is_secret), "Cloudflare response");
        } else {
            debug!(method = m, path, status, "Cloudflare response is not JSON");
        }
        match classify(status, parsed.as_ref(), &bytes, idempotent(method), m, path) {
            Classified::Ok(result, info) => Attempt::Done(Ok((result, info))),
            Classified::Failed(error) => Attempt::Done(Err(error)),
            Classified::RateLimited(error) => {
                let wait = retry_after.unwrap_or(Duration::from_secs(5));
                self.limiter.pause_for(wait);
                Attempt::Retry {
                    error,
                    wait: Some(wait),
                }
            }
            Classified::Retry(error) => Attempt::Retry {
                error,
                wait: retry_after,
            },
        }
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
        // A success answered without what the caller needs: the write was made.
        decode(&m, path, page)
            .map(|p| p.result)
            .map_err(ApiError::maybe_applied)
    }

    /// A delete whose answer never came (after the retries) is settled by
    /// reading the object: gone means deleted. Every object this provider
    /// deletes is read at the same path.
    pub(crate) async fn delete(&self, path: &str) -> Result<(), ApiError> {
        match self.call(Method::DELETE, path, &[], None, false).await {
            Ok(_) => Ok(()),
            Err(e) if e.maybe_applied && e.kind != ErrorKind::Cancelled => {
                match self
                    .detached()
                    .call(Method::GET, path, &[], None, false)
                    .await
                {
                    Err(read) if read.is_not_found() => Ok(()),
                    _ => Err(e),
                }
            }
            Err(e) => Err(e),
        }
    }

    /// Every page of a paginated list. Page 1 gives the total; the pages
    /// after it are asked for together (a few at a time, the limiter still
    /// pacing them), so a long list costs a couple of round trips, not one
    /// per page. Should the list grow meanwhile, paging goes on from there.
    pub(crate) async fn list_all<T: DeserializeOwned>(
        &self,
        path: &str,
        per_page: u64,
        extra: &[(&str, String)],
    ) -> Result<Vec<T>, ApiError> {
        let mut pages = PageWalk::new(path);
        let mut page = 1u64;
        loop {
            let first: Page<Vec<Value>> =
                self.get(path, &page_query(page, per_page, extra)).await?;
            let got = first.result.len();
            let info = first.info.unwrap_or_default();
            pages.add(page, first.result)?;
            if !info.has_more(page, per_page, got) || page >= MAX_PAGES {
                return pages.finish();
            }
            // Pages known to exist after this one, from the total.
            let last_known = info
                .total_count
                .map(|total| total.div_ceil(per_page).min(MAX_PAGES))
                .unwrap_or(page);
            let mut full = true;
            while page < last_known && full {
                let batch = (page + 1..=(page + PARALLEL_PAGES).min(last_known)).map(|p| {
                    let query = page_query(p, per_page, extra);
                    async move { self.get::<Vec<Value>>(path, &query).await }
                });
                // In page order, as asked.
                for got in futures_util::future::try_join_all(batch).await? {
                    page += 1;
                    full = got.result.len() as u64 == per_page;
                    pages.add(page, got.result)?;
                    if !full {
                        break;
                    }
                }
            }
            if !full || page >= MAX_PAGES {
                return pages.finish();
            }
            // Every known page was full: ask for the one after, which also
            // tells whether the list grew.
            page += 1;
        }
    }
}

/// The items of a listing, page by page. A page made only of items already
/// seen is a loop (a `result_info` that never ends, or pages that ignore
/// `page`): refused at once rather than walked to [`MAX_PAGES`].
struct PageWalk<'a> {
    path: &'a str,
    items: Vec<Value>,
    seen: std::collections::HashSet<String>,
}

impl<'a> PageWalk<'a> {
    fn new(path: &'a str) -> Self {
        PageWalk {
            path,
            items: Vec::new(),
            seen: std::collections::HashSet::new(),
        }
    }

    fn add(&mut self, page: u64, items: Vec<Value>) -> Result<(), ApiError> {
        let before = self.items.len();
        let mut fresh = 0;
        for item in items {
            if self.seen.insert(item.to_string()) {
                fresh += 1;
            }
            self.items.push(item);
        }
        if fresh == 0 && self.items.len() > before && page > 1 {
            return Err(ApiError::new(
                ErrorKind::Malformed,
                "GET",
                self.path,
                format!("page {page} of the listing repeats items already listed: the API's pagination loops, so the listing was abandoned"),
            ));
        }
        Ok(())
    }

    fn finish<T: DeserializeOwned>(self) -> Result<Vec<T>, ApiError> {
        decode_items(self.path, self.items)
    }
}

fn decode_items<T: DeserializeOwned>(path: &str, items: Vec<Value>) -> Result<Vec<T>, ApiError> {
    items
        .into_iter()
        .map(|item| {
            serde_json::from_value(item).map_err(|e| {
                ApiError::new(
                    ErrorKind::Malformed,
                    "GET",
                    path,
                    match missing_field(&e) {
                        Some(field) => format!("An item of the listing has no `{field}`, which this provider cannot do without."),
                        None => format!("An item of the listing is not what the API documents: {e}"),
                    },
                )
            })
        })
        .collect()
}

/// A listing read one page at a time, for a caller that may have enough
/// before the end (`terraform query`'s `limit`): each page is asked for
/// only once the previous one has been used.
pub struct Pages<'a, T> {
    client: &'a Client,
    path: String,
    per_page: u64,
    next: Option<u64>,
    seen: std::collections::HashSet<String>,
    _items: std::marker::PhantomData<T>,
}

impl<'a, T: DeserializeOwned> Pages<'a, T> {
    pub(crate) fn new(client: &'a Client, path: String, per_page: u64) -> Self {
        Pages {
            client,
            path,
            per_page,
            next: Some(1),
            seen: std::collections::HashSet::new(),
            _items: std::marker::PhantomData,
        }
    }

    /// The next page's items; `None` once the listing has ended.
    pub async fn next_page(&mut self) -> Result<Option<Vec<T>>, ApiError> {
        let Some(page) = self.next else {
            return Ok(None);
        };
        let got = self
            .client
            .get::<Vec<Value>>(&self.path, &page_query(page, self.per_page, &[]))
            .await?;
        let count = got.result.len();
        let info = got.info.unwrap_or_default();
        let fresh = got
            .result
            .iter()
            .filter(|item| self.seen.insert(item.to_string()))
            .count();
        if fresh == 0 && count > 0 && page > 1 {
            return Err(ApiError::new(
                ErrorKind::Malformed,
                "GET",
                &self.path,
                format!("page {page} of the listing repeats items already listed: the API's pagination loops, so the listing was abandoned"),
            ));
        }
        self.next =
            (info.has_more(page, self.per_page, count) && page < MAX_PAGES).then_some(page + 1);
        decode_items(&self.path, got.result).map(Some)
    }
}

/// Cloudflare's answers to these operations are kilobytes (a page of 100
/// instances is about 200 KB): a body past this is refused as it streams in.
const MAX_BODY: usize = 8 << 20;

enum BodyError {
    TooLarge(usize),
    Transport(reqwest::Error),
}

/// The body, read chunk by chunk up to [`MAX_BODY`].
async fn read_body(mut response: reqwest::Response) -> Result<Vec<u8>, BodyError> {
    if response
        .content_length()
        .is_some_and(|n| n > MAX_BODY as u64)
    {
        return Err(BodyError::TooLarge(
            response.content_length().unwrap_or_default() as usize,
        ));
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(BodyError::Transport)? {
        body.extend_from_slice(&chunk);
        if body.len() > MAX_BODY {
            return Err(BodyError::TooLarge(body.len()));
        }
    }
    Ok(body)
}

/// A number whose exponent or length would take thousands of digits to
/// write out (`1e10000000`), shortened for the message. Every number the
/// API sends here is a count, a size or a ratio.
fn out_of_range_number(value: &Value) -> Option<String> {
    const LIMIT: usize = 4096;
    match value {
        Value::Number(n) => {
            let text = n.to_string();
            let exponent = text.split(['e', 'E']).nth(1).map_or(0, |e| {
                e.trim_start_matches('+')
                    .parse::<i64>()
                    .map_or(u64::MAX, i64::unsigned_abs)
            });
            (text.len() > LIMIT || exponent > LIMIT as u64)
                .then(|| text.chars().take(24).collect::<String>() + "…")
        }
        Value::Array(items) => items.iter().find_map(out_of_range_number),
        Value::Object(map) => map.values().find_map(out_of_range_number),
        _ => None,
    }
}

/// Pages asked for at once after the first.
const PARALLEL_PAGES: u64 = 8;
/// A list longer than this many pages is a runaway, not an account.
const MAX_PAGES: u64 = 10_000;

fn page_query<'a>(page: u64, per_page: u64, extra: &[(&'a str, String)]) -> Vec<(&'a str, String)> {
    let mut query = vec![
        ("page", page.to_string()),
        ("per_page", per_page.to_string()),
    ];
    query.extend(extra.iter().cloned());
    query
}

/// The field serde found missing, if that is why decoding failed.
fn missing_field(e: &serde_json::Error) -> Option<String> {
    e.to_string()
        .strip_prefix("missing field `")
        .and_then(|rest| rest.split('`').next())
        .map(str::to_string)
}

fn decode<T: DeserializeOwned>(
    method: &str,
    path: &str,
    page: Page<Value>,
) -> Result<Page<T>, ApiError> {
    let absent = page.result.is_null();
    let result = serde_json::from_value(page.result).map_err(|e| {
        let detail = match (absent, missing_field(&e)) {
            (true, _) => "The answer has no `result`, which this provider cannot do without (the API reported success but sent nothing to act on).".to_string(),
            (false, Some(field)) => format!("The answer's result has no `{field}`, which this provider cannot do without."),
            (false, None) => format!("The API returned a result this provider does not understand: {e}"),
        };
        ApiError::new(ErrorKind::Malformed, method, path, detail)
    })?;
    Ok(Page {
        result,
        info: page.info,
    })
}

/// The error for a request not sent because the API was found unreachable
/// moments ago; `None` once that verdict is old.
fn not_sent(verdict: &(Instant, ApiError), method: &str, path: &str) -> Option<ApiError> {
    let (since, first) = verdict;
    if since.elapsed() > UNREACHABLE_FOR {
        return None;
    }
    let mut error = ApiError::new(
        ErrorKind::Transport,
        method,
        path,
        format!(
            "Not sent: the API was unreachable {:.0} s ago ({} {}: {}), so this request was not attempted.",
            since.elapsed().as_secs_f64(),
            first.method,
            first.path,
            first.detail.lines().next().unwrap_or("no answer")
        ),
    );
    error.attempts = 0;
    Some(error)
}

/// What a response means, decided from its status and body alone (a pure
/// function: the envelope parser's property tests call it on any input).
pub enum Classified {
    Ok(Value, Option<ResultInfo>),
    Failed(ApiError),
    RateLimited(ApiError),
    Retry(ApiError),
}

pub fn classify(
    status: u16,
    parsed: Option<&Value>,
    bytes: &[u8],
    idempotent: bool,
    m: &str,
    path: &str,
) -> Classified {
    let envelope = parsed.and_then(|v| Envelope::deserialize(v).ok());
    let errors = envelope
        .as_ref()
        .map(|e| e.errors.clone())
        .unwrap_or_default();
    // AI Search's "sync in cooldown" is a 429 about one instance, not the
    // account's budget: the caller decides, nobody is paused.
    if status == 429 && !errors.iter().any(|e| e.code == 7020) {
        return Classified::RateLimited(ApiError::from_status(status, errors, m, path));
    }
    // 503 is Cloudflare's "not processed, try again"; 500/502/504 may have
    // been processed, so only idempotent requests repeat them.
    if status == 503 || (matches!(status, 500 | 502 | 504) && idempotent) {
        let mut error = ApiError::from_status(status, errors, m, path);
        if envelope.is_none() {
            error.detail = "The response was not a Cloudflare API response (probably an error page from a proxy).".into();
        }
        return Classified::Retry(error);
    }
    let Some(envelope) = envelope else {
        let mut error = ApiError::new(
            ErrorKind::Malformed,
            m,
            path,
            format!(
                "The response body is not the Cloudflare JSON envelope: {}",
                snippet(bytes)
            ),
        );
        error.status = Some(status);
        if status >= 400 {
            error.kind = ApiError::from_status(status, Vec::new(), m, path).kind;
        }
        return Classified::Failed(error);
    };
    if !(200..300).contains(&status) || envelope.success == Some(false) {
        let mut error = ApiError::from_status(status, envelope.errors, m, path);
        if (200..300).contains(&status) {
            error.kind = ErrorKind::Validation;
        }
        return Classified::Failed(error);
    }
    Classified::Ok(envelope.result, envelope.result_info)
}

/// When a wait of `delay` from now ends, in UTC.
fn retry_at(delay: Duration) -> String {
    let delay = chrono::Duration::from_std(delay).unwrap_or(chrono::Duration::MAX);
    chrono::Utc::now()
        .checked_add_signed(delay)
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
        .unwrap_or_else(|| "a time too far away to name".into())
}

fn transport_error(e: &reqwest::Error, method: &str, path: &str, timeout: Duration) -> ApiError {
    if e.is_timeout() {
        return ApiError::new(
            ErrorKind::Timeout,
            method,
            path,
            format!("No answer within {} s.", timeout.as_secs_f64()),
        )
        .maybe_applied();
    }
    let what = if e.is_connect() {
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
    let error = ApiError::new(ErrorKind::Transport, method, path, detail);
    // A refused connection never carried the request; anything after may have.
    if e.is_connect() {
        error
    } else {
        error.maybe_applied()
    }
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
            let mut request = token_request(&resources);
            request.name = format!("t{i}");
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

        // Eight pages behind 100 ms of latency: the seven after the first
        // go out together (one after another would take 800 ms), and come
        // back in page order, each token once.
        for i in 12..40 {
            let mut request = token_request(&resources);
            request.name = format!("t{i}");
            client.create_token(account, &request).await.unwrap();
        }
        let in_one_page: Vec<Token> = client
            .list_all(&format!("/accounts/{account}/tokens"), 50, &[])
            .await
            .unwrap();
        emu.set_faults(crate::emulator::FaultConfig {
            latency_ms: 100,
            ..Default::default()
        });
        let started = std::time::Instant::now();
        let paged: Vec<Token> = client
            .list_all(&format!("/accounts/{account}/tokens"), 5, &[])
            .await
            .unwrap();
        let elapsed = started.elapsed();
        let ids = |tokens: &[Token]| tokens.iter().map(|t| t.id.clone()).collect::<Vec<_>>();
        assert_eq!(ids(&paged), ids(&in_one_page));
        assert!(
            elapsed < std::time::Duration::from_millis(500),
            "8 pages took {elapsed:?}: the later ones were not asked for together"
        );
    }

    fn token_request(resources: &serde_json::Map<String, Value>) -> TokenRequest {
        TokenRequest {
            name: "t".into(),
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
        }
    }
}
