//! What every resource file does the same way, written once: the client
//! and the owning account, import ids, an API failure as a diagnostic, a
//! 404 on read as "gone" and on delete as "done", and the state an API
//! answer gives.

use serde::Serialize;

use crate::cloudflare::{ApiError, Client};
use crate::context::{api_error, Configured};
use crate::cty::Value;
use crate::framework::{mapping, Attr, Diagnostic, Diagnostics, PlanChange, Schema, Validator};
use crate::validation::is_account_id;

/// The schema of a registered type, built once, and its cty type:
/// `known_schema()` and `known_type()` on the type (reads, plans and
/// mappings consult them for every object, and building a schema
/// allocates every attribute). `cached_schema!(AiSearchNamespace, Resource)`.
macro_rules! cached_schema {
    ($ty:ident, $kind:ident) => {
        impl $ty {
            fn known_schema(&self) -> &'static $crate::framework::Schema {
                static SCHEMA: std::sync::OnceLock<$crate::framework::Schema> =
                    std::sync::OnceLock::new();
                SCHEMA.get_or_init(|| {
                    $crate::framework::$kind::<$crate::context::Configured>::schema(&$ty)
                })
            }

            #[allow(dead_code)]
            fn known_type(&self) -> &'static $crate::cty::Type {
                static TYPE: std::sync::OnceLock<$crate::cty::Type> = std::sync::OnceLock::new();
                TYPE.get_or_init(|| self.known_schema().cty_type())
            }
        }
    };
}
pub(crate) use cached_schema;

/// The value of a typed model (an error diagnostic if it does not fit).
pub(crate) fn to_state<M: Serialize>(
    model: &M,
    ty: &crate::cty::Type,
    diags: &mut Diagnostics,
) -> Option<Value> {
    capture(diags, crate::framework::model::to_value(model, ty))
}

/// The account an object lives in: its own, else the provider's.
pub(crate) fn account_of(
    data: &Configured,
    account: Option<&str>,
    diags: &mut Diagnostics,
) -> Option<String> {
    match account {
        Some(a) => Some(a.to_string()),
        None => capture(diags, data.account_id(&Value::Null)),
    }
}

/// What every API call of a resource starts with: the client (an error
/// without credentials) and the object's account (its own, else the
/// provider's).
pub(crate) fn session<'a>(
    data: &'a Configured,
    account: Option<&str>,
    diags: &mut Diagnostics,
) -> Option<(&'a Client, String)> {
    let client = capture(diags, data.client())?;
    Some((client, account_of(data, account, diags)?))
}

/// An API failure as an error diagnostic; `None` for the caller to return.
pub(crate) fn failed<T>(summary: &str, error: &ApiError, diags: &mut Diagnostics) -> Option<T> {
    diags.push(api_error(summary, error));
    None
}

/// A read's outcome: the object, or `None` when it is gone (a 404) or the
/// read failed (with an error saying so).
pub(crate) fn found<T>(
    result: Result<T, ApiError>,
    summary: &str,
    diags: &mut Diagnostics,
) -> Option<T> {
    match result {
        Ok(v) => Some(v),
        Err(e) if e.is_not_found() => None,
        Err(e) => failed(summary, &e, diags),
    }
}

/// `base` updated with what an API answer says, through the schema's API
/// declarations (attributes the answer leaves out keep their value).
/// `what` names the answer's kind, `object` the thing itself.
pub(crate) fn from_answer<T: Serialize>(
    schema: &Schema,
    base: &Value,
    answer: &T,
    (what, object): (&str, &str),
    diags: &mut Diagnostics,
) -> Option<Value> {
    let mut state = base.clone();
    let mapped = serde_json::to_value(answer)
        .map_err(|e| e.to_string())
        .and_then(|json| {
            mapping::update_from_api(&schema.attributes, &mut state, &json)
                .map_err(|e| e.to_string())
        });
    match mapped {
        Ok(()) => Some(state),
        Err(e) => {
            diags.error(
                format!("Unexpected {what} from the API"),
                format!("The {object} could not be read: {e}."),
            );
            None
        }
    }
}

/// The typed model a value holds (an error diagnostic if it does not fit).
pub(crate) fn capture_model<M: serde::de::DeserializeOwned>(
    value: &Value,
    diags: &mut Diagnostics,
) -> Option<M> {
    capture(diags, crate::framework::model::get(value))
}

