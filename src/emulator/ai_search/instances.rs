//! AI Search instances, on the account route (`default`) and the
//! namespaced routes, with the real API's defaults, ranges and omissions.

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{json, Map, Value};

use super::super::reply::{ai_err, ai_list, ai_ok, paginate};
use super::super::sparse;
use super::super::validate::{is_instance_id, now};
use super::super::App;
use super::namespaces::namespace_exists;
use super::{invalid, missing, object, PageQuery, DEFAULT_NS};

/// Fields the contract's list item has and its single instance lacks:
/// every single-instance answer (create, read, update, delete) leaves them
/// out; only the list has them.
fn not_on_read() -> &'static [String] {
    static FIELDS: std::sync::OnceLock<Vec<String>> = std::sync::OnceLock::new();
    FIELDS.get_or_init(|| {
        sparse::properties_only_in("aisearch_instance_list_item", "aisearch_instance")
    })
}

/// Fields the contract's update request has and its create request lacks.
fn update_only() -> &'static [String] {
    static FIELDS: std::sync::OnceLock<Vec<String>> = std::sync::OnceLock::new();
    FIELDS.get_or_init(|| {
        sparse::properties_only_in(
            "aisearch_instance_update_request",
            "aisearch_instance_create_request",
        )
    })
}

pub(super) fn enum_check(
    body: &Map<String, Value>,
    field: &str,
    allowed: &[Value],
) -> Result<(), Response> {
    match body.get(field) {
        Some(v) if !v.is_null() && !allowed.contains(v) => Err(invalid(
            &format!("{field} has an unsupported value"),
            &[field],
        )),
        _ => Ok(()),
    }
}

