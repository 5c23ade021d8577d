//! Response envelopes: IAM style (`errors`/`messages` always present) and
//! AI Search style (`success` + `result`, errors may carry a `path`).

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
