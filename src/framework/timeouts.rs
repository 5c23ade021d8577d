//! The `timeouts { create = "2m" delete = "5m" }` block other providers
//! offer, as a declared single-nesting block of Go-style durations.

use std::time::Duration;

use super::rules::Validator;
use super::schema::{Attribute, Block};
use crate::cty::{Attr, Value};
use crate::validation::parse_go_duration;

fn go_duration(value: &Value) -> Result<(), String> {
    match value.as_str() {
        Some(s) => parse_go_duration(s)
            .map(|_| ())
            .map_err(|e| format!("{s:?} is not a duration such as \"30s\" or \"2m\": {e}")),
        None => Ok(()),
    }
}

/// A `timeouts` block with one optional duration per operation; each
/// `(operation, default)` documents its default.
pub fn block(operations: &[(&str, &str)]) -> Block {
    Block::single(
        "timeouts",
        operations
            .iter()
            .map(|(op, default)| {
                Attribute::string(op)
                    .optional()
                    .validate(Validator::Custom(go_duration))
                    .describe(&format!(
                        "How long {op} may take, as a duration such as \"30s\" or \"5m\" (default \"{default}\")."
                    ))
            })
            .collect(),
    )
    .describe("Bounds on how long operations may wait.")
}

/// The block in a typed model: operation → configured duration (unknown
/// while a plan does not know it). A map, since each resource offers its
/// own operations (the schema fixes which).
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(transparent)]
pub struct Timeouts(std::collections::BTreeMap<String, Attr<String>>);

impl Timeouts {
    /// The configured timeout for `operation`, else `default`.
    pub fn of(timeouts: &Attr<Timeouts>, operation: &str, default: Duration) -> Duration {
        timeouts
            .known()
            .and_then(|t| t.0.get(operation)?.as_str())
            .and_then(|s| parse_go_duration(s).ok())
            .unwrap_or(default)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::framework::rules::{validate, ClientCapabilities};
    use crate::framework::{Diagnostics, Schema};

    #[test]
    fn durations_are_read_and_validated_on_their_path() {
        let schema = Schema::new("t").block(block(&[("create", "2m"), ("delete", "5m")]));
        let config = Value::object([(
            "timeouts",
            Value::object([
                ("create", Value::string("90s")),
                ("delete", Value::string("soon")),
            ]),
        )]);
        let timeouts: Attr<Timeouts> =
            crate::framework::model::get(config.get("timeouts")).unwrap();
        assert_eq!(
            Timeouts::of(&timeouts, "create", Duration::from_secs(1)),
            Duration::from_secs(90)
        );
        assert_eq!(
            Timeouts::of(&Attr::Null, "create", Duration::from_secs(7)),
            Duration::from_secs(7)
        );
        let mut d = Diagnostics::new();
        validate(
            &schema.attributes,
            &schema.blocks,
            &config,
            ClientCapabilities::default(),
            &mut d,
        );
        let errs: Vec<_> = d
            .iter()
            .map(|x| x.path.clone().unwrap().to_string())
            .collect();
        assert_eq!(errs, vec!["timeouts.delete"]);
        assert!(schema.lint().is_empty(), "{:?}", schema.lint());
    }
}
