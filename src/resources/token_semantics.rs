//! When two token descriptions mean the same thing to Cloudflare.
//!
//! The API answers policies and groups in its own order, bare IPs as /32,
//! timestamps in UTC and nested resources as re-serialised JSON. A read
//! keeps what the user wrote whenever it means the same, so refresh never
//! invents a diff; only a real change replaces it with the API's form.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value as Json;

use super::permission_groups::is_group_id;
use super::token_model::{
    known_strings, string_set, ConditionModel, PolicyModel, RequestIpModel, Strings,
};
use crate::cloudflare::models::{Condition, PermissionGroup, Policy};
use crate::framework::{Attr, Semantic};
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

/// A policy's resources as the API takes them: `"*"`, or the nested form
/// as a JSON object.
pub(crate) fn resources_json<'a>(
    resources: impl IntoIterator<Item = (&'a str, &'a str)>,
) -> serde_json::Map<String, Json> {
    resources
        .into_iter()
        .map(|(k, v)| (k.to_string(), resource_json(v)))
        .collect()
}

fn resources_from_api(resources: &serde_json::Map<String, Json>) -> BTreeMap<String, Attr<String>> {
    resources
        .iter()
        .map(|(k, v)| {
            let text = match v {
                Json::String(s) => s.clone(),
                other => sorted(other).to_string(),
            };
            (k.clone(), Attr::Known(text))
        })
        .collect()
}

impl PolicyKey {
    fn new<'a>(
        effect: Option<&str>,
        ids: impl IntoIterator<Item = &'a str>,
        resources: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> PolicyKey {
        PolicyKey {
            effect: effect.unwrap_or("allow").to_string(),
            ids: ids.into_iter().map(str::to_string).collect(),
            resources: resources
                .into_iter()
                .map(|(k, v)| (k.to_string(), canonical_resource_value(v)))
                .collect(),
        }
    }
}

impl PolicyModel {
    /// What Cloudflare compares; `None` while anything in the policy is
    /// unknown, or its ids or resources are not set.
    pub(crate) fn key(&self) -> Option<PolicyKey> {
        if !self.decided() {
            return None;
        }
        Some(PolicyKey::new(
            self.effect.as_str(),
            self.permission_group_ids
                .known()?
                .iter()
                .filter_map(Attr::as_str),
            self.resources
                .known()?
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str().unwrap_or_default())),
        ))
    }
}

/// A policy's key, as a list element that may itself be unknown.
pub(crate) fn key_of(policy: &Attr<PolicyModel>) -> Option<PolicyKey> {
    policy.known()?.key()
}