pub(super) fn range_check(
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

pub(super) fn check_config(body: &Map<String, Value>) -> Result<(), Response> {
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

pub(super) fn defaults() -> Map<String, Value> {
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

pub(super) fn without_unread(instance: &Value) -> Value {
    let mut out = instance.clone();
    if let Some(m) = out.as_object_mut() {
        for field in not_on_read() {
            m.remove(field);
        }
    }
    out
}

pub(super) async fn list_instances(app: App, ns: String, q: PageQuery) -> Response {
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

pub(super) async fn create_instance(app: App, ns: String, body: Bytes) -> Response {
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
    if let Some(field) = update_only().iter().find(|f| body.contains_key(f.as_str())) {
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
        return ai_err(
            StatusCode::BAD_REQUEST,
            7022,
            "ai_search_with_this_name_already_exist",
            &["id"],
        );
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
    ai_ok(StatusCode::CREATED, without_unread(&instance))
}

pub(super) async fn read_instance(app: App, ns: String, id: String) -> Response {
    match app.world().instances.get(&ns).and_then(|m| m.get(&id)) {
        Some(i) => ai_ok(StatusCode::OK, without_unread(i)),
        None => missing("Instance"),
    }
}

pub(super) async fn update_instance(app: App, ns: String, id: String, body: Bytes) -> Response {
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
    let result = without_unread(instance);
    app.persist(&world);
    ai_ok(StatusCode::OK, result)
}

pub(super) async fn delete_instance(app: App, ns: String, id: String) -> Response {
    let mut world = app.world();
    match world.instances.get_mut(&ns).and_then(|m| m.remove(&id)) {
        Some(i) => {
            app.persist(&world);
            drop(world);
            app.ai().forget_jobs(&format!("{ns}/{id}"));
            if let Some(token) = i.get("token_id").and_then(Value::as_str) {
                // Cloudflare tears instances down asynchronously.
                app.ai().instance_deleted(token, &format!("{ns}/{id}"));
            }
            ai_ok(StatusCode::OK, without_unread(&i))
        }
        None => missing("Instance"),
    }
}

/// `POST .../jobs`: starts a sync job, unless one started within the cooldown.
pub(super) async fn start_job(app: App, ns: String, id: String) -> Response {
    let exists = app
        .world()
        .instances
        .get(&ns)
        .is_some_and(|m| m.contains_key(&id));
    if !exists {
        return missing("Instance");
    }
    let started_at = now();
    let unix = unix_now();
    let Some(job_id) = app
        .ai()
        .start_job(&format!("{ns}/{id}"), started_at.clone(), unix)
    else {
        return ai_err(StatusCode::TOO_MANY_REQUESTS, 7020, "sync_in_cooldown", &[]);
    };
    ai_ok(
        StatusCode::OK,
        json!({ "id": job_id, "source": "user", "started_at": started_at }),
    )
}

fn unix_now() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

/// `GET .../jobs/{job_id}`: the job, ended once it has run its time.
pub(super) async fn job_detail(app: App, ns: String, id: String, job_id: String) -> Response {
    match app.ai().job(&format!("{ns}/{id}"), &job_id, now()) {
        Some(view) => ai_ok(StatusCode::OK, view.job),
        None => missing("Job"),
    }
}

/// `GET .../jobs/{job_id}/logs`: the job's log lines so far, paged
/// (`per_page` 1..500, default 20).
pub(super) async fn job_logs(
    app: App,
    ns: String,
    id: String,
    job_id: String,
    q: PageQuery,
) -> Response {
    let (page, per_page) = or_reply!(q.log_bounds());
    match app.ai().job(&format!("{ns}/{id}"), &job_id, now()) {
        Some(view) => {
            let (items, total) = paginate(view.logs, page, per_page);
            ai_list(items, page, per_page, total)
        }
        None => missing("Job"),
    }
}

pub(super) async fn job_detail_default(
    State(app): State<App>,
    Path((_, id, job_id)): Path<(String, String, String)>,
) -> Response {
    job_detail(app, DEFAULT_NS.into(), id, job_id).await
}

pub(super) async fn job_detail_in(
    State(app): State<App>,
    Path((_, ns, id, job_id)): Path<(String, String, String, String)>,
) -> Response {
    job_detail(app, ns, id, job_id).await
}

pub(super) async fn job_logs_default(
    State(app): State<App>,
    Path((_, id, job_id)): Path<(String, String, String)>,
    Query(q): Query<PageQuery>,
) -> Response {
    job_logs(app, DEFAULT_NS.into(), id, job_id, q).await
}

pub(super) async fn job_logs_in(
    State(app): State<App>,
    Path((_, ns, id, job_id)): Path<(String, String, String, String)>,
    Query(q): Query<PageQuery>,
) -> Response {
    job_logs(app, ns, id, job_id, q).await
}

/// `POST .../namespaces/{name}/instances/{id}/purge_cache`: `{success}`
/// alone, as the contract answers.
pub(super) async fn purge_cache(
    State(app): State<App>,
    Path((_, ns, id)): Path<(String, String, String)>,
) -> Response {
    let exists = app
        .world()
        .instances
        .get(&ns)
        .is_some_and(|m| m.contains_key(&id));
    if !exists {
        return missing("Instance");
    }
    app.ai().purged(&format!("{ns}/{id}"));
    (StatusCode::OK, axum::Json(json!({ "success": true }))).into_response()
}

pub(super) async fn job_default(
    State(app): State<App>,
    Path((_, id)): Path<(String, String)>,
) -> Response {
    start_job(app, DEFAULT_NS.into(), id).await
}

pub(super) async fn job_in(
    State(app): State<App>,
    Path((_, ns, id)): Path<(String, String, String)>,
) -> Response {
    start_job(app, ns, id).await
}

pub(super) async fn instance_stats(app: App, ns: String, id: String) -> Response {
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

pub(super) async fn move_instance(
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

pub(super) async fn list_default(State(app): State<App>, Query(q): Query<PageQuery>) -> Response {
    list_instances(app, DEFAULT_NS.into(), q).await
}
pub(super) async fn create_default(State(app): State<App>, body: Bytes) -> Response {
    create_instance(app, DEFAULT_NS.into(), body).await
}
pub(super) async fn read_default(
    State(app): State<App>,
    Path((_, id)): Path<(String, String)>,
) -> Response {
    read_instance(app, DEFAULT_NS.into(), id).await
}
pub(super) async fn update_default(
    State(app): State<App>,
    Path((_, id)): Path<(String, String)>,
    body: Bytes,
) -> Response {
    update_instance(app, DEFAULT_NS.into(), id, body).await
}
pub(super) async fn delete_default(
    State(app): State<App>,
    Path((_, id)): Path<(String, String)>,
) -> Response {
    delete_instance(app, DEFAULT_NS.into(), id).await
}
pub(super) async fn stats_default(
    State(app): State<App>,
    Path((_, id)): Path<(String, String)>,
) -> Response {
    instance_stats(app, DEFAULT_NS.into(), id).await
}
pub(super) async fn list_in(
    State(app): State<App>,
    Path((_, ns)): Path<(String, String)>,
    Query(q): Query<PageQuery>,
) -> Response {
    list_instances(app, ns, q).await
}
pub(super) async fn create_in(
    State(app): State<App>,
    Path((_, ns)): Path<(String, String)>,
    body: Bytes,
) -> Response {
    create_instance(app, ns, body).await
}
pub(super) async fn read_in(
    State(app): State<App>,
    Path((_, ns, id)): Path<(String, String, String)>,
) -> Response {
    read_instance(app, ns, id).await
}
pub(super) async fn update_in(
    State(app): State<App>,
    Path((_, ns, id)): Path<(String, String, String)>,
    body: Bytes,
) -> Response {
    update_instance(app, ns, id, body).await
}
pub(super) async fn delete_in(
    State(app): State<App>,
    Path((_, ns, id)): Path<(String, String, String)>,
) -> Response {
    delete_instance(app, ns, id).await
}
pub(super) async fn stats_in(
    State(app): State<App>,
    Path((_, ns, id)): Path<(String, String, String)>,
) -> Response {
    instance_stats(app, ns, id).await
}

#[cfg(test)]
mod contract_fields {
    use super::*;

    #[test]
    fn update_only_and_list_only_fields_come_from_the_contract() {
        assert_eq!(
            update_only(),
            [
                "paused",
                "summarization",
                "summarization_model",
                "system_prompt_ai_search",
                "system_prompt_index_summarization",
                "system_prompt_rewrite_query",
            ]
        );
        assert_eq!(
            not_on_read(),
            [
                "chunk",
                "summarization",
                "summarization_model",
                "system_prompt_ai_search",
                "system_prompt_index_summarization",
                "system_prompt_rewrite_query",
            ]
        );
    }
}
