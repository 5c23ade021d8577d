//! Masks secrets in JSON bodies before they reach a TRACE log line.

use serde_json::Value;

const SECRET_KEYS: [&str; 4] = ["value", "cf_api_key", "api_key", "secret_access_key"];

pub(crate) fn redacted(body: &Value) -> Value {
    match body {
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| {
                    let v = if SECRET_KEYS.contains(&k.as_str()) && !v.is_null() {
                        Value::from("<redacted>")
                    } else {
                        redacted(v)
                    };
                    (k.clone(), v)
                })
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(redacted).collect()),
        other => other.clone(),
    }
}

/// The roll endpoint answers with the bare new value as `result`.
pub(crate) fn redacted_envelope(body: &Value, result_is_secret: bool) -> Value {
    let mut masked = redacted(body);
    if result_is_secret {
        if let Some(result) = masked.get_mut("result") {
            *result = Value::from("<redacted>");
        }
    }
    masked
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_nested_secrets() {
        let body = serde_json::json!({"result": {"id": "a", "value": "s3cret", "policies": [{"cf_api_key": "k"}]}});
        let text = redacted(&body).to_string();
        assert!(
            !text.contains("s3cret") && !text.contains("\"k\""),
            "{text}"
        );
        assert!(text.contains("\"id\":\"a\""));
        let roll = serde_json::json!({"result": "newvalue"});
        assert!(!redacted_envelope(&roll, true)
            .to_string()
            .contains("newvalue"));
    }
}
