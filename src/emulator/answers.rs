//! How the emulator shapes its successful answers: exactly as the contract
//! says (`strict`, the default); `extended` the way a newer Cloudflare
//! might answer: a property the contract does not know on every object in
//! `result`, and an instance `status` the contract does not list (a client
//! must ignore the first and store the second as sent); or sparse, leaving
//! out what the contract marks optional (see [`super::sparse`]): every such
//! property at once (`sparse`), or one property of one operation (`omit`).

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use std::sync::atomic::{AtomicU64, Ordering};

use super::sparse;

/// As JSON (the admin route's body): `{"mode": "strict"}`, `"extended"`,
/// `"sparse"`, or `{"mode": "omit", "operation": "GET /accounts/{account_id}/tokens",
/// "property": "/result/*/name"}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "mode", rename_all = "lowercase", deny_unknown_fields)]
pub enum AnswerMode {
    #[default]
    Strict,
    Extended,
    Sparse,
    Omit {
        operation: String,
        property: String,
    },
}

impl std::str::FromStr for AnswerMode {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "strict" => Ok(AnswerMode::Strict),
            "extended" => Ok(AnswerMode::Extended),
            "sparse" => Ok(AnswerMode::Sparse),
            other => Err(format!(
                "unknown answer mode {other:?} (strict, extended or sparse)"
            )),
        }
    }
}

/// The property an extended answer adds to each object it returns.
pub const EXTENSION: &str = "cfai_emulator_future_field";
/// The instance status an extended answer reports.
pub const FUTURE_STATUS: &str = "reindexing";

/// The successful answer `body` (JSON) to `method route` as `mode` shapes
/// it. `omitted` counts the answers an `omit` mode took its property from.
pub(crate) fn shape(
    mode: &AnswerMode,
    method: &str,
    route: &str,
    status: u16,
    body: Vec<u8>,
    omitted: &AtomicU64,
) -> Vec<u8> {
    if *mode == AnswerMode::Strict {
        return body;
    }
    let Ok(mut json) = serde_json::from_slice::<Value>(&body) else {
        return body;
    };
    let operation = format!("{method} {route}");
    match mode {
        AnswerMode::Sparse => sparse::all(&operation, status, &mut json),
        AnswerMode::Omit {
            operation: target,
            property,
        } if *target == operation => {
            if sparse::omit(property, &mut json) {
                omitted.fetch_add(1, Ordering::Relaxed);
            }
        }
        AnswerMode::Omit { .. } => return body,
        _ => extend_answer(route, &mut json),
    }
    serde_json::to_vec(&json).unwrap_or(body)
}

fn extend_answer(route: &str, json: &mut Value) {
    let instance = route.contains("/instances") && !route.ends_with("/stats");
    match json.get_mut("result") {
        Some(Value::Object(object)) => extend(object, instance),
        Some(Value::Array(items)) => items
            .iter_mut()
            .filter_map(Value::as_object_mut)
            .for_each(|o| extend(o, instance)),
        _ => {}
    }
}

/// Only the top level of each object: nested maps (a policy's resources)
/// are data whose every key means something.
fn extend(object: &mut serde_json::Map<String, Value>, instance: bool) {
    if object.is_empty() {
        return;
    }
    object.insert(
        EXTENSION.into(),
        json!({ "added_by": "a newer API", "values": [1, 2] }),
    );
    if instance && object.get("status").is_some_and(Value::is_string) {
        object.insert("status".into(), json!(FUTURE_STATUS));
    }
}