pub(crate) fn capture<T>(diags: &mut Diagnostics, result: Result<T, Diagnostic>) -> Option<T> {
    result.map_err(|d| diags.push(d)).ok()
}

pub(crate) const ACCOUNT_ID: Validator = Validator::Regex(
    "^[0-9a-fA-F]{32}$",
    "an account id: 32 hexadecimal characters",
);

/// AI Search instance ids and namespace names.
pub(crate) const AI_SEARCH_NAME: Validator = Validator::Regex(
    "^[a-z0-9_]+(?:-[a-z0-9_]+)*$",
    "lowercase letters, digits and underscores, in groups joined by single hyphens",
);

/// The account attribute every resource has: read and written alone.
#[derive(Serialize, serde::Deserialize)]
struct AccountPart {
    account_id: Attr<String>,
}

/// Plans `account_id`: the resource's own, else the provider's (an error
/// when there is neither); left alone while the configured one is unknown.
pub(crate) fn plan_account(
    data: &Configured,
    change: &mut PlanChange,
    ty: &crate::cty::Type,
    diags: &mut Diagnostics,
) {
    let Some(configured) = capture_model::<AccountPart>(&change.config, diags) else {
        return;
    };
    if configured.account_id.is_unknown() {
        return;
    }
    if let Some(account) = account_of(data, configured.account_id.as_str(), diags) {
        let planned = AccountPart {
            account_id: Attr::Known(account),
        };
        capture(
            diags,
            crate::framework::model::put(&planned, &mut change.planned, ty),
        );
    }
}

/// A delete's outcome: an object already gone counts as deleted.
pub(crate) fn deleted(result: Result<(), ApiError>, summary: &str, diags: &mut Diagnostics) {
    match result {
        Ok(()) => {}
        Err(e) if e.is_not_found() => {}
        Err(e) => diags.push(api_error(summary, &e)),
    }
}

/// The account and parts of an import id (see [`split_import_id`]), or an
/// error that says which forms are accepted.
pub(crate) fn import_id(
    data: &Configured,
    id: &str,
    required: usize,
    optional: usize,
    forms: &str,
    diags: &mut Diagnostics,
) -> Option<(String, Vec<String>)> {
    let default_account = data.account_id(&Value::Null).ok();
    let parsed = split_import_id(id, required, optional, default_account.as_deref());
    if parsed.is_none() {
        diags.error(
            "Invalid import id",
            format!("Expected {forms}, got {id:?}."),
        );
    }
    parsed
}

/// An import id of `<account_id>/<part>[/<part>…]`, or the parts alone
/// with the provider's account: the account and `parts` non-empty pieces
/// (the last `optional` of which may be left out), else `None`.
pub fn split_import_id(
    id: &str,
    required: usize,
    optional: usize,
    default_account: Option<&str>,
) -> Option<(String, Vec<String>)> {
    let pieces: Vec<&str> = id.split('/').collect();
    if pieces.iter().any(|p| p.is_empty()) {
        return None;
    }
    let fits = |n: usize| n >= required && n <= required + optional;
    let (account, rest) = match pieces.split_first() {
        Some((first, rest)) if is_account_id(first) && fits(rest.len()) => {
            (first.to_string(), rest)
        }
        _ if fits(pieces.len()) => (default_account?.to_string(), &pieces[..]),
        _ => return None,
    };
    Some((account, rest.iter().map(|s| s.to_string()).collect()))
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: &str = "0123456789abcdef0123456789abcdef";

    #[test]
    fn import_ids() {
        assert_eq!(
            split_import_id(&format!("{A}/x"), 1, 0, None),
            Some((A.into(), vec!["x".into()]))
        );
        assert_eq!(
            split_import_id("x", 1, 0, Some(A)),
            Some((A.into(), vec!["x".into()]))
        );
        assert_eq!(split_import_id("x", 1, 0, None), None);
        assert_eq!(
            split_import_id(&format!("{A}/ns/x"), 1, 1, None),
            Some((A.into(), vec!["ns".into(), "x".into()]))
        );
        assert_eq!(split_import_id(&format!("{A}//x"), 1, 1, None), None);
        assert_eq!(split_import_id("a/b/c", 1, 0, Some(A)), None);
    }
}
