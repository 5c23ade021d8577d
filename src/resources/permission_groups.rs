//! Permission groups by name: which scopes a policy's resources are in,
//! and turning a name (or id) into exactly one group id, with candidates
//! and "did you mean" when that is not possible.

use std::collections::BTreeSet;

use crate::cloudflare::models::PermissionGroup;
use crate::framework::{AttrPath, Diagnostic, Diagnostics};

pub(crate) const SCOPE_ACCOUNT: &str = "com.cloudflare.api.account";
pub(crate) const SCOPE_ZONE: &str = "com.cloudflare.api.account.zone";
pub(crate) const SCOPE_BUCKET: &str = "com.cloudflare.edge.r2.bucket";
pub(crate) const SCOPE_USER: &str = "com.cloudflare.api.user";

fn scope_of_key(key: &str) -> Option<&'static str> {
    if key.starts_with(SCOPE_ZONE) {
        Some(SCOPE_ZONE)
    } else if key.starts_with(SCOPE_BUCKET) {
        Some(SCOPE_BUCKET)
    } else if key.starts_with(SCOPE_USER) {
        Some(SCOPE_USER)
    } else if key.starts_with(SCOPE_ACCOUNT) {
        Some(SCOPE_ACCOUNT)
    } else {
        None
    }
}

/// Scopes of a policy's resources. A nested entry (`account → {zone.* = *}`)
/// is in the scope of its inner keys.
pub(crate) fn resource_scopes<'a>(
    resources: impl IntoIterator<Item = (&'a str, Option<&'a str>)>,
) -> BTreeSet<&'static str> {
    let mut scopes = BTreeSet::new();
    for (key, value) in resources {
        let nested = value.and_then(|v| {
            serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(v).ok()
        });
        match nested {
            Some(inner) => scopes.extend(inner.keys().filter_map(|k| scope_of_key(k))),
            None => scopes.extend(scope_of_key(key)),
        }
    }
    scopes
}

pub(crate) fn is_group_id(s: &str) -> bool {
    s.len() == 32 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

fn describe(g: &PermissionGroup) -> String {
    format!("{} ({}, {})", g.name, g.id, g.scopes.join(", "))
}

/// One entry of `permission_groups` to its id. `scopes` is `None` when the
/// policy's resources are not known yet.
pub(crate) fn resolve(
    groups: &[PermissionGroup],
    entry: &str,
    scopes: Option<&BTreeSet<&str>>,
) -> Result<Option<String>, String> {
    if is_group_id(entry) {
        if let Some(g) = groups.iter().find(|g| g.id.eq_ignore_ascii_case(entry)) {
            return Ok(Some(g.id.clone()));
        }
    }
    let mut candidates: Vec<&PermissionGroup> = groups.iter().filter(|g| g.name == entry).collect();
    if candidates.is_empty() {
        candidates = groups
            .iter()
            .filter(|g| g.name.eq_ignore_ascii_case(entry))
            .collect();
    }
    match candidates.len() {
        0 => Err(unknown_message(groups, entry)),
        1 => Ok(Some(candidates[0].id.clone())),
        _ => {
            let Some(scopes) = scopes else {
                // Decided once the resources are known, at apply.
                return Ok(None);
            };
            let in_scope: Vec<&&PermissionGroup> = candidates
                .iter()
                .filter(|g| g.scopes.iter().any(|s| scopes.contains(s.as_str())))
                .collect();
            if in_scope.len() == 1 {
                return Ok(Some(in_scope[0].id.clone()));
            }
            if candidates.iter().all(|g| g.scopes.is_empty()) {
                return Err(format!(
                    "{entry:?} names {} permission groups, told apart by their scopes, and GET /accounts/{{account_id}}/tokens/permission_groups answered without `scopes`. Use the group's id instead: {}.",
                    candidates.len(),
                    candidates.iter().map(|g| g.id.as_str()).collect::<Vec<_>>().join(", ")
                ));
            }
            let listed: Vec<String> = candidates.iter().map(|g| describe(g)).collect();
            Err(format!(
                "{entry:?} names {} permission groups and the policy's resources ({}) do not tell which one is meant:\n  {}\nUse the group's id instead, or scope the policy's resources to one of these scopes.",
                candidates.len(),
                if scopes.is_empty() { "no recognised scope".to_string() } else { scopes.iter().cloned().collect::<Vec<_>>().join(", ") },
                listed.join("\n  ")
            ))
        }
    }
}

fn unknown_message(groups: &[PermissionGroup], entry: &str) -> String {
    let suggestions = closest(groups, entry, 3);
    let mut message = if is_group_id(entry) {
        format!("No permission group has the id {entry:?} in this account.")
    } else {
        format!("No permission group is named {entry:?} in this account.")
    };
    if !suggestions.is_empty() {
        message.push_str("\nDid you mean:\n  ");
        message.push_str(
            &suggestions
                .iter()
                .map(|g| describe(g))
                .collect::<Vec<_>>()
                .join("\n  "),
        );
    }
    message.push_str(
        "\nThe data source cfai_permission_groups lists every group with its id and scopes.",
    );
    message
}

/// The closest names by edit distance (case-insensitive), substring matches first.
pub(crate) fn closest<'a>(
    groups: &'a [PermissionGroup],
    entry: &str,
    n: usize,
) -> Vec<&'a PermissionGroup> {
    let needle = entry.to_lowercase();
    let mut scored: Vec<(usize, &PermissionGroup)> = groups
        .iter()
        .map(|g| {
            let name = g.name.to_lowercase();
            let distance = levenshtein(&needle, &name);
            let score = if name.contains(&needle) || needle.contains(&name) {
                distance.min(2)
            } else {
                distance
            };
            (score, g)
        })
        .filter(|(score, _)| *score <= (needle.len() / 3).max(3))
        .collect();
    scored.sort_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.name.cmp(&b.1.name)));
    scored.into_iter().take(n).map(|(_, g)| g).collect()
}

