//! AI Search: service tokens, namespaces and instances, on the account
//! route (namespace `default`) and the namespaced routes.

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use serde::Deserialize;
use serde_json::{json, Map, Value};

use super::reply::{ai_err, ai_list, ai_ok, paginate};
use super::validate::{is_instance_id, is_namespace_name, now};
use super::App;

const DEFAULT_NS: &str = "default";
const NAMESPACE_LIMIT: usize = 10;
/// A single-instance GET leaves these out, as the real API does.
const NOT_ON_READ: [&str; 6] = [
    "summarization",
    "summarization_model",
    "system_prompt_ai_search",
    "system_prompt_index_summarization",
    "system_prompt_rewrite_query",
    "chunk",
];
const UPDATE_ONLY: [&str; 6] = [
    "paused",
    "summarization",
    "summarization_model",
    "system_prompt_ai_search",
    "system_prompt_index_summarization",
    "system_prompt_rewrite_query",
];

pub fn routes() -> Router<App> {
    let base = "/accounts/{account_id}/ai-search";
    Router::new()
        .route(
            &format!("{base}/tokens"),
            get(list_tokens).post(create_token),
        )
        .route(
            &format!("{base}/tokens/{{id}}"),
            get(read_token).put(update_token).delete(delete_token),
        )
        .route(
            &format!("{base}/instances"),
            get(list_default).post(create_default),
        )
        .route(
            &format!("{base}/instances/{{id}}"),
            get(read_default).put(update_default).delete(delete_default),
        )
        .route(
            &format!("{base}/instances/{{id}}/stats"),
            get(stats_default),
        )
        .route(
            &format!("{base}/namespaces"),
            get(list_namespaces).post(create_namespace),
        )
        .route(
            &format!("{base}/namespaces/{{name}}"),
            get(read_namespace)
                .put(update_namespace)
                .delete(delete_namespace),
        )
        .route(
            &format!("{base}/namespaces/{{name}}/instances"),
            get(list_in).post(create_in),
        )
        .route(
            &format!("{base}/namespaces/{{name}}/instances/{{id}}"),
            get(read_in)
                .put(update_in)
                .patch(move_instance)
                .delete(delete_in),
        )
        .route(
            &format!("{base}/namespaces/{{name}}/instances/{{id}}/stats"),
            get(stats_in),
        )
}

fn invalid(message: &str, path: &[&str]) -> Response {
    ai_err(StatusCode::BAD_REQUEST, 7001, message, path)
}

fn missing(what: &str) -> Response {
    ai_err(
        StatusCode::NOT_FOUND,
        7404,
        &format!("{what} not found."),
        &[],
    )
}

fn object(body: &Bytes) -> Result<Map<String, Value>, Response> {
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(m)) => Ok(m),
        _ => Err(invalid("Malformed JSON body", &[])),
    }
}

#[derive(Deserialize)]
struct PageQuery {
    page: Option<u64>,
    per_page: Option<u64>,
    search: Option<String>,
}

impl PageQuery {
    fn bounds(&self) -> Result<(u64, u64), Response> {
        let (page, per_page) = (self.page.unwrap_or(1), self.per_page.unwrap_or(20));
        if !(1..=100).contains(&page) {
            return Err(invalid("page must be between 1 and 100", &["page"]));
        }
        if !(1..=100).contains(&per_page) {
            return Err(invalid("per_page must be between 1 and 100", &["per_page"]));
        }
        Ok((page, per_page))
    }
}

// ------------------------------------------------------------ service tokens

/// The registration must name an existing API token and its current value.
fn check_token_body(app: &App, body: &Map<String, Value>) -> Result<(String, String), Response> {
    let text = |k: &str| {
        body.get(k)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string()
    };
    let (name, cf_api_id, cf_api_key) = (text("name"), text("cf_api_id"), text("cf_api_key"));
    for (field, value) in [
        ("name", &name),
        ("cf_api_id", &cf_api_id),
        ("cf_api_key", &cf_api_key),
    ] {
        if value.is_empty() {
            return Err(invalid(&format!("{field} is required"), &[field]));
        }
    }
    if name.chars().count() > 120 {
        return Err(invalid("name is too long", &["name"]));
    }
    let world = app.world();
    match world.tokens.get(&cf_api_id) {
        Some(t) if t.value == cf_api_key => Ok((name, cf_api_id)),
        _ => Err(invalid(
            "Ai search instance invalid token.",
            &["cf_api_key"],
        )),
    }
}

