//! When two token descriptions mean the same thing to Cloudflare.
//!
//! The API answers policies and groups in its own order, bare IPs as /32,
//! timestamps in UTC and nested resources as re-serialised JSON. A read
//! keeps what the user wrote whenever it means the same, so refresh never
//! invents a diff; only a real change replaces it with the API's form.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value as Json;

use super::permission_groups::is_group_id;
use crate::cloudflare::models::{
    Condition, PermissionGroup, PermissionGroupRef, Policy, RequestIp,
};
use crate::cty::Value;
use crate::framework::Semantic;
use crate::validation::normalize_cidr;

/// A policy reduced to what Cloudflare compares.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct PolicyKey {
    effect: String,
    ids: BTreeSet<String>,
    resources: BTreeMap<String, String>,
}

/// JSON with sorted keys and no spaces: what `jsonencode` writes.
fn sorted(json: &Json) -> Json {
    match json {
        Json::Object(map) => {
            let ordered: BTreeMap<&String, Json> =
                map.iter().map(|(k, v)| (k, sorted(v))).collect();
            Json::Object(ordered.into_iter().map(|(k, v)| (k.clone(), v)).collect())
        }
        Json::Array(items) => Json::Array(items.iter().map(sorted).collect()),
        other => other.clone(),
    }
}

/// A `resources` value: `"*"` stays as it is; a JSON object (the nested
/// form) compares by content, whatever its key order or spacing.
pub(crate) fn canonical_resource_value(raw: &str) -> String {
    match serde_json::from_str::<Json>(raw) {
        Ok(json @ Json::Object(_)) => sorted(&json).to_string(),
        _ => raw.to_string(),
    }
}

fn resource_json(raw: &str) -> Json {
    match serde_json::from_str::<Json>(raw) {
        Ok(json @ Json::Object(_)) => json,
        _ => Json::String(raw.to_string()),
    }
}

pub(crate) fn resources_to_api(resources: &Value) -> serde_json::Map<String, Json> {
    resources
        .as_map()
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| v.as_str().map(|s| (k.clone(), resource_json(s))))
                .collect()
        })
        .unwrap_or_default()
}

fn resources_from_api(resources: &serde_json::Map<String, Json>) -> BTreeMap<String, Value> {
    resources
        .iter()
        .map(|(k, v)| {
            let text = match v {
                Json::String(s) => s.clone(),
                other => sorted(other).to_string(),
            };
            (k.clone(), Value::String(text))
        })
        .collect()
}

/// `None` while anything in the policy is unknown.
pub(crate) fn key_of_state(policy: &Value) -> Option<PolicyKey> {
    if !policy.is_wholly_known() {
        return None;
    }
    let ids = policy.get("permission_group_ids");
    if ids.is_null() {
        return None;
    }
    Some(PolicyKey {
        effect: policy.get("effect").as_str().unwrap_or("allow").to_string(),
        ids: ids.strings().into_iter().collect(),
        resources: policy
            .get("resources")
            .as_map()?
            .iter()
            .map(|(k, v)| {
                (
                    k.clone(),
                    canonical_resource_value(v.as_str().unwrap_or_default()),
                )
            })
            .collect(),
    })
}

pub(crate) fn key_of_api(policy: &Policy) -> PolicyKey {
    PolicyKey {
        effect: policy.effect.clone(),
        ids: policy
            .permission_groups
            .iter()
            .map(|g| g.id.clone())
            .collect(),
        resources: policy
            .resources
            .iter()
            .map(|(k, v)| {
                let text = match v {
                    Json::String(s) => s.clone(),
                    other => sorted(other).to_string(),
                };
                (k.clone(), text)
            })
            .collect(),
    }
}

fn sorted_keys(keys: impl IntoIterator<Item = Option<PolicyKey>>) -> Option<Vec<PolicyKey>> {
    let mut keys: Vec<PolicyKey> = keys.into_iter().collect::<Option<_>>()?;
    keys.sort();
    Some(keys)
}

/// The same policies, in any order.
pub(crate) fn same_policies(state: &[Value], api: &[Policy]) -> bool {
    let ours = sorted_keys(state.iter().map(key_of_state));
    let theirs = sorted_keys(api.iter().map(|p| Some(key_of_api(p))));
    ours.is_some() && ours == theirs
}

/// Two lists of state policies, in any order.
pub(crate) fn same_state_policies(a: &[Value], b: &[Value]) -> bool {
    let ka = sorted_keys(a.iter().map(key_of_state));
    ka.is_some() && ka == sorted_keys(b.iter().map(key_of_state))
}

