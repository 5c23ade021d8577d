//! What the list types (`terraform query`) share: their arguments, the
//! filters they apply to a listing, and the order results come in.
//!
//! A list walks its listing a page at a time, sending each object it keeps
//! as its page arrives, and stops asking for pages once it has `limit`:
//! listing N objects costs about N / page size requests. Each object it
//! sends is primed for the read that follows (see `context`), which then
//! costs nothing more.

use serde::de::DeserializeOwned;

use crate::cloudflare::{ApiError, Pages};
use crate::context::api_error;
use crate::cty::Value;
use crate::framework::{Attribute, Diagnostics, ListSink, Schema, Validator};

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

/// Walks `pages`, sending the import id `pick` gives for each item it
/// keeps, until the listing ends or `sink` has enough. `false` when it
/// stopped before the end (enough, or a failure, reported).
pub(crate) async fn send_pages<T: DeserializeOwned>(
    mut pages: Pages<'_, T>,
    what: &str,
    sink: &ListSink,
    diags: &mut Diagnostics,
    mut pick: impl FnMut(&T) -> Option<String>,
) -> bool {
    loop {
        match pages.next_page().await {
            Ok(Some(items)) => {
                for item in &items {
                    if let Some(import_id) = pick(item) {
                        if !sink.found(import_id).await {
                            return false;
                        }
                    }
                }
            }
            Ok(None) => return true,
            Err(e) => {
                diags.push(api_error(&format!("Could not list the {what}"), &e));
                return false;
            }
        }
    }
}

/// A listing that failed, as the one error of the list.
pub(crate) fn listing_failed(what: &str, error: &ApiError, diags: &mut Diagnostics) {
    diags.push(api_error(&format!("Could not list the {what}"), error));
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
}