async fn list_tokens(State(app): State<App>, Query(q): Query<PageQuery>) -> Response {
    let (page, per_page) = or_reply!(q.bounds());
    let search = q.search.as_deref().map(str::to_lowercase);
    let items: Vec<Value> = app
        .world()
        .ai_tokens
        .values()
        .filter(|t| {
            search.as_ref().is_none_or(|s| {
                t["name"]
                    .as_str()
                    .unwrap_or_default()
                    .to_lowercase()
                    .contains(s)
            })
        })
        .cloned()
        .collect();
    let (items, total) = paginate(items, page, per_page);
    ai_list(items, page, per_page, total)
}

async fn create_token(State(app): State<App>, body: Bytes) -> Response {
    let body = or_reply!(object(&body));
    let (name, cf_api_id) = or_reply!(check_token_body(&app, &body));
    let id = uuid::Uuid::new_v4().to_string();
    let stamp = now();
    let token = json!({
        "id": id, "name": name, "cf_api_id": cf_api_id, "enabled": true,
        "legacy": body.get("legacy").and_then(Value::as_bool).unwrap_or(true),
        "created_at": stamp, "modified_at": stamp, "created_by": null, "modified_by": null,
    });
    let mut world = app.world();
    world.ai_tokens.insert(id, token.clone());
    app.persist(&world);
    ai_ok(StatusCode::CREATED, token)
}

async fn read_token(State(app): State<App>, Path((_, id)): Path<(String, String)>) -> Response {
    match app.world().ai_tokens.get(&id) {
        Some(t) => ai_ok(StatusCode::OK, t.clone()),
        None => missing("Token"),
    }
}

async fn update_token(
    State(app): State<App>,
    Path((_, id)): Path<(String, String)>,
    body: Bytes,
) -> Response {
    let body = or_reply!(object(&body));
    if !app.world().ai_tokens.contains_key(&id) {
        return missing("Token");
    }
    let (name, cf_api_id) = or_reply!(check_token_body(&app, &body));
    let mut world = app.world();
    let Some(token) = world.ai_tokens.get_mut(&id) else {
        return missing("Token");
    };
    token["name"] = json!(name);
    token["cf_api_id"] = json!(cf_api_id);
    if let Some(legacy) = body.get("legacy").and_then(Value::as_bool) {
        token["legacy"] = json!(legacy);
    }
    token["modified_at"] = json!(now());
    let result = token.clone();
    app.persist(&world);
    ai_ok(StatusCode::OK, result)
}

async fn delete_token(State(app): State<App>, Path((_, id)): Path<(String, String)>) -> Response {
    let mut world = app.world();
    if !world.ai_tokens.contains_key(&id) {
        return missing("Token");
    }
    if !world.instances_using(&id).is_empty() {
        return ai_err(
            StatusCode::CONFLICT,
            7409,
            "Token in use by instances.",
            &[],
        );
    }
    world.ai_tokens.remove(&id);
    app.persist(&world);
    ai_ok(StatusCode::OK, json!({}))
}

// ---------------------------------------------------------------- namespaces

fn default_namespace() -> Value {
    json!({ "name": DEFAULT_NS, "description": "Default namespace", "created_at": "2025-01-01T00:00:00Z", "modified_at": "2025-01-01T00:00:00Z" })
}

fn namespace_exists(app: &App, name: &str) -> bool {
    name == DEFAULT_NS || app.world().namespaces.contains_key(name)
}

async fn list_namespaces(State(app): State<App>, Query(q): Query<PageQuery>) -> Response {
    let (page, per_page) = or_reply!(q.bounds());
    let mut items = vec![default_namespace()];
    items.extend(app.world().namespaces.values().cloned());
    let (items, total) = paginate(items, page, per_page);
    ai_list(items, page, per_page, total)
}

async fn create_namespace(State(app): State<App>, body: Bytes) -> Response {
    let body = or_reply!(object(&body));
    let name = body.get("name").and_then(Value::as_str).unwrap_or_default();
    if !is_namespace_name(name) {
        return invalid(
            "name must match ^[a-z0-9]([a-z0-9-]{0,26}[a-z0-9])?$",
            &["name"],
        );
    }
    let description = body.get("description").and_then(Value::as_str);
    if description.is_some_and(|d| d.chars().count() > 256) {
        return invalid("description is too long", &["description"]);
    }
    let mut world = app.world();
    if name == DEFAULT_NS || world.namespaces.contains_key(name) {
        return ai_err(StatusCode::CONFLICT, 7409, "Namespace already exists.", &[]);
    }
    if world.namespaces.len() >= NAMESPACE_LIMIT {
        return ai_err(StatusCode::FORBIDDEN, 7403, "Namespace limit reached.", &[]);
    }
    let stamp = now();
    let ns = json!({ "name": name, "description": description, "created_at": stamp, "modified_at": stamp });
    world.namespaces.insert(name.to_string(), ns.clone());
    app.persist(&world);
    ai_ok(StatusCode::CREATED, ns)
}

