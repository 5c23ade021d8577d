//! AI Search service tokens: registrations of an API token and its value.

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{json, Map, Value};

use super::super::reply::{ai_err, ai_list, ai_ok, paginate};
use super::super::validate::now;
use super::super::App;
use super::{invalid, missing, object, PageQuery};

/// The registration must name an existing API token and its current value.
pub(super) fn check_token_body(
    app: &App,
    body: &Map<String, Value>,
) -> Result<(String, String), Response> {
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
    let valid = app
        .world()
        .tokens
        .get(&cf_api_id)
        .is_some_and(|t| t.value == cf_api_key);
    if !valid || app.ai().propagating(&cf_api_id) {
        return Err(ai_err(
            StatusCode::BAD_REQUEST,
            7012,
            "ai_search_instance_invalid_token",
            &["cf_api_key"],
        ));
    }
    Ok((name, cf_api_id))
}

pub(super) async fn list_tokens(State(app): State<App>, Query(q): Query<PageQuery>) -> Response {
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

pub(super) async fn create_token(State(app): State<App>, body: Bytes) -> Response {
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

pub(super) async fn read_token(
    State(app): State<App>,
    Path((_, id)): Path<(String, String)>,
) -> Response {
    match app.world().ai_tokens.get(&id) {
        Some(t) => ai_ok(StatusCode::OK, t.clone()),
        None => missing("Token"),
    }
}

pub(super) async fn update_token(
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

pub(super) async fn delete_token(
    State(app): State<App>,
    Path((_, id)): Path<(String, String)>,
) -> Response {
    let tearing_down = app.ai().still_holding(&id);
    let mut world = app.world();
    if !world.ai_tokens.contains_key(&id) {
        return missing("Token");
    }
    if !world.instances_using(&id).is_empty() || !tearing_down.is_empty() {
        return ai_err(StatusCode::CONFLICT, 7076, "token_in_use_by_instances", &[]);
    }
    world.ai_tokens.remove(&id);
    app.persist(&world);
    ai_ok(StatusCode::OK, json!({}))
}