/// Two lists of policies the same to Cloudflare, in any order.
pub(crate) fn same_policy_models(a: &[Attr<PolicyModel>], b: &[Attr<PolicyModel>]) -> bool {
    let ka = sorted_keys(a.iter().map(key_of));
    ka.is_some() && ka == sorted_keys(b.iter().map(key_of))
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
pub(crate) fn same_policies(state: &[Attr<PolicyModel>], api: &[Policy]) -> bool {
    let ours = sorted_keys(state.iter().map(key_of));
    ours.is_some() && ours == sorted_keys(api.iter().map(|p| Some(key_of_api(p))))
}

/// Two lists of API policies, in any order.
pub(crate) fn same_api_policies(a: &[Policy], b: &[Policy]) -> bool {
    sorted_keys(a.iter().map(|p| Some(key_of_api(p))))
        == sorted_keys(b.iter().map(|p| Some(key_of_api(p))))
}

/// Two lists of policy keys the same, in any order (none unknown).
pub(crate) fn same_keys(a: &[Option<PolicyKey>], b: &[Option<PolicyKey>]) -> bool {
    let ka = sorted_keys(a.iter().cloned());
    ka.is_some() && ka == sorted_keys(b.iter().cloned())
}

/// The API's policies as state, after a change made outside Terraform:
/// unchanged policies stay as written (and first, in their order); the
/// others are written with names where the configuration used names.
pub(crate) fn policies_from_api(
    api: &[Policy],
    prior: &[Attr<PolicyModel>],
    catalog: &[PermissionGroup],
) -> Vec<Attr<PolicyModel>> {
    let mut remaining: Vec<(PolicyKey, &Policy)> = api.iter().map(|p| (key_of_api(p), p)).collect();
    let mut out = Vec::new();
    for p in prior {
        if let Some(key) = key_of(p) {
            if let Some(pos) = remaining.iter().position(|(k, _)| *k == key) {
                remaining.remove(pos);
                out.push(p.clone());
            }
        }
    }
    let prior_uses_ids = !prior.is_empty()
        && prior.iter().all(|p| {
            p.known()
                .is_none_or(|p| known_strings(&p.permission_groups).all(is_group_id))
        });
    for (_, policy) in remaining {
        let groups = policy.permission_groups.iter().map(|g| {
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
        });
        out.push(Attr::Known(PolicyModel {
            effect: Attr::Known(policy.effect.clone()),
            permission_groups: Attr::Known(string_set(groups)),
            permission_group_ids: Attr::Known(string_set(
                policy.permission_groups.iter().map(|g| g.id.clone()),
            )),
            resources: Attr::Known(resources_from_api(&policy.resources)),
        }));
    }
    out
}

// ------------------------------------------------------------- condition

pub(crate) type CidrSets = (BTreeSet<String>, BTreeSet<String>);

fn normalized(items: &[String]) -> BTreeSet<String> {
    items
        .iter()
        .map(|c| normalize_cidr(c).unwrap_or_else(|| c.clone()))
        .collect()
}

impl ConditionModel {
    /// The CIDR sets Cloudflare compares (empty when there is no condition).
    pub(crate) fn key(condition: &Attr<ConditionModel>) -> CidrSets {
        let ip = condition.known().and_then(|c| c.request_ip.known());
        let set = |items: Option<&Strings>| {
            normalized(
                &items
                    .into_iter()
                    .flat_map(known_strings)
                    .map(str::to_string)
                    .collect::<Vec<_>>(),
            )
        };
        (set(ip.map(|ip| &ip.allowed)), set(ip.map(|ip| &ip.not_in)))
    }
}

pub(crate) fn condition_key_api(condition: Option<&Condition>) -> CidrSets {
    let ip = condition
        .and_then(|c| c.request_ip.clone())
        .unwrap_or_default();
    (normalized(&ip.allowed), normalized(&ip.not_in))
}

/// The API's condition as state, keeping the written form (e.g. a bare IP)
/// of every entry that did not change.
pub(crate) fn condition_from_api(
    api: Option<&Condition>,
    prior: &Attr<ConditionModel>,
) -> Attr<ConditionModel> {
    let ip = api.and_then(|c| c.request_ip.clone()).unwrap_or_default();
    if ip.allowed.is_empty() && ip.not_in.is_empty() {
        return Attr::Null;
    }
    let prior_ip = prior.known().and_then(|c| c.request_ip.known());
    let list = |api_items: &[String], prior_items: Option<&Strings>| {
        if api_items.is_empty() {
            return Attr::Null;
        }
        let written: Vec<&str> = prior_items.into_iter().flat_map(known_strings).collect();
        Attr::Known(string_set(api_items.iter().map(|c| {
            let n = normalize_cidr(c);
            written
                .iter()
                .find(|p| normalize_cidr(p) == n)
                .map_or_else(|| c.clone(), |p| p.to_string())
        })))
    };
    Attr::Known(ConditionModel {
        request_ip: Attr::Known(RequestIpModel {
            allowed: list(&ip.allowed, prior_ip.map(|ip| &ip.allowed)),
            not_in: list(&ip.not_in, prior_ip.map(|ip| &ip.not_in)),
        }),
    })
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
pub(crate) fn time_from_api(api: Option<&str>, prior: &Attr<String>) -> Attr<String> {
    if same_instant(api, prior.as_str()) {
        prior.clone()
    } else {
        api.map(str::to_string).into()
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use crate::cloudflare::models::{PermissionGroupRef, RequestIp};
    use crate::cty::Value;
    use crate::framework::model;

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
        let state = [
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
        let state: Vec<Attr<PolicyModel>> = state.iter().map(|p| model::get(p).unwrap()).collect();
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
        let kept: Attr<PolicyModel> = model::get(&kept).unwrap();
        let out = policies_from_api(&api, std::slice::from_ref(&kept), &[]);
        assert_eq!(out[0], kept, "the unchanged policy stays as written, first");
        let new = out[1].known().unwrap();
        assert_eq!(
            known_strings(&new.permission_groups).collect::<Vec<_>>(),
            ["name-c"],
            "names where the config used names"
        );
        assert_eq!(
            new.resources.known().unwrap()["zone"].as_str(),
            Some(r#"{"z":"*"}"#)
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
        let state: Attr<ConditionModel> = model::get(&state).unwrap();
        assert_eq!(ConditionModel::key(&state), condition_key_api(Some(&api)));
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
                &Attr::Known("2030-01-01T01:00:00+01:00".to_string())
            ),
            Attr::Known("2030-01-01T01:00:00+01:00".to_string())
        );
    }
}
