//! R2 temporary access credentials: scoped to one bucket, derived from an
//! active R2-capable token of the account, recorded with their scope.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::post;
use axum::Router;
use serde_json::{json, Value};

use super::reply::{iam_err, iam_ok};
use super::validate::{format_timestamp, parse_timestamp};
use super::App;

pub fn routes() -> Router<App> {
    Router::new().route(
        "/accounts/{account_id}/r2/temp-access-credentials",
        post(create_temp_credentials),
    )
}

const PERMISSIONS: [&str; 4] = [
    "admin-read-write",
    "admin-read-only",
    "object-read-write",
    "object-read-only",
];

/// Whether a stored token is usable now (active, not expired).
pub(crate) fn is_active(token: &Value) -> bool {
    let now = chrono::Utc::now();
    token["status"].as_str().unwrap_or("active") == "active"
        && token["expires_on"]
            .as_str()
            .and_then(parse_timestamp)
            .is_none_or(|t| t > now)
        && token["not_before"]
            .as_str()
            .and_then(parse_timestamp)
            .is_none_or(|t| t <= now)
}

async fn create_temp_credentials(
    State(app): State<App>,
    Path(account): Path<String>,
    body: Bytes,
) -> Response {
    let Ok(Value::Object(body)) = serde_json::from_slice::<Value>(&body) else {
        return iam_err(StatusCode::BAD_REQUEST, 10001, "Malformed JSON body");
    };
    let text = |k: &str| {
        body.get(k)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string()
    };
    let (bucket, parent, permission) = (
        text("bucket"),
        text("parentAccessKeyId"),
        text("permission"),
    );
    if bucket.is_empty() {
        return iam_err(StatusCode::BAD_REQUEST, 10002, "bucket is required");
    }
    if !PERMISSIONS.contains(&permission.as_str()) {
        return iam_err(StatusCode::BAD_REQUEST, 10003, "permission is not valid");
    }
    let ttl = body
        .get("ttlSeconds")
        .and_then(Value::as_f64)
        .unwrap_or(-1.0);
    if !(1.0..=604800.0).contains(&ttl) || ttl.fract() != 0.0 {
        return iam_err(
            StatusCode::BAD_REQUEST,
            10004,
            "ttlSeconds must be between 1 and 604800",
        );
    }
    let parent_ok = app
        .world()
        .tokens
        .get(&parent)
        .is_some_and(|t| t.account == account && is_active(&t.token));
    if !parent_ok {
        return iam_err(
            StatusCode::BAD_REQUEST,
            10005,
            "parentAccessKeyId is not an active API token of this account",
        );
    }
    let expires = chrono::Utc::now() + chrono::Duration::seconds(ttl as i64);
    let secret = hex::encode(rand::random::<[u8; 32]>());
    let session = base64::Engine::encode(
        &base64::engine::general_purpose::STANDARD,
        rand::random::<[u8; 48]>(),
    );
    let digest = |s: &str| hex::encode(<sha2::Sha256 as sha2::Digest>::digest(s.as_bytes()));
    let record = json!({
        // Digests only: tests can check what was handed out, nothing can reuse it.
        "secret_sha256": digest(&secret), "session_token_sha256": digest(&session),
        "account": account, "bucket": bucket, "parent_access_key_id": parent,
        "permission": permission, "ttl_seconds": ttl as u64,
        "prefixes": body.get("prefixes").cloned().unwrap_or(Value::Null),
        "objects": body.get("objects").cloned().unwrap_or(Value::Null),
        "expires_at": format_timestamp(expires),
    });
    let mut world = app.world();
    world.temp_credentials.push(record);
    app.persist(&world);
    iam_ok(json!({ "accessKeyId": parent, "secretAccessKey": secret, "sessionToken": session }))
}
