//! How the emulator shapes its successful answers: exactly as the contract
//! says (`strict`, the default), or `extended` the way a newer Cloudflare
//! might answer: a property the contract does not know on every object in
//! `result`, and an instance `status` the contract does not list. A client
//! must ignore the first and store the second as sent.

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AnswerMode {
    #[default]
    Strict,
    Extended,
}

impl std::str::FromStr for AnswerMode {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "strict" => Ok(AnswerMode::Strict),
            "extended" => Ok(AnswerMode::Extended),
            other => Err(format!(
                "unknown answer mode {other:?} (strict or extended)"
            )),
        }
    }
}

/// The property an extended answer adds to each object it returns.
pub const EXTENSION: &str = "cfai_emulator_future_field";
/// The instance status an extended answer reports.
pub const FUTURE_STATUS: &str = "reindexing";

/// The successful answer `body` (JSON) as `mode` shapes it.
pub(crate) fn shape(mode: AnswerMode, route: &str, body: Vec<u8>) -> Vec<u8> {
    if mode == AnswerMode::Strict {
        return body;
    }
    let Ok(mut json) = serde_json::from_slice::<Value>(&body) else {
        return body;
    };
    let instance = route.contains("/instances") && !route.ends_with("/stats");
    match json.get_mut("result") {
        Some(Value::Object(object)) => extend(object, instance),
        Some(Value::Array(items)) => items
            .iter_mut()
            .filter_map(Value::as_object_mut)
            .for_each(|o| extend(o, instance)),
        _ => return body,
    }
    serde_json::to_vec(&json).unwrap_or(body)
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