pub(crate) fn levenshtein(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for j in 0..b.len() {
            let cost = usize::from(ca != b[j]);
            let next = (row[j + 1] + 1).min(row[j] + 1).min(prev + cost);
            prev = row[j + 1];
            row[j + 1] = next;
        }
    }
    row[b.len()]
}

// ------------------------------------------------- with Terraform values

/// The ids of one policy's groups from its (known) entries; `scopes` is
/// `None` while the policy's resources are unknown. `None` while an entry
/// needs those scopes; errors (unknown or ambiguous names) are reported on
/// `path`'s `permission_groups`.
pub(crate) fn resolve_entries(
    groups: &[PermissionGroup],
    entries: impl IntoIterator<Item = String>,
    scopes: Option<&BTreeSet<&'static str>>,
    path: Option<&AttrPath>,
    diags: &mut Diagnostics,
) -> Option<BTreeSet<String>> {
    let mut ids = BTreeSet::new();
    let mut pending = false;
    for entry in entries {
        match resolve(groups, &entry, scopes) {
            Ok(Some(id)) => {
                ids.insert(id);
            }
            Ok(None) => pending = true,
            Err(message) => {
                let d = Diagnostic::error("Unknown or ambiguous permission group", message);
                diags.push(match path {
                    Some(p) => d.at(p.clone().attr("permission_groups")),
                    None => d,
                });
            }
        }
    }
    (!pending).then_some(ids)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn catalog() -> Vec<PermissionGroup> {
        serde_json::from_str(include_str!("../emulator/permission-groups.json")).unwrap()
    }

    #[test]
    fn names_and_ids_resolve() {
        let groups = catalog();
        let none = BTreeSet::new();
        assert_eq!(
            resolve(&groups, "Workers R2 Storage Write", Some(&none))
                .unwrap()
                .unwrap(),
            "bf7481a1826f439697cb59a20b22293e"
        );
        assert_eq!(
            resolve(&groups, "workers r2 storage write", Some(&none))
                .unwrap()
                .unwrap(),
            "bf7481a1826f439697cb59a20b22293e"
        );
        assert_eq!(
            resolve(&groups, "BF7481A1826F439697CB59A20B22293E", Some(&none))
                .unwrap()
                .unwrap(),
            "bf7481a1826f439697cb59a20b22293e"
        );
    }

    #[test]
    fn ambiguous_names_resolve_by_scope() {
        let groups = catalog();
        let account = resource_scopes([("com.cloudflare.api.account.0123", Some("*"))]);
        assert_eq!(
            resolve(&groups, "Logs Read", Some(&account))
                .unwrap()
                .unwrap(),
            "6a315a56f18441e59ed03352369ae956"
        );
        let zones = resource_scopes([(
            "com.cloudflare.api.account.0123",
            Some(r#"{"com.cloudflare.api.account.zone.*":"*"}"#),
        )]);
        assert_eq!(
            resolve(&groups, "Logs Read", Some(&zones))
                .unwrap()
                .unwrap(),
            "c4a30cd58c5d42619c86a3c36c441e2d"
        );
        let both = account.union(&zones).cloned().collect();
        let err = resolve(&groups, "Logs Read", Some(&both)).unwrap_err();
        assert!(
            err.contains("6a315a56f18441e59ed03352369ae956")
                && err.contains("c4a30cd58c5d42619c86a3c36c441e2d"),
            "{err}"
        );
        assert!(err.contains("com.cloudflare.api.account.zone"), "{err}");
        assert_eq!(
            resolve(&groups, "Logs Read", None).unwrap(),
            None,
            "unknown resources: decided later"
        );
    }

    #[test]
    fn unknown_names_suggest_close_ones() {
        let groups = catalog();
        let err = resolve(&groups, "Workers R2 Storage Writ", Some(&BTreeSet::new())).unwrap_err();
        assert!(
            err.contains("Did you mean")
                && err.contains("Workers R2 Storage Write (bf7481a1826f439697cb59a20b22293e"),
            "{err}"
        );
        let err = resolve(
            &groups,
            "00000000000000000000000000000000",
            Some(&BTreeSet::new()),
        )
        .unwrap_err();
        assert!(err.contains("No permission group has the id"), "{err}");
    }

    #[test]
    fn bucket_keys_are_bucket_scoped() {
        let scopes =
            resource_scopes([("com.cloudflare.edge.r2.bucket.abc_default_logs", Some("*"))]);
        assert_eq!(scopes, BTreeSet::from([SCOPE_BUCKET]));
    }
}
