//! What every resource file does the same way: the owning account at plan
//! time, import ids, and turning results into diagnostics.

use crate::cloudflare::ApiError;
use crate::context::{api_error, Configured};
use crate::cty::Value;
use crate::framework::{Diagnostic, Diagnostics, PlanChange, Validator};
use crate::validation::is_account_id;

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

/// Plans `account_id` (the resource's own, else the provider's); `None`
/// while it is unknown or when it cannot be had (with an error).
pub(crate) fn plan_account(
    data: &Configured,
    change: &mut PlanChange,
    diags: &mut Diagnostics,
) -> Option<String> {
    if change.config.get("account_id").is_unknown() {
        return None;
    }
    let account = capture(diags, data.account_id(change.config.get("account_id")))?;
    change.set("account_id", Value::string(&account));
    Some(account)
}

/// The account of an existing object: its state's, else the provider's.
pub(crate) fn state_account(
    data: &Configured,
    state: &Value,
    diags: &mut Diagnostics,
) -> Option<String> {
    match state.get("account_id").as_str() {
        Some(a) => Some(a.to_string()),
        None => capture(diags, data.account_id(&Value::Null)),
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