async fn read_namespace(
    State(app): State<App>,
    Path((_, name)): Path<(String, String)>,
) -> Response {
    if name == DEFAULT_NS {
        return ai_ok(StatusCode::OK, default_namespace());
    }
    match app.world().namespaces.get(&name) {
        Some(ns) => ai_ok(StatusCode::OK, ns.clone()),
        None => missing("Namespace"),
    }
}

async fn update_namespace(
    State(app): State<App>,
    Path((_, name)): Path<(String, String)>,
    body: Bytes,
) -> Response {
    let body = or_reply!(object(&body));
    if name == DEFAULT_NS {
        return invalid("The default namespace cannot be updated.", &["name"]);
    }
    let mut world = app.world();
    let Some(ns) = world.namespaces.get_mut(&name) else {
        return missing("Namespace");
    };
    ns["description"] = body.get("description").cloned().unwrap_or(Value::Null);
    ns["modified_at"] = json!(now());
    let result = ns.clone();
    app.persist(&world);
    ai_ok(StatusCode::OK, result)
}

async fn delete_namespace(
    State(app): State<App>,
    Path((_, name)): Path<(String, String)>,
) -> Response {
    if name == DEFAULT_NS {
        return invalid("The default namespace cannot be deleted.", &["name"]);
    }
    let mut world = app.world();
    if !world.namespaces.contains_key(&name) {
        return missing("Namespace");
    }
    if world.instances.get(&name).is_some_and(|i| !i.is_empty()) {
        return invalid(
            "A namespace must be empty before it can be deleted.",
            &["name"],
        );
    }
    world.namespaces.remove(&name);
    world.instances.remove(&name);
    app.persist(&world);
    ai_ok(StatusCode::OK, json!({}))
}

// ----------------------------------------------------------------- instances

fn enum_check(body: &Map<String, Value>, field: &str, allowed: &[Value]) -> Result<(), Response> {
    match body.get(field) {
        Some(v) if !v.is_null() && !allowed.contains(v) => Err(invalid(
            &format!("{field} has an unsupported value"),
            &[field],
        )),
        _ => Ok(()),
    }
}

fn range_check(
    body: &Map<String, Value>,
    field: &str,
    min: f64,
    max: f64,
    integer: bool,
) -> Result<(), Response> {
    let Some(v) = body.get(field).filter(|v| !v.is_null()) else {
        return Ok(());
    };
    let ok = v
        .as_f64()
        .is_some_and(|n| n >= min && n <= max && (!integer || n.fract() == 0.0));
    if ok {
        Ok(())
    } else {
        Err(invalid(
            &format!("{field} must be between {min} and {max}"),
            &[field],
        ))
    }
}

fn check_config(body: &Map<String, Value>) -> Result<(), Response> {
    let nums = |xs: &[i64]| xs.iter().map(|x| json!(x)).collect::<Vec<_>>();
    let strs = |xs: &[&str]| xs.iter().map(|x| json!(x)).collect::<Vec<_>>();
    enum_check(
        body,
        "cache_ttl",
        &nums(&[
            600, 1800, 3600, 7200, 21600, 43200, 86400, 172800, 259200, 518400,
        ]),
    )?;
    enum_check(
        body,
        "sync_interval",
        &nums(&[900, 1800, 3600, 7200, 14400, 21600, 43200, 86400]),
    )?;
    enum_check(
        body,
        "cache_threshold",
        &strs(&[
            "super_strict_match",
            "close_enough",
            "flexible_friend",
            "anything_goes",
        ]),
    )?;
    enum_check(body, "fusion_method", &strs(&["max", "rrf"]))?;
    range_check(body, "chunk_size", 64.0, f64::MAX, true)?;
    range_check(body, "chunk_overlap", 0.0, 30.0, true)?;
    range_check(body, "max_num_results", 1.0, 50.0, true)?;
    range_check(body, "score_threshold", 0.0, 1.0, false)?;
    for flag in [
        "cache",
        "chunk",
        "reranking",
        "rewrite_query",
        "paused",
        "summarization",
    ] {
        if body
            .get(flag)
            .is_some_and(|v| !v.is_null() && !v.is_boolean())
        {
            return Err(invalid(&format!("{flag} must be a boolean"), &[flag]));
        }
    }
    Ok(())
}

