//! Wire shapes of the resources this provider manages.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::secret::Secret;

/// An account-owned API token. The contract marks every property optional;
/// only `id` (and `value` where one is due) cannot be done without.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Token {
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issued_on: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub modified_on: Option<String>,
    #[serde(default)]
    pub last_used_on: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_before: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_on: Option<String>,
    /// `None` when the answer left them out (not the same as none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policies: Option<Vec<Policy>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub condition: Option<Condition>,
    /// Only create and roll return it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<Secret>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Policy {
    /// Server-generated; never sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    pub effect: String,
    pub permission_groups: Vec<PermissionGroupRef>,
    /// Resource key → `"*"`, or → an object of resource key → `"*"`.
    pub resources: Map<String, Value>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct PermissionGroupRef {
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

/// `{"request_ip": {...}}`; the older `request.ip` spelling is read too.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Condition {
    #[serde(default, alias = "request.ip", skip_serializing_if = "Option::is_none")]
    pub request_ip: Option<RequestIp>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct RequestIp {
    #[serde(rename = "in", default, skip_serializing_if = "Vec::is_empty")]
    pub allowed: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub not_in: Vec<String>,
}

/// Body of token create (`POST`) and update (`PUT`, a full replace).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct TokenRequest {
    pub name: String,
    pub policies: Vec<Policy>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub condition: Option<Condition>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_before: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_on: Option<String>,
    /// Update only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct PermissionGroup {
    pub id: String,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default)]
    pub scopes: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct TokenVerification {
    pub id: String,
    pub status: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_on: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_before: Option<String>,
}

/// A service token registered with AI Search. `cf_api_key` never comes back.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct AiSearchToken {
    pub id: String,
    pub name: String,
    pub cf_api_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub legacy: Option<bool>,
    #[serde(default)]
    pub created_at: Option<String>,
    #[serde(default)]
    pub modified_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_by: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub modified_by: Option<String>,
}

/// Body of AI Search token create and update (all of it, every time).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct AiSearchTokenRequest {
    pub name: String,
    pub cf_api_id: String,
    pub cf_api_key: Secret,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub legacy: Option<bool>,
}

/// An AI Search instance: the fields the provider reasons about by name,
/// and the many configuration fields as they came.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Instance {
    pub id: String,
    #[serde(flatten)]
    pub fields: Map<String, Value>,
}

impl Instance {
    pub fn field(&self, name: &str) -> Option<&Value> {
        self.fields.get(name).filter(|v| !v.is_null())
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Namespace {
    pub name: String,
    /// `None` when the answer left it out; `Some(None)` when it said null.
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    pub description: Option<Option<String>>,
    #[serde(flatten)]
    pub fields: Map<String, Value>,
}

/// A property that is there, even as null: `Some(None)`, where an absent
/// one stays `None` (serde's `default`).
fn present<'de, T, D>(deserializer: D) -> Result<Option<T>, D::Error>
where
    T: Deserialize<'de>,
    D: serde::Deserializer<'de>,
{
    T::deserialize(deserializer).map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn an_absent_description_is_not_a_null_one() {
        let absent: Namespace =
            serde_json::from_value(json!({"name": "n", "created_at": "t"})).unwrap();
        assert_eq!(absent.description, None);
        assert!(serde_json::to_value(&absent)
            .unwrap()
            .get("description")
            .is_none());
        let null: Namespace =
            serde_json::from_value(json!({"name": "n", "description": null, "created_at": "t"}))
                .unwrap();
        assert_eq!(null.description, Some(None));
        assert_eq!(
            serde_json::to_value(&null).unwrap()["description"],
            json!(null)
        );
    }
}

/// An AI Search sync job. It has ended once `ended_at` is set; Cloudflare
/// documents no `end_reason` values, so any is reported as it came.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Job {
    pub id: String,
    #[serde(default)]
    pub source: Option<String>,
    #[serde(default)]
    pub started_at: Option<String>,
    #[serde(default)]
    pub ended_at: Option<String>,
    #[serde(default)]
    pub end_reason: Option<String>,
}

/// A line of a sync job's log.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct JobLog {
    pub id: i64,
    pub message: String,
    #[serde(default)]
    pub message_type: Option<i64>,
}