pub(crate) fn policy_to_api(policy: &Value) -> Policy {
    Policy {
        id: None,
        effect: policy.get("effect").as_str().unwrap_or("allow").to_string(),
        permission_groups: policy
            .get("permission_group_ids")
            .strings()
            .into_iter()
            .map(|id| PermissionGroupRef { id, name: None })
            .collect(),
        resources: resources_to_api(policy.get("resources")),
    }
}

/// The API's policies as state, after a change made outside Terraform:
/// unchanged policies stay as written (and first, in their order); the
/// others are written with names where the configuration used names.
pub(crate) fn policies_from_api(
    api: &[Policy],
    prior: &[Value],
    catalog: &[PermissionGroup],
) -> Vec<Value> {
    let mut remaining: Vec<(PolicyKey, &Policy)> = api.iter().map(|p| (key_of_api(p), p)).collect();
    let mut out = Vec::new();
    for p in prior {
        if let Some(key) = key_of_state(p) {
            if let Some(pos) = remaining.iter().position(|(k, _)| *k == key) {
                remaining.remove(pos);
                out.push(p.clone());
            }
        }
    }
    let prior_uses_ids = !prior.is_empty()
        && prior.iter().all(|p| {
            p.get("permission_groups")
                .strings()
                .iter()
                .all(|g| is_group_id(g))
        });
    for (_, policy) in remaining {
        let groups: Vec<String> = policy
            .permission_groups
            .iter()
            .map(|g| {
                if prior_uses_ids {
                    return g.id.clone();
                }
                g.name
                    .clone()
                    .or_else(|| {
                        catalog
                            .iter()
                            .find(|c| c.id == g.id)
                            .map(|c| c.name.clone())
                    })
                    .unwrap_or_else(|| g.id.clone())
            })
            .collect();
        out.push(Value::object([
            ("effect", Value::string(&policy.effect)),
            ("permission_groups", Value::string_set(groups)),
            (
                "permission_group_ids",
                Value::string_set(policy.permission_groups.iter().map(|g| g.id.clone())),
            ),
            (
                "resources",
                Value::Map(resources_from_api(&policy.resources)),
            ),
        ]));
    }
    out
}

// ------------------------------------------------------------- condition

type CidrSets = (BTreeSet<String>, BTreeSet<String>);

fn normalized(items: &[String]) -> BTreeSet<String> {
    items
        .iter()
        .map(|c| normalize_cidr(c).unwrap_or_else(|| c.clone()))
        .collect()
}

/// `None` while unknown.
pub(crate) fn condition_key(condition: &Value) -> Option<CidrSets> {
    if !condition.is_wholly_known() {
        return None;
    }
    let ip = condition.get("request_ip");
    Some((
        normalized(&ip.get("in").strings()),
        normalized(&ip.get("not_in").strings()),
    ))
}

pub(crate) fn condition_key_api(condition: Option<&Condition>) -> CidrSets {
    let ip = condition
        .and_then(|c| c.request_ip.clone())
        .unwrap_or_default();
    (normalized(&ip.allowed), normalized(&ip.not_in))
}

pub(crate) fn condition_to_api(condition: &Value) -> Option<Condition> {
    let ip = condition.get("request_ip");
    if ip.is_null() {
        return None;
    }
    Some(Condition {
        request_ip: Some(RequestIp {
            allowed: ip.get("in").strings(),
            not_in: ip.get("not_in").strings(),
        }),
    })
}

/// The API's condition as state, keeping the written form (e.g. a bare IP)
/// of every entry that did not change.
pub(crate) fn condition_from_api(api: Option<&Condition>, prior: &Value) -> Value {
    let ip = api.and_then(|c| c.request_ip.clone()).unwrap_or_default();
    if ip.allowed.is_empty() && ip.not_in.is_empty() {
        return Value::Null;
    }
    let prior_ip = prior.get("request_ip");
    let list = |api_items: &[String], prior_items: Vec<String>| -> Value {
        if api_items.is_empty() {
            return Value::Null;
        }
        Value::string_set(api_items.iter().map(|c| {
            let n = normalize_cidr(c);
            prior_items
                .iter()
                .find(|p| normalize_cidr(p) == n)
                .cloned()
                .unwrap_or_else(|| c.clone())
        }))
    };
    Value::object([(
        "request_ip",
        Value::object([
            ("in", list(&ip.allowed, prior_ip.get("in").strings())),
            ("not_in", list(&ip.not_in, prior_ip.get("not_in").strings())),
        ]),
    )])
}

// ------------------------------------------------------------- timestamps