fn defaults() -> Map<String, Value> {
    let model = "@cf/meta/llama-3.3-70b-instruct-fp8-fast";
    json!({
        "ai_gateway_id": null, "ai_search_model": model, "rewrite_model": model, "summarization_model": model,
        "embedding_model": "@cf/baai/bge-m3", "reranking_model": "@cf/baai/bge-reranker-base",
        "cache": true, "cache_threshold": "close_enough", "cache_ttl": 172800, "chunk": true, "chunk_size": 256,
        "chunk_overlap": 10, "fusion_method": "rrf", "max_num_results": 10, "reranking": false, "rewrite_query": false,
        "score_threshold": 0.4, "sync_interval": 21600, "paused": false, "summarization": false,
        "system_prompt_ai_search": null, "system_prompt_index_summarization": null, "system_prompt_rewrite_query": null,
        "index_method": { "keyword": false, "vector": true }, "status": "waiting", "engine_version": 2, "enable": true,
        "created_by": null, "modified_by": null, "last_activity": null,
    })
    .as_object()
    .cloned()
    .unwrap_or_default()
}

fn without_unread(instance: &Value) -> Value {
    let mut out = instance.clone();
    if let Some(m) = out.as_object_mut() {
        for field in NOT_ON_READ {
            m.remove(field);
        }
    }
    out
}

async fn list_instances(app: App, ns: String, q: PageQuery) -> Response {
    let (page, per_page) = or_reply!(q.bounds());
    if !namespace_exists(&app, &ns) {
        return missing("Namespace");
    }
    let search = q.search.clone().unwrap_or_default();
    let items: Vec<Value> = app
        .world()
        .instances
        .get(&ns)
        .map(|m| {
            m.values()
                .filter(|i| i["id"].as_str().unwrap_or_default().contains(&search))
                .cloned()
                .collect()
        })
        .unwrap_or_default();
    let (items, total) = paginate(items, page, per_page);
    ai_list(items, page, per_page, total)
}

async fn create_instance(app: App, ns: String, body: Bytes) -> Response {
    let body = or_reply!(object(&body));
    if !namespace_exists(&app, &ns) {
        return missing("Namespace");
    }
    let id = body
        .get("id")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    if !is_instance_id(&id) {
        return invalid(
            "id must be 1-64 characters matching ^[a-z0-9_]+(?:-[a-z0-9_]+)*$",
            &["id"],
        );
    }
    if let Some(field) = UPDATE_ONLY.iter().find(|f| body.contains_key(**f)) {
        return invalid(&format!("{field} can only be set by an update"), &[field]);
    }
    or_reply!(enum_check(
        &body,
        "type",
        &[json!("r2"), json!("web-crawler")]
    ));
    or_reply!(check_config(&body));
    let mut world = app.world();
    if let Some(token) = body.get("token_id").and_then(Value::as_str) {
        if !world.ai_tokens.contains_key(token) {
            return missing("Token");
        }
    }
    if world
        .instances
        .get(&ns)
        .is_some_and(|m| m.contains_key(&id))
    {
        return invalid("An instance with this id already exists.", &["id"]);
    }
    let mut instance = defaults();
    instance.extend(body.into_iter().filter(|(_, v)| !v.is_null()));
    let stamp = now();
    instance.insert("namespace".into(), json!(ns));
    instance.insert("created_at".into(), json!(stamp));
    instance.insert("modified_at".into(), json!(stamp));
    instance.insert(
        "public_endpoint_id".into(),
        json!(hex::encode(rand::random::<[u8; 8]>())),
    );
    instance.insert("vectorize_name".into(), json!(format!("ai-search-{id}")));
    let instance = Value::Object(instance);
    world
        .instances
        .entry(ns)
        .or_default()
        .insert(id, instance.clone());
    app.persist(&world);
    ai_ok(StatusCode::CREATED, instance)
}

async fn read_instance(app: App, ns: String, id: String) -> Response {
    match app.world().instances.get(&ns).and_then(|m| m.get(&id)) {
        Some(i) => ai_ok(StatusCode::OK, without_unread(i)),
        None => missing("Instance"),
    }
}

async fn update_instance(app: App, ns: String, id: String, body: Bytes) -> Response {
    let body = or_reply!(object(&body));
    for immutable in ["id", "type", "hybrid_search_enabled"] {
        if body.contains_key(immutable) {
            return invalid(&format!("{immutable} cannot be changed"), &[immutable]);
        }
    }
    or_reply!(check_config(&body));
    let mut world = app.world();
    if let Some(token) = body.get("token_id").and_then(Value::as_str) {
        if !world.ai_tokens.contains_key(token) {
            return missing("Token");
        }
    }
    let Some(instance) = world.instances.get_mut(&ns).and_then(|m| m.get_mut(&id)) else {
        return missing("Instance");
    };
    if let Some(m) = instance.as_object_mut() {
        m.extend(body);
        m.insert("modified_at".into(), json!(now()));
    }
    let result = instance.clone();
    app.persist(&world);
    ai_ok(StatusCode::OK, result)
}

