//! AI Search: service tokens, namespaces and instances, on the account
//! route (namespace `default`) and the namespaced routes.

mod instances;
mod namespaces;
pub(crate) mod runtime;
mod service_tokens;

use axum::body::Bytes;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use serde::Deserialize;
use serde_json::{Map, Value};

use super::reply::ai_err;
use super::App;

pub(super) const DEFAULT_NS: &str = "default";

pub fn routes() -> Router<App> {
    let base = "/accounts/{account_id}/ai-search";
    Router::new()
        .route(
            &format!("{base}/tokens"),
            get(service_tokens::list_tokens).post(service_tokens::create_token),
        )
        .route(
            &format!("{base}/tokens/{{id}}"),
            get(service_tokens::read_token)
                .put(service_tokens::update_token)
                .delete(service_tokens::delete_token),
        )
        .route(
            &format!("{base}/instances"),
            get(instances::list_default).post(instances::create_default),
        )
        .route(
            &format!("{base}/instances/{{id}}"),
            get(instances::read_default)
                .put(instances::update_default)
                .delete(instances::delete_default),
        )
        .route(
            &format!("{base}/instances/{{id}}/stats"),
            get(instances::stats_default),
        )
        .route(
            &format!("{base}/instances/{{id}}/jobs"),
            axum::routing::post(instances::job_default),
        )
        .route(
            &format!("{base}/namespaces/{{name}}/instances/{{id}}/jobs"),
            axum::routing::post(instances::job_in),
        )
        .route(
            &format!("{base}/instances/{{id}}/jobs/{{job_id}}"),
            get(instances::job_detail_default),
        )
        .route(
            &format!("{base}/namespaces/{{name}}/instances/{{id}}/jobs/{{job_id}}"),
            get(instances::job_detail_in),
        )
        .route(
            &format!("{base}/instances/{{id}}/jobs/{{job_id}}/logs"),
            get(instances::job_logs_default),
        )
        .route(
            &format!("{base}/namespaces/{{name}}/instances/{{id}}/jobs/{{job_id}}/logs"),
            get(instances::job_logs_in),
        )
        .route(
            &format!("{base}/namespaces/{{name}}/instances/{{id}}/purge_cache"),
            axum::routing::post(instances::purge_cache),
        )
        .route(
            &format!("{base}/namespaces"),
            get(namespaces::list_namespaces).post(namespaces::create_namespace),
        )
        .route(
            &format!("{base}/namespaces/{{name}}"),
            get(namespaces::read_namespace)
                .put(namespaces::update_namespace)
                .delete(namespaces::delete_namespace),
        )
        .route(
            &format!("{base}/namespaces/{{name}}/instances"),
            get(instances::list_in).post(instances::create_in),
        )
        .route(
            &format!("{base}/namespaces/{{name}}/instances/{{id}}"),
            get(instances::read_in)
                .put(instances::update_in)
                .patch(instances::move_instance)
                .delete(instances::delete_in),
        )
        .route(
            &format!("{base}/namespaces/{{name}}/instances/{{id}}/stats"),
            get(instances::stats_in),
        )
}

pub(super) fn invalid(message: &str, path: &[&str]) -> Response {
    ai_err(StatusCode::BAD_REQUEST, 7001, message, path)
}

/// Not found, with the code and machine message Cloudflare uses for it.
pub(super) fn missing(what: &str) -> Response {
    let (code, message) = match what {
        "Instance" => (7002, "ai_search_not_found"),
        "Token" => (7075, "token_not_found"),
        "Namespace" => (7063, "namespace_not_found"),
        _ => (7404, "not_found"),
    };
    ai_err(StatusCode::NOT_FOUND, code, message, &[])
}

pub(super) fn object(body: &Bytes) -> Result<Map<String, Value>, Response> {
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(m)) => Ok(m),
        _ => Err(invalid("Malformed JSON body", &[])),
    }
}

#[derive(Deserialize)]
pub(super) struct PageQuery {
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

    /// A job's log lines: `per_page` up to 500.
    fn log_bounds(&self) -> Result<(u64, u64), Response> {
        let (page, per_page) = (self.page.unwrap_or(1), self.per_page.unwrap_or(20));
        if page < 1 {
            return Err(invalid("page must be at least 1", &["page"]));
        }
        if per_page > 500 {
            return Err(invalid("per_page must be between 0 and 500", &["per_page"]));
        }
        Ok((page, per_page.max(1)))
    }
}
