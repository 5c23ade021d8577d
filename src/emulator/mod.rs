//! A local emulator of the Cloudflare API operations this provider uses,
//! built to Cloudflare's OpenAPI contract (`tests/contract.rs` holds every
//! answer to it). Tests and the
//! quickstart run against it; the provider never imports this module.
//!
//! Besides the API it offers fault injection and inspection, both as a
//! Rust API ([`Emulator`]) and as `/__admin/...` routes for scripts.

// Validation helpers return the ready error response as `Err`; these are
// cold paths of a test server, where boxing would only add noise.
#![allow(clippy::result_large_err)]

/// The value of an `Ok`, or the ready error response returned at once.
macro_rules! or_reply {
    ($result:expr) => {
        match $result {
            Ok(value) => value,
            Err(response) => return response,
        }
    };
}

mod access;
mod ai_search;
pub mod answers;
mod budget;
pub mod faults;
mod r2;
mod reply;
pub mod sparse;
mod state;
mod tokens;
mod validate;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard};

use axum::body::{Body, Bytes};
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use hyper_util::rt::TokioIo;
use serde::Serialize;
use serde_json::{json, Value};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tower::ServiceExt;

pub use ai_search::runtime::AiSearchConfig;
pub use budget::BudgetConfig;
use faults::FaultState;
pub use faults::{Fault, FaultConfig};
use state::World;

use state::PermissionGroup;

#[derive(Debug, Clone)]
pub struct EmulatorConfig {
    pub account_id: String,
    /// Further accounts the same credentials may use.
    pub other_accounts: Vec<String>,
    /// Accepted as `Authorization: Bearer`.
    pub api_token: String,
    /// Accepted as `X-Auth-Key` + `X-Auth-Email`.
    pub api_key: Option<(String, String)>,
    pub state_file: Option<PathBuf>,
}

/// One request/response pair, for contract tests.
#[derive(Debug, Clone, Serialize)]
pub struct Exchange {
    pub method: String,
    /// The route template, e.g. `/accounts/{account_id}/tokens/{token_id}`.
    pub route: String,
    pub status: u16,
    pub request: Option<Value>,
    pub response: Option<Value>,
}

pub(crate) struct Shared {
    pub config: EmulatorConfig,
    pub world: Mutex<World>,
    pub catalog: Vec<PermissionGroup>,
    faults: Mutex<FaultState>,
    budget: Mutex<budget::Budget>,
    pub(crate) ai: Mutex<ai_search::runtime::Runtime>,
    /// When each API request arrived (admin routes excluded).
    arrivals: Mutex<Vec<tokio::time::Instant>>,
    /// How successful answers are shaped (strict by default).
    answers: Mutex<answers::AnswerMode>,
    /// Answers an `omit` mode took its property from.
    omitted: std::sync::atomic::AtomicU64,
    /// Who authenticated each API call: `configured` or a minted token's id.
    auth_log: Mutex<Vec<(String, String)>>,
    started: tokio::time::Instant,
    counts: Mutex<BTreeMap<String, u64>>,
    journal: Mutex<Vec<Exchange>>,
}

pub(crate) type App = Arc<Shared>;

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Shared {
    pub fn ai(&self) -> MutexGuard<'_, ai_search::runtime::Runtime> {
        lock(&self.ai)
    }

    pub fn world(&self) -> MutexGuard<'_, World> {
        lock(&self.world)
    }

    /// Persists after a mutation when a state file is configured.
    pub fn persist(&self, world: &World) {
        if let Some(path) = &self.config.state_file {
            if let Err(e) = world.save(path) {
                tracing::warn!(error = %e, "could not save the emulator state");
            }
        }
    }
}

/// A running emulator; stops when dropped.
pub struct Emulator {
    pub base_url: String,
    pub addr: SocketAddr,
    shared: App,
    stop: watch::Sender<bool>,
}

