//! AI Search namespaces; `default` always exists and cannot change.

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{json, Value};

use super::super::reply::{ai_err, ai_list, ai_ok, paginate};
use super::super::validate::{is_namespace_name, now};
use super::super::App;
use super::{invalid, missing, object, PageQuery, DEFAULT_NS};

pub(super) const NAMESPACE_LIMIT: usize = 10;

pub(super) fn default_namespace() -> Value {
    json!({ "name": DEFAULT_NS, "description": "Default namespace", "created_at": "2025-01-01T00:00:00Z" })
}

pub(super) fn namespace_exists(app: &App, name: &str) -> bool {
    name == DEFAULT_NS || app.world().namespaces.contains_key(name)
}

pub(super) async fn list_namespaces(
    State(app): State<App>,
    Query(q): Query<PageQuery>,
) -> Response {
    let (page, per_page) = or_reply!(q.bounds());
    let mut items = vec![default_namespace()];
    items.extend(app.world().namespaces.values().cloned());
    let (items, total) = paginate(items, page, per_page);
    ai_list(items, page, per_page, total)
}

pub(super) async fn create_namespace(State(app): State<App>, body: Bytes) -> Response {
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
        return ai_err(StatusCode::CONFLICT, 7064, "namespace_already_exists", &[]);
    }
    if world.namespaces.len() >= NAMESPACE_LIMIT {
        return ai_err(StatusCode::FORBIDDEN, 7403, "Namespace limit reached.", &[]);
    }
    let stamp = now();
    let ns = json!({ "name": name, "description": description, "created_at": stamp });
    world.namespaces.insert(name.to_string(), ns.clone());
    app.persist(&world);
    ai_ok(StatusCode::CREATED, ns)
}

pub(super) async fn read_namespace(
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

pub(super) async fn update_namespace(
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
    let result = ns.clone();
    app.persist(&world);
    ai_ok(StatusCode::OK, result)
}

pub(super) async fn delete_namespace(
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
        return ai_err(StatusCode::CONFLICT, 7066, "namespace_not_empty", &[]);
    }
    world.namespaces.remove(&name);
    world.instances.remove(&name);
    app.persist(&world);
    ai_ok(StatusCode::OK, json!({}))
}
