//! What the list types (`terraform query`) share: their arguments, the
//! filters they apply to a listing, and the order results come in.
//!
//! A list answers from the same per-account listings that batched refresh
//! reads (see `context`), so listing N objects costs about N / page size
//! requests, and reading each listed object costs nothing more.

use crate::cloudflare::ApiError;
use crate::context::api_error;
use crate::cty::Value;
use crate::framework::{Attribute, Diagnostics, Schema, Validator};

use super::common::ACCOUNT_ID;

/// A list type's schema: `what` it lists, then its arguments (all optional).
pub(crate) fn list_schema(what: &str, arguments: Vec<Attribute>) -> Schema {
    arguments
        .into_iter()
        .fold(Schema::new(what), |schema, a| schema.attribute(a))
}

/// `account_id`: the account to list in.
pub(crate) fn account_argument() -> Attribute {
    Attribute::string("account_id")
        .optional()
        .validate(ACCOUNT_ID)
        .describe("The account to list in (32 hex). Defaults to the provider's.")
}

/// `name`: a part of the name to look for.
pub(crate) fn name_argument(noun: &str) -> Attribute {
    Attribute::string("name")
        .optional()
        .validate(Validator::Length { min: 1, max: 256 })
        .describe(&format!(
            "Only the {noun}s whose name contains this text (letter case ignored)."
        ))
}

/// `status`: a token status to keep.
pub(crate) fn status_argument() -> Attribute {
    Attribute::string("status")
        .optional()
        .validate(Validator::OneOf(&["active", "disabled", "expired"]))
        .describe("Only the tokens with this status: `active`, `disabled` or `expired`.")
}

/// The filters of a list block, as configured.
pub(crate) struct Filter {
    name: Option<String>,
    status: Option<String>,
}

impl Filter {
    pub(crate) fn of(config: &Value) -> Filter {
        Filter {
            name: config.get_opt("name").as_str().map(str::to_lowercase),
            status: config.get_opt("status").as_str().map(str::to_string),
        }
    }

    /// Whether an object with this name and status is listed.
    pub(crate) fn keeps(&self, name: Option<&str>, status: Option<&str>) -> bool {
        let named = match &self.name {
            Some(part) => name.is_some_and(|n| n.to_lowercase().contains(part)),
            None => true,
        };
        let in_status = match &self.status {
            Some(wanted) => status == Some(wanted.as_str()),
            None => true,
        };
        named && in_status
    }
}

/// Import ids in a stable order (by name, then by id), at most `limit`.
pub(crate) struct Found {
    items: Vec<(String, String)>,
}

impl Found {
    pub(crate) fn new() -> Found {
        Found { items: Vec::new() }
    }

    pub(crate) fn add(&mut self, name: &str, import_id: String) {
        self.items.push((name.to_string(), import_id));
    }

    pub(crate) fn ordered(mut self, limit: usize) -> Vec<String> {
        self.items.sort();
        self.items
            .into_iter()
            .take(limit)
            .map(|(_, id)| id)
            .collect()
    }
}

/// A listing that failed, as the one error of the list.
pub(crate) fn listing_failed(what: &str, error: &ApiError, diags: &mut Diagnostics) -> Vec<String> {
    diags.push(api_error(&format!("Could not list the {what}"), error));
    Vec::new()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_by_name_part_ignoring_case_and_by_status() {
        let config = Value::object([
            ("name", Value::string("CI")),
            ("status", Value::string("active")),
        ]);
        let filter = Filter::of(&config);
        assert!(filter.keeps(Some("deploy-ci-1"), Some("active")));
        assert!(!filter.keeps(Some("deploy-ci-1"), Some("disabled")));
        assert!(!filter.keeps(Some("deploy"), Some("active")));
        assert!(!filter.keeps(None, Some("active")));
        let all = Filter::of(&Value::object([
            ("name", Value::Null),
            ("status", Value::Null),
        ]));
        assert!(all.keeps(None, None));
    }

    #[test]
    fn results_come_by_name_then_id_up_to_the_limit() {
        let mut found = Found::new();
        found.add("b", "2".into());
        found.add("a", "9".into());
        found.add("a", "1".into());
        assert_eq!(found.ordered(2), vec!["1".to_string(), "9".to_string()]);
    }
}
