//! Response envelopes: IAM style (`errors`/`messages` always present) and
//! AI Search style (`success` + `result`, errors may carry a `path`).

use axum::body::Bytes;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};

pub(crate) fn iam_ok(result: Value) -> Response {
    Json(json!({ "success": true, "errors": [], "messages": [], "result": result })).into_response()
}

pub(crate) fn iam_list(result: Vec<Value>, page: u64, per_page: u64, total: usize) -> Response {
    let count = result.len();
    Json(json!({
        "success": true, "errors": [], "messages": [], "result": result,
        "result_info": { "page": page, "per_page": per_page, "count": count, "total_count": total },
    }))
    .into_response()
}

pub(crate) fn iam_err(status: StatusCode, code: i64, message: &str) -> Response {
    let body = json!({ "success": false, "errors": [{ "code": code, "message": message }], "messages": [], "result": null });
    (status, Json(body)).into_response()
}

pub(crate) fn ai_ok(status: StatusCode, result: Value) -> Response {
    (status, Json(json!({ "success": true, "result": result }))).into_response()
}

pub(crate) fn ai_list(result: Vec<Value>, page: u64, per_page: u64, total: usize) -> Response {
    let count = result.len();
    Json(json!({
        "success": true, "result": result,
        "result_info": { "page": page, "per_page": per_page, "count": count, "total_count": total },
    }))
    .into_response()
}

/// A 400 "Input Validation Error" names the offending field in `path`.
pub(crate) fn ai_err(status: StatusCode, code: i64, message: &str, path: &[&str]) -> Response {
    let mut error = json!({ "code": code, "message": message });
    if status == StatusCode::BAD_REQUEST {
        error["path"] = json!(path);
    }
    (status, Json(json!({ "success": false, "errors": [error] }))).into_response()
}

/// Page `page` of `items`, with the query's bounds enforced by the caller.
pub(crate) fn paginate(items: Vec<Value>, page: u64, per_page: u64) -> (Vec<Value>, usize) {
    let total = items.len();
    let start = ((page.max(1) - 1) * per_page) as usize;
    (
        items
            .into_iter()
            .skip(start)
            .take(per_page as usize)
            .collect(),
        total,
    )
}

/// AI Search operations whose 400 errors carry `path` in the contract; the
/// others' errors are `{code, message}` only.
const ERRORS_WITH_PATH: [(&str, &str); 9] = [
    ("GET", "/accounts/{account_id}/ai-search/namespaces"),
    ("POST", "/accounts/{account_id}/ai-search/namespaces"),
    ("GET", "/accounts/{account_id}/ai-search/tokens"),
    ("GET", "/accounts/{account_id}/ai-search/tokens/{id}"),
    ("DELETE", "/accounts/{account_id}/ai-search/tokens/{id}"),
    (
        "POST",
        "/accounts/{account_id}/ai-search/instances/{id}/jobs",
    ),
    (
        "POST",
        "/accounts/{account_id}/ai-search/namespaces/{name}/instances/{id}/jobs",
    ),
    (
        "GET",
        "/accounts/{account_id}/ai-search/instances/{id}/jobs/{job_id}/logs",
    ),
    (
        "GET",
        "/accounts/{account_id}/ai-search/namespaces/{name}/instances/{id}/jobs/{job_id}/logs",
    ),
];

/// A 400 answer shaped as the operation's contract says: `path` dropped
/// from its errors where the operation does not declare it.
pub(crate) fn shape_error(method: &str, route: &str, status: u16, body: Bytes) -> Bytes {
    if status != 400
        || !route.contains("/ai-search/")
        || ERRORS_WITH_PATH.contains(&(method, route))
    {
        return body;
    }
    let Ok(mut json) = serde_json::from_slice::<Value>(&body) else {
        return body;
    };
    let Some(errors) = json.get_mut("errors").and_then(Value::as_array_mut) else {
        return body;
    };
    for error in errors.iter_mut().filter_map(Value::as_object_mut) {
        error.remove("path");
    }
    serde_json::to_vec(&json).map(Bytes::from).unwrap_or(body)
}
