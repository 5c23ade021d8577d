//! The typed models of API tokens: the policies and condition that the
//! account token resource and the ephemeral token share, and what each
//! becomes in the API's request.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use super::permission_groups::{resolve_entries, resource_scopes};
use super::token_semantics::{resources_json, same_instant, same_policy_models};
use crate::cloudflare::models::{
    Condition, PermissionGroup, PermissionGroupRef, Policy, RequestIp, Token, TokenRequest,
};
use crate::context::Configured;
use crate::framework::model::Attr;
use crate::framework::{AttrPath, Diagnostics};
use crate::r2::{r2_s3_endpoint, s3_secret_access_key};
use crate::secret::Secret;

/// A set or list of strings as Terraform may hold it (elements may be null).
pub(crate) type Strings = Vec<Option<String>>;

fn known(items: &[Option<String>]) -> impl Iterator<Item = String> + '_ {
    items.iter().flatten().cloned()
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct PolicyModel {
    pub effect: Attr<String>,
    pub permission_groups: Option<Strings>,
    pub permission_group_ids: Attr<Strings>,
    pub resources: Option<BTreeMap<String, Option<String>>>,
}

impl PolicyModel {
    /// Resolves `permission_groups` (names or ids) to
    /// `permission_group_ids`; errors go on `path`.
    pub fn resolve(
        &mut self,
        groups: &[PermissionGroup],
        path: &AttrPath,
        diags: &mut Diagnostics,
    ) {
        let resources = self.resources.clone().unwrap_or_default();
        let scopes: BTreeSet<&'static str> =
            resource_scopes(resources.iter().map(|(k, v)| (k.as_str(), v.as_deref())));
        let entries =
            known(self.permission_groups.as_deref().unwrap_or_default()).collect::<Vec<_>>();
        self.permission_group_ids =
            match resolve_entries(groups, entries, Some(&scopes), Some(path), diags) {
                Some(ids) => Attr::Known(ids.into_iter().map(Some).collect()),
                None => Attr::Unknown,
            };
    }

    pub fn to_api(&self) -> Policy {
        Policy {
            id: None,
            effect: self.effect.as_str().unwrap_or("allow").to_string(),
            permission_groups: known(self.permission_group_ids.known().map_or(&[][..], |v| v))
                .map(|id| PermissionGroupRef { id, name: None })
                .collect(),
            resources: resources_json(
                self.resources
                    .iter()
                    .flatten()
                    .filter_map(|(k, v)| Some((k.as_str(), v.as_deref()?))),
            ),
        }
    }
}

/// Ids left unknown at plan time (resources not known then) are resolved
/// now, when everything is known.
pub(crate) async fn resolve_at_apply(
    data: &Configured,
    account: &str,
    policies: &mut [PolicyModel],
    diags: &mut Diagnostics,
) -> Option<()> {
    if policies
        .iter()
        .all(|p| !p.permission_group_ids.is_unknown())
    {
        return Some(());
    }
    let groups = data
        .permission_groups(account)
        .await
        .map_err(|d| diags.push(d))
        .ok()?;
    for (i, policy) in policies.iter_mut().enumerate() {
        if policy.permission_group_ids.is_unknown() {
            policy.resolve(&groups, &AttrPath::root("policies").index(i), diags);
        }
    }
    (!diags.has_errors()).then_some(())
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ConditionModel {
    pub request_ip: Option<RequestIpModel>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RequestIpModel {
    #[serde(rename = "in")]
    pub allowed: Option<Strings>,
    pub not_in: Option<Strings>,
}

impl ConditionModel {
    pub fn to_api(condition: &Option<ConditionModel>) -> Option<Condition> {
        let ip = condition.as_ref()?.request_ip.as_ref()?;
        let all = |items: &Option<Strings>| known(items.as_deref().unwrap_or_default()).collect();
        Some(Condition {
            request_ip: Some(RequestIp {
                allowed: all(&ip.allowed),
                not_in: all(&ip.not_in),
            }),
        })
    }
}

#[derive(Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct AccountTokenModel {
    pub account_id: Attr<String>,
    /// Null only in the skeleton an import starts from.
    pub name: Option<String>,
    pub policies: Option<Vec<PolicyModel>>,
    pub condition: Option<ConditionModel>,
    pub not_before: Option<String>,
    pub expires_on: Option<String>,
    pub status: Attr<String>,
    pub rotation_triggers: Option<BTreeMap<String, Option<String>>>,
    pub id: Attr<String>,
    pub value: Attr<Secret>,
    pub access_key_id: Attr<String>,
    pub secret_access_key: Attr<Secret>,
    pub s3_endpoint: Attr<String>,
    pub issued_on: Attr<String>,
    pub modified_on: Attr<String>,
    pub last_used_on: Attr<String>,
}

impl AccountTokenModel {
    /// Whether the API would see a difference between the two (policy
    /// order, CIDR and instant spellings do not count; a status not yet
    /// decided does not either).
    pub fn differs_for_api(&self, other: &AccountTokenModel) -> bool {
        let policies = |t: &AccountTokenModel| t.policies.clone().unwrap_or_default();
        self.name != other.name
            || !same_policy_models(&policies(self), &policies(other))
            || ConditionModel::key(&self.condition) != ConditionModel::key(&other.condition)
            || !same_instant(self.not_before.as_deref(), other.not_before.as_deref())
            || !same_instant(self.expires_on.as_deref(), other.expires_on.as_deref())
            || (other.status.known().is_some() && self.status != other.status)
    }

    /// The create or update request (`status` on update only).
    pub fn request(&self, status: Option<String>) -> TokenRequest {
        TokenRequest {
            name: self.name.clone().unwrap_or_default(),
            policies: self
                .policies
                .iter()
                .flatten()
                .map(PolicyModel::to_api)
                .collect(),
            condition: ConditionModel::to_api(&self.condition),
            not_before: self.not_before.clone(),
            expires_on: self.expires_on.clone(),
            status,
        }
    }

    /// The attributes only the API sets, from its answer. A `status` the
    /// answer leaves out keeps its last known value (null if there is
    /// none): a token always has one, so its absence says nothing. The
    /// timestamps hold only what the API returned.
    pub fn fill_computed(&mut self, token: &Token, account: &str) {
        self.id = Attr::Known(token.id.clone());
        self.access_key_id = Attr::Known(token.id.clone());
        self.account_id = Attr::Known(account.to_string());
        self.s3_endpoint = Attr::Known(r2_s3_endpoint(account, "default"));
        if let Some(status) = &token.status {
            self.status = Attr::Known(status.clone());
        } else if self.status.is_unknown() {
            self.status = Attr::Null;
        }
        self.issued_on = token.issued_on.clone().into();
        self.modified_on = token.modified_on.clone().into();
        self.last_used_on = token.last_used_on.clone().into();
    }

    /// The token's value and the S3 secret derived from it (both null
    /// when the value is not known).
    pub fn set_value(&mut self, value: Option<&Secret>) {
        self.value = value.cloned().into();
        self.secret_access_key = value
            .map(|v| Secret::new(s3_secret_access_key(v.expose())))
            .into();
    }
}