impl Drop for Emulator {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
        // For scripts/sparse-each.sh: whether a run's omission was ever
        // applied, summed over the emulators of one test process.
        if let Some(path) = std::env::var_os("CFAI_EMULATOR_OMITTED_LOG") {
            use std::io::Write;
            let n = self.omitted();
            if let Ok(mut file) = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)
            {
                let _ = writeln!(file, "{n}");
            }
        }
    }
}

impl Emulator {
    /// Listens on `addr` (use port 0 in tests) and serves in the background.
    pub async fn start(config: EmulatorConfig, addr: SocketAddr) -> std::io::Result<Emulator> {
        let world = match &config.state_file {
            Some(path) => World::load(path)?,
            None => World::default(),
        };
        let shared = Arc::new(Shared {
            config,
            world: Mutex::new(world),
            catalog: state::catalog(),
            faults: Mutex::new(FaultState::default()),
            budget: Mutex::new(budget::Budget::default()),
            ai: Mutex::new(ai_search::runtime::Runtime::default()),
            arrivals: Mutex::new(Vec::new()),
            answers: Mutex::new(answers::AnswerMode::default()),
            omitted: std::sync::atomic::AtomicU64::new(0),
            auth_log: Mutex::new(Vec::new()),
            started: tokio::time::Instant::now(),
            counts: Mutex::new(BTreeMap::new()),
            journal: Mutex::new(Vec::new()),
        });
        let listener = TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let (stop, mut stopped) = watch::channel(false);
        let router = router(shared.clone());
        let app = shared.clone();
        tokio::spawn(async move {
            loop {
                let accepted = tokio::select! {
                    a = listener.accept() => a,
                    _ = stopped.changed() => return,
                };
                let Ok((stream, _)) = accepted else { continue };
                let (router, app) = (router.clone(), app.clone());
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(move |req| {
                        serve_one(app.clone(), router.clone(), req)
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        Ok(Emulator {
            base_url: format!("http://{addr}/client/v4"),
            addr,
            shared,
            stop,
        })
    }

    pub fn account_id(&self) -> &str {
        &self.shared.config.account_id
    }

    pub fn set_faults(&self, config: FaultConfig) {
        lock(&self.shared.faults).set(config);
    }

    /// AI Search timings: token propagation, instance teardown, sync cooldown.
    pub fn set_ai_search(&self, config: AiSearchConfig) {
        lock(&self.shared.ai).config = config;
    }

    /// Cache purges of `namespace/instance`.
    pub fn cache_purges(&self, namespace: &str, instance: &str) -> u64 {
        lock(&self.shared.ai).purges(&format!("{namespace}/{instance}"))
    }

    /// Sync jobs started for `namespace/instance`.
    pub fn sync_jobs(&self, namespace: &str, instance: &str) -> u64 {
        lock(&self.shared.ai).jobs_started(&format!("{namespace}/{instance}"))
    }

    /// `(path, who)` for every authenticated API call: `configured`, or the
    /// id of the minted token that was used.
    pub fn authenticated_by(&self) -> Vec<(String, String)> {
        lock(&self.shared.auth_log).clone()
    }

    /// R2 temporary credentials issued, with their scope (no secrets).
    pub fn temp_credentials(&self) -> Vec<Value> {
        self.shared.world().temp_credentials.clone()
    }

    /// Turns on the request budget (see [`BudgetConfig`]).
    pub fn set_budget(&self, config: BudgetConfig) {
        lock(&self.shared.budget).set(config);
    }

    /// 429s answered because the request budget was spent.
    pub fn budget_rejections(&self) -> u64 {
        lock(&self.shared.budget).rejected
    }

    /// When each API request arrived, from the emulator's start.
    pub fn arrivals(&self) -> Vec<std::time::Duration> {
        lock(&self.shared.arrivals)
            .iter()
            .map(|t| t.duration_since(self.shared.started))
            .collect()
    }

    /// Faults that were injected so far.
    pub fn faults_injected(&self) -> u64 {
        lock(&self.shared.faults).injected
    }

    /// Requests served per `METHOD /route/{template}` (injected faults excluded).
    pub fn counts(&self) -> BTreeMap<String, u64> {
        lock(&self.shared.counts).clone()
    }

    pub fn count(&self, method_and_route: &str) -> u64 {
        lock(&self.shared.counts)
            .get(method_and_route)
            .copied()
            .unwrap_or(0)
    }

    pub fn journal(&self) -> Vec<Exchange> {
        lock(&self.shared.journal).clone()
    }

    pub fn dump(&self) -> Value {
        serde_json::to_value(&*self.shared.world()).unwrap_or_default()
    }

    /// Out-of-band changes, as another person or tool would make them.
    pub fn delete_token(&self, id: &str) -> bool {
        tokens::oob_delete(&self.shared, id)
    }

    pub fn rename_token(&self, id: &str, name: &str) -> bool {
        tokens::oob_patch(&self.shared, id, json!({ "name": name }))
    }

    /// Expires a token as Cloudflare does: its `expires_on` moved an hour
    /// into the past (the status then reads `expired`).
    pub fn expire_token(&self, id: &str) -> bool {
        let past = chrono::Utc::now() - chrono::Duration::hours(1);
        self.set_token_expiry(id, &past.format("%Y-%m-%dT%H:%M:%SZ").to_string())
    }

    /// Moves a token's `expires_on` outside Terraform.
    pub fn set_token_expiry(&self, id: &str, expires_on: &str) -> bool {
        tokens::oob_patch(&self.shared, id, json!({ "expires_on": expires_on }))
    }

    /// How many answers an `omit` mode has taken its property from.
    pub fn omitted(&self) -> u64 {
        self.shared
            .omitted
            .load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Shapes every successful answer from now on (see [`answers`]).
    pub fn set_answers(&self, mode: answers::AnswerMode) {
        *lock(&self.shared.answers) = mode;
    }

    /// Merges `patch` into an account token, as an edit made elsewhere.
    pub fn patch_token(&self, id: &str, patch: Value) -> bool {
        tokens::oob_patch(&self.shared, id, patch)
    }

    /// Merges `patch` into an AI Search service token registration.
    pub fn patch_ai_token(&self, id: &str, patch: Value) -> bool {
        self.oob_edit(|world| world.ai_tokens.get_mut(id).map(|t| merge(t, &patch)))
    }

    pub fn delete_ai_token(&self, id: &str) -> bool {
        self.oob_edit(|world| world.ai_tokens.remove(id).map(|_| ()))
    }

    /// Merges `patch` into a namespace.
    pub fn patch_namespace(&self, name: &str, patch: Value) -> bool {
        self.oob_edit(|world| world.namespaces.get_mut(name).map(|n| merge(n, &patch)))
    }

    /// Deletes an empty namespace.
    pub fn delete_namespace(&self, name: &str) -> bool {
        self.oob_edit(|world| {
            let empty = world.instances.get(name).is_none_or(|i| i.is_empty());
            empty
                .then(|| world.namespaces.remove(name))
                .flatten()
                .map(|_| ())
        })
    }

    /// Merges `patch` into an instance's settings.
    pub fn patch_instance(&self, namespace: &str, id: &str, patch: Value) -> bool {
        self.oob_edit(|world| {
            let instance = world.instances.get_mut(namespace)?.get_mut(id)?;
            merge(instance, &patch);
            Some(())
        })
    }

    pub fn delete_instance(&self, namespace: &str, id: &str) -> bool {
        self.oob_edit(|world| world.instances.get_mut(namespace)?.remove(id).map(|_| ()))
    }

    /// Moves an instance to another existing namespace.
    pub fn move_instance(&self, namespace: &str, id: &str, to: &str) -> bool {
        self.oob_edit(|world| {
            if !(to == ai_search::DEFAULT_NS || world.namespaces.contains_key(to))
                || world.instances.get(to).is_some_and(|i| i.contains_key(id))
            {
                return None;
            }
            let mut instance = world.instances.get_mut(namespace)?.remove(id)?;
            if instance.get("namespace").is_some() {
                instance["namespace"] = json!(to);
            }
            world
                .instances
                .entry(to.to_string())
                .or_default()
                .insert(id.to_string(), instance);
            Some(())
        })
    }

    fn oob_edit(&self, edit: impl FnOnce(&mut World) -> Option<()>) -> bool {
        let mut world = self.shared.world();
        let done = edit(&mut world).is_some();
        if done {
            self.shared.persist(&world);
        }
        done
    }

    /// The current secret value of a token (tests check derived S3 keys).
    pub fn token_value(&self, id: &str) -> Option<String> {
        self.shared.world().tokens.get(id).map(|t| t.value.clone())
    }

    /// Who owns a token: `account <id>` or `user <id>` (tests check which
    /// route minted it).
    pub fn token_owner(&self, id: &str) -> Option<String> {
        self.shared.world().tokens.get(id).map(|t| match &t.user {
            Some(user) => format!("user {user}"),
            None => format!("account {}", t.account),
        })
    }
}

/// Faults come before routing, so an injected error never changes state;
/// "drop after commit" lets the request through and then hangs up.
async fn serve_one(
    app: App,
    router: Router,
    req: hyper::Request<hyper::body::Incoming>,
) -> Result<Response, Box<dyn std::error::Error + Send + Sync>> {
    let path = req.uri().path().to_string();
    let mut drop_after = false;
    let mut ratelimit = None;
    if !path.starts_with("/__admin") {
        let now = tokio::time::Instant::now();
        lock(&app.arrivals).push(now);
        let verdict = lock(&app.budget).take(now);
        match verdict {
            budget::Verdict::Unlimited => {}
            budget::Verdict::Allowed { remaining, reset } => {
                ratelimit = Some(format!(
                    "\"default\";r={remaining};t={}",
                    budget::ceil_secs(reset)
                ));
            }
            budget::Verdict::Exhausted { reset } => {
                let mut resp = reply::iam_err(
                    StatusCode::TOO_MANY_REQUESTS,
                    971,
                    "Please wait and consider throttling your request speed",
                );
                let secs = budget::ceil_secs(reset).to_string();
                let headers = resp.headers_mut();
                if let Ok(v) = format!("\"default\";r=0;t={secs}").parse() {
                    headers.insert("ratelimit", v);
                }
                if let Ok(v) = secs.parse() {
                    headers.insert("retry-after", v);
                }
                return Ok(resp);
            }
        }
        let (fault, latency) = {
            let mut faults = lock(&app.faults);
            let method = req.method().as_str();
            (faults.next(method, &path), faults.latency(method, &path))
        };
        if !latency.is_zero() {
            tokio::time::sleep(latency).await;
        }
        match fault {
            Some(Fault::TooManyRequests { retry_after }) => {
                let mut resp = reply::iam_err(
                    StatusCode::TOO_MANY_REQUESTS,
                    971,
                    "Please wait and consider throttling your request speed",
                );
                resp.headers_mut().insert("retry-after", retry_after.into());
                return Ok(resp);
            }
            Some(Fault::Status { status }) => {
                let status =
                    StatusCode::from_u16(status).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
                return Ok(reply::iam_err(
                    status,
                    10500 + status.as_u16() as i64 % 100,
                    "Service temporarily unavailable",
                ));
            }
            Some(Fault::HtmlStatus { status }) => {
                let status = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_GATEWAY);
                let html = format!("<html><head><title>{status}</title></head><body><h1>{status}</h1><p>cloudflare</p></body></html>");
                return Ok((status, [("content-type", "text/html")], html).into_response());
            }
            Some(Fault::DropAfterCommit) => drop_after = true,
            Some(Fault::Error {
                status,
                code,
                message,
            }) => {
                let status = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST);
                return Ok(reply::ai_err(status, code, &message, &[]));
            }
            None => {}
        }
    }
    let is_api = !path.starts_with("/__admin");
    let response_latency = lock(&app.faults).response_latency(req.method().as_str(), &path);
    let mut response = router.oneshot(req.map(Body::new)).await?;
    if is_api && !response_latency.is_zero() {
        // Committed already: buffer the answer so that the work is done
        // whether or not the client waits for it.
        let (parts, body) = response.into_parts();
        let bytes = axum::body::to_bytes(body, usize::MAX)
            .await
            .unwrap_or_default();
        tokio::time::sleep(response_latency).await;
        response = Response::from_parts(parts, Body::from(bytes));
    }
    if let Some(v) = ratelimit.and_then(|v| v.parse().ok()) {
        response.headers_mut().insert("ratelimit", v);
    }
    if drop_after {
        // Make sure the handler's work is done before hanging up.
        let _ = axum::body::to_bytes(response.into_body(), usize::MAX).await;
        return Err("emulator fault: connection dropped after commit".into());
    }
    Ok(response)
}

fn router(app: App) -> Router {
    let api = Router::new()
        .merge(tokens::routes())
        .merge(ai_search::routes())
        .merge(r2::routes())
        .route_layer(middleware::from_fn_with_state(app.clone(), authenticate))
        .route_layer(middleware::from_fn_with_state(app.clone(), record));
    let admin = Router::new()
        .route("/__admin/faults", post(admin_faults))
        .route("/__admin/ratelimit", post(admin_ratelimit))
        .route("/__admin/ai-search", post(admin_ai_search))
        .route("/__admin/answers", post(admin_answers))
        .route("/__admin/state", get(admin_state))
        .route("/__admin/counts", get(admin_counts))
        .route(
            "/__admin/tokens/{id}",
            delete(admin_delete_token).patch(admin_patch_token),
        );
    Router::new()
        .nest("/client/v4", api)
        .merge(admin)
        .fallback(|| async { reply::iam_err(StatusCode::NOT_FOUND, 7003, "No route for the URI") })
        .with_state(app)
}

/// A configured bearer token, or the global key with its email; and only
/// the configured account. `/user/...` routes act for the calling user:
/// the one the credential belongs to (the token and the key are two users
/// here, so that one user's tokens can be seen to be hidden from another).
async fn authenticate(
    State(app): State<App>,
    headers: HeaderMap,
    mut req: Request,
    next: Next,
) -> Response {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string()
    };
    let bearer = header("authorization")
        .strip_prefix("Bearer ")
        .map(str::to_string);
    let bearer_ok = bearer.as_deref() == Some(app.config.api_token.as_str());
    let key_ok = app.config.api_key.as_ref().is_some_and(|(key, email)| {
        header("x-auth-key") == *key && header("x-auth-email") == *email
    });
    let path = req
        .uri()
        .path()
        .trim_start_matches("/client/v4")
        .to_string();
    let user_route = path.starts_with("/user/");
    let account = path.split('/').nth(2).unwrap_or_default().to_string();
    let mut caller = if bearer_ok {
        Some(tokens::user_of(&app.config.api_token))
    } else if key_ok {
        Some(tokens::user_of(&header("x-auth-email")))
    } else {
        None
    };
    // Any token the emulator issued, as Cloudflare would judge it: a
    // user's anywhere (as that user), an account's on its own account
    // only, each within its validity, address condition and policies.
    let minted = if bearer_ok || key_ok {
        None
    } else {
        let found = bearer.as_deref().and_then(|value| {
            let world = app.world();
            world.tokens.values().find(|t| t.value == value).cloned()
        });
        match found {
            Some(t) if t.user.is_none() && (user_route || t.account != account) => None,
            Some(t) => {
                let scope = if user_route { "" } else { account.as_str() };
                match access::judge(&t, req.method().as_str(), &path, scope, &app.catalog) {
                    Ok(()) => {
                        caller = t.user.clone();
                        Some(t.token["id"].as_str().unwrap_or_default().to_string())
                    }
                    Err(access::Refusal::Location) => {
                        return reply::iam_err(
                            StatusCode::FORBIDDEN,
                            9109,
                            &format!(
                                "Cannot use the access token from location: {}",
                                access::CALLER_IP
                            ),
                        );
                    }
                    Err(access::Refusal::Authentication) => None,
                }
            }
            None => None,
        }
    };
    if !(bearer_ok || key_ok || minted.is_some()) {
        return reply::iam_err(StatusCode::FORBIDDEN, 10000, "Authentication error");
    }
    if user_route {
        let Some(user) = caller else {
            return reply::iam_err(StatusCode::FORBIDDEN, 10000, "Authentication error");
        };
        req.extensions_mut().insert(tokens::Caller(user));
    } else if account != app.config.account_id && !app.config.other_accounts.contains(&account) {
        return reply::iam_err(StatusCode::FORBIDDEN, 10000, "Authentication error");
    }
    lock(&app.auth_log).push((path, minted.unwrap_or_else(|| "configured".into())));
    next.run(req).await
}

/// Per-route counts and the request/response journal.
async fn record(
    State(app): State<App>,
    matched: MatchedPath,
    req: Request,
    next: Next,
) -> Response {
    let method = req.method().to_string();
    let route = matched
        .as_str()
        .trim_start_matches("/client/v4")
        .to_string();
    *lock(&app.counts)
        .entry(format!("{method} {route}"))
        .or_insert(0) += 1;
    let (parts, body) = req.into_parts();
    let request_bytes = axum::body::to_bytes(body, 16 << 20)
        .await
        .unwrap_or_default();
    let request_json = serde_json::from_slice(&request_bytes).ok();
    let response = next
        .run(Request::from_parts(parts, Body::from(request_bytes)))
        .await;
    let (parts, body) = response.into_parts();
    let response_bytes: Bytes = axum::body::to_bytes(body, 64 << 20)
        .await
        .unwrap_or_default();
    let response_bytes = reply::shape_error(&method, &route, parts.status.as_u16(), response_bytes);
    let response_bytes = if parts.status.is_success() {
        let mode = lock(&app.answers).clone();
        Bytes::from(answers::shape(
            &mode,
            &method,
            &route,
            parts.status.as_u16(),
            response_bytes.to_vec(),
            &app.omitted,
        ))
    } else {
        response_bytes
    };
    let mut parts = parts;
    // The body may have been reshaped: its length is the new one's.
    parts.headers.remove(axum::http::header::CONTENT_LENGTH);
    let mut journal = lock(&app.journal);
    if journal.len() < 20_000 {
        journal.push(Exchange {
            method,
            route,
            status: parts.status.as_u16(),
            request: request_json,
            response: serde_json::from_slice(&response_bytes).ok(),
        });
    }
    Response::from_parts(parts, Body::from(response_bytes))
}

async fn admin_faults(State(app): State<App>, body: Bytes) -> Response {
    match strict_body::<FaultConfig>(&body, "faults") {
        Ok(config) => {
            lock(&app.faults).set(config);
            Json(json!({ "ok": true })).into_response()
        }
        Err(refused) => refused,
    }
}

/// Body: a [`BudgetConfig`], e.g. `{"budget": 1200, "window_secs": 300, "spent": 1100}`.
async fn admin_ratelimit(State(app): State<App>, body: Bytes) -> Response {
    match strict_body::<BudgetConfig>(&body, "ratelimit") {
        Ok(config) => {
            lock(&app.budget).set(config);
            Json(json!({ "ok": true })).into_response()
        }
        Err(refused) => refused,
    }
}

/// Body: an [`AiSearchConfig`], e.g. `{"token_propagation_ms": 3000}`.
async fn admin_ai_search(State(app): State<App>, body: Bytes) -> Response {
    match strict_body::<AiSearchConfig>(&body, "ai-search") {
        Ok(config) => {
            lock(&app.ai).config = config;
            Json(json!({ "ok": true })).into_response()
        }
        Err(refused) => refused,
    }
}

/// Body: an [`answers::AnswerMode`]: `{"mode": "strict" | "extended" |
/// "sparse"}`, or `{"mode": "omit", "operation": "GET /accounts/{account_id}/tokens",
/// "property": "/result/*/name"}`.
async fn admin_answers(State(app): State<App>, body: Bytes) -> Response {
    match strict_body::<answers::AnswerMode>(&body, "answers") {
        Ok(mode) => {
            *lock(&app.answers) = mode.clone();
            Json(json!({ "ok": true, "answers": mode })).into_response()
        }
        Err(refused) => refused,
    }
}

/// What each admin route's body may hold, for its refusals.
fn accepted_keys(route: &str) -> String {
    let keys = match route {
        "faults" => "latency_ms, response_latency_ms, rate_429, retry_after, rate_5xx, status_5xx, rate_drop, seed, path_filter, method, script",
        "ratelimit" => "budget (required), window_secs, spent",
        "ai-search" => "token_propagation_ms, instance_teardown_ms, sync_cooldown_ms, sync_job_ms",
        "answers" => "mode (strict, extended, sparse or omit); with omit, operation and property",
        "tokens" => return TOKEN_PATCH_KEYS.join(", "),
        _ => "",
    };
    keys.to_string()
}

/// An admin body read strictly: a key the route does not know is a 400
/// naming the ones it does, never a silent no-op.
fn strict_body<T: serde::de::DeserializeOwned>(body: &[u8], route: &str) -> Result<T, Response> {
    serde_json::from_slice(body).map_err(|e| {
        (
            StatusCode::BAD_REQUEST,
            Json(json!({
                "ok": false,
                "error": format!("{e}. POST /__admin/{route} accepts: {}", accepted_keys(route)),
            })),
        )
            .into_response()
    })
}

async fn admin_state(State(app): State<App>) -> Response {
    Json(serde_json::to_value(&*app.world()).unwrap_or_default()).into_response()
}

async fn admin_counts(State(app): State<App>) -> Response {
    Json(lock(&app.counts).clone()).into_response()
}

async fn admin_delete_token(
    State(app): State<App>,
    axum::extract::Path(id): axum::extract::Path<String>,
) -> Response {
    let found = tokens::oob_delete(&app, &id);
    Json(json!({ "deleted": found })).into_response()
}

/// The token properties an out-of-band edit may set.
const TOKEN_PATCH_KEYS: [&str; 8] = [
    "name",
    "status",
    "policies",
    "condition",
    "expires_on",
    "not_before",
    "issued_on",
    "modified_on",
];

/// Body: fields to overwrite, e.g. `{"name": "x"}` or `{"expires_on": "2020-01-01T00:00:00Z"}`.
async fn admin_patch_token(
    State(app): State<App>,
    axum::extract::Path(id): axum::extract::Path<String>,
    body: Bytes,
) -> Response {
    let patch = match strict_body::<serde_json::Map<String, Value>>(&body, "tokens") {
        Ok(patch) => patch,
        Err(refused) => return refused,
    };
    if let Some(unknown) = patch
        .keys()
        .find(|k| !TOKEN_PATCH_KEYS.contains(&k.as_str()))
    {
        return (
            StatusCode::BAD_REQUEST,
            Json(json!({
                "ok": false,
                "error": format!("unknown key {unknown:?}. PATCH /__admin/tokens/{{id}} accepts: {}", accepted_keys("tokens")),
            })),
        )
            .into_response();
    }
    let found = tokens::oob_patch(&app, &id, Value::Object(patch));
    Json(json!({ "patched": found })).into_response()
}

/// Out-of-band edits change the modification time the object carries, if any.
fn merge(object: &mut Value, patch: &Value) {
    if let (Some(target), Some(patch)) = (object.as_object_mut(), patch.as_object()) {
        target.extend(patch.clone());
        if target.contains_key("modified_at") {
            target.insert("modified_at".into(), json!(validate::now()));
        }
    }
}