/// The same instant, whatever the offset it was written with.
pub(crate) fn same_instant(a: Option<&str>, b: Option<&str>) -> bool {
    match (a, b) {
        (None, None) => true,
        (Some(a), Some(b)) => Semantic::Instant.equivalent(a, b),
        _ => false,
    }
}

/// The prior string when it names the same instant as the API's.
pub(crate) fn time_from_api(api: Option<&str>, prior: &Value) -> Value {
    if same_instant(api, prior.as_str()) {
        prior.clone()
    } else {
        Value::opt_string(api)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn state_policy(
        effect: &str,
        groups: &[&str],
        ids: &[&str],
        resources: &[(&str, &str)],
    ) -> Value {
        Value::object([
            ("effect", Value::string(effect)),
            (
                "permission_groups",
                Value::string_set(groups.iter().copied()),
            ),
            (
                "permission_group_ids",
                Value::string_set(ids.iter().copied()),
            ),
            (
                "resources",
                Value::Map(
                    resources
                        .iter()
                        .map(|(k, v)| (k.to_string(), Value::string(*v)))
                        .collect(),
                ),
            ),
        ])
    }

    fn api_policy(effect: &str, ids: &[&str], resources: Json) -> Policy {
        Policy {
            id: Some("p".into()),
            effect: effect.into(),
            permission_groups: ids
                .iter()
                .map(|id| PermissionGroupRef {
                    id: id.to_string(),
                    name: Some(format!("name-{id}")),
                })
                .collect(),
            resources: resources.as_object().unwrap().clone(),
        }
    }

    #[test]
    fn order_and_json_spacing_do_not_matter() {
        let state = vec![
            state_policy(
                "allow",
                &["A", "B"],
                &["a", "b"],
                &[("acct", r#"{"x.*": "*", "b": "*"}"#)],
            ),
            state_policy("deny", &["C"], &["c"], &[("zone", "*")]),
        ];
        let api = vec![
            api_policy("deny", &["c"], json!({"zone": "*"})),
            api_policy(
                "allow",
                &["b", "a"],
                json!({"acct": {"b": "*", "x.*": "*"}}),
            ),
        ];
        assert!(same_policies(&state, &api));
        let changed = vec![
            api_policy("allow", &["a"], json!({"acct": {"b": "*", "x.*": "*"}})),
            api[0].clone(),
        ];
        assert!(!same_policies(&state, &changed));
    }

    #[test]
    fn a_read_keeps_unchanged_policies_and_names_new_ones() {
        let kept = state_policy(
            "allow",
            &["Workers R2 Storage Write"],
            &["bf7481a1826f439697cb59a20b22293e"],
            &[("acct", "*")],
        );
        let api = vec![
            api_policy("deny", &["c"], json!({"zone": {"z": "*"}})),
            api_policy(
                "allow",
                &["bf7481a1826f439697cb59a20b22293e"],
                json!({"acct": "*"}),
            ),
        ];
        let out = policies_from_api(&api, std::slice::from_ref(&kept), &[]);
        assert_eq!(out[0], kept, "the unchanged policy stays as written, first");
        assert_eq!(
            out[1].get("permission_groups"),
            &Value::string_set(["name-c"]),
            "names where the config used names"
        );
        assert_eq!(
            out[1].get("resources").as_map().unwrap()["zone"],
            Value::string(r#"{"z":"*"}"#)
        );
    }

    #[test]
    fn conditions_and_times_compare_by_meaning() {
        let state = Value::object([(
            "request_ip",
            Value::object([
                ("in", Value::string_set(["10.0.0.1"])),
                ("not_in", Value::Null),
            ]),
        )]);
        let api = Condition {
            request_ip: Some(RequestIp {
                allowed: vec!["10.0.0.1/32".into()],
                not_in: vec![],
            }),
        };
        assert_eq!(condition_key(&state), Some(condition_key_api(Some(&api))));
        assert_eq!(
            condition_from_api(Some(&api), &state),
            state,
            "the bare IP is kept"
        );
        assert!(same_instant(
            Some("2030-01-01T02:00:00+02:00"),
            Some("2030-01-01T00:00:00Z")
        ));
        assert!(!same_instant(
            Some("2030-01-01T02:00:00Z"),
            Some("2030-01-01T00:00:00Z")
        ));
        assert_eq!(
            time_from_api(
                Some("2030-01-01T00:00:00Z"),
                &Value::string("2030-01-01T01:00:00+01:00")
            ),
            Value::string("2030-01-01T01:00:00+01:00")
        );
    }
}