async fn delete_instance(app: App, ns: String, id: String) -> Response {
    let mut world = app.world();
    match world.instances.get_mut(&ns).and_then(|m| m.remove(&id)) {
        Some(i) => {
            app.persist(&world);
            ai_ok(StatusCode::OK, i)
        }
        None => missing("Instance"),
    }
}

async fn instance_stats(app: App, ns: String, id: String) -> Response {
    if app
        .world()
        .instances
        .get(&ns)
        .and_then(|m| m.get(&id))
        .is_none()
    {
        return missing("Instance");
    }
    ai_ok(
        StatusCode::OK,
        json!({ "completed": 0, "queued": 0, "running": 0, "error": 0, "skipped": 0, "outdated": 0, "degraded": false }),
    )
}

async fn move_instance(
    State(app): State<App>,
    Path((_, ns, id)): Path<(String, String, String)>,
    body: Bytes,
) -> Response {
    let body = or_reply!(object(&body));
    let Some(target) = body
        .get("new_namespace")
        .and_then(Value::as_str)
        .map(str::to_string)
    else {
        return invalid("new_namespace is required", &["new_namespace"]);
    };
    if !namespace_exists(&app, &target) {
        return missing("Namespace");
    }
    let mut world = app.world();
    if world
        .instances
        .get(&target)
        .is_some_and(|m| m.contains_key(&id))
    {
        return invalid(
            "An instance with this id already exists in the target namespace.",
            &["new_namespace"],
        );
    }
    let Some(mut instance) = world.instances.get_mut(&ns).and_then(|m| m.remove(&id)) else {
        return missing("Instance");
    };
    instance["namespace"] = json!(target);
    instance["modified_at"] = json!(now());
    world
        .instances
        .entry(target)
        .or_default()
        .insert(id, instance);
    app.persist(&world);
    // The contract's answer is an empty object; callers read the instance again.
    ai_ok(StatusCode::OK, json!({}))
}

// Thin route adapters: the account route is the `default` namespace.

async fn list_default(State(app): State<App>, Query(q): Query<PageQuery>) -> Response {
    list_instances(app, DEFAULT_NS.into(), q).await
}
async fn create_default(State(app): State<App>, body: Bytes) -> Response {
    create_instance(app, DEFAULT_NS.into(), body).await
}
async fn read_default(State(app): State<App>, Path((_, id)): Path<(String, String)>) -> Response {
    read_instance(app, DEFAULT_NS.into(), id).await
}
async fn update_default(
    State(app): State<App>,
    Path((_, id)): Path<(String, String)>,
    body: Bytes,
) -> Response {
    update_instance(app, DEFAULT_NS.into(), id, body).await
}
async fn delete_default(State(app): State<App>, Path((_, id)): Path<(String, String)>) -> Response {
    delete_instance(app, DEFAULT_NS.into(), id).await
}
async fn stats_default(State(app): State<App>, Path((_, id)): Path<(String, String)>) -> Response {
    instance_stats(app, DEFAULT_NS.into(), id).await
}
async fn list_in(
    State(app): State<App>,
    Path((_, ns)): Path<(String, String)>,
    Query(q): Query<PageQuery>,
) -> Response {
    list_instances(app, ns, q).await
}
async fn create_in(
    State(app): State<App>,
    Path((_, ns)): Path<(String, String)>,
    body: Bytes,
) -> Response {
    create_instance(app, ns, body).await
}
async fn read_in(
    State(app): State<App>,
    Path((_, ns, id)): Path<(String, String, String)>,
) -> Response {
    read_instance(app, ns, id).await
}
async fn update_in(
    State(app): State<App>,
    Path((_, ns, id)): Path<(String, String, String)>,
    body: Bytes,
) -> Response {
    update_instance(app, ns, id, body).await
}
async fn delete_in(
    State(app): State<App>,
    Path((_, ns, id)): Path<(String, String, String)>,
) -> Response {
    delete_instance(app, ns, id).await
}
async fn stats_in(
    State(app): State<App>,
    Path((_, ns, id)): Path<(String, String, String)>,
) -> Response {
    instance_stats(app, ns, id).await
}
