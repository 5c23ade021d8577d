//! The typed models of API tokens: the policies and condition that the
//! token resources (account and user owned) and the ephemeral tokens share,
//! who owns a token, and what each becomes in the API's request.
//!
//! One model serves configuration, plan and state: at plan time any value,
//! at any depth, may be unknown, so every attribute and every element is an
//! [`Attr`].

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use super::permission_groups::{resolve_entries, resource_scopes};
use super::token_semantics::{resources_json, same_instant, same_policy_models};
use crate::cloudflare::models::{
    Condition, PermissionGroup, PermissionGroupRef, Policy, RequestIp, Token, TokenRequest,
};
use crate::cloudflare::tokens::TokenOwner;
use crate::context::Configured;
use crate::framework::model::Attr;
use crate::framework::{AttrPath, Diagnostics};
use crate::r2::{r2_s3_endpoint, s3_secret_access_key};
use crate::secret::Secret;

/// A set or list of strings, any element of which may be null or unknown.
pub(crate) type Strings = Attr<Vec<Attr<String>>>;

/// A map of strings, any value of which may be null or unknown.
pub(crate) type StringMap = Attr<BTreeMap<String, Attr<String>>>;

/// The known, non-null elements.
pub(crate) fn known_strings(items: &Strings) -> impl Iterator<Item = &str> {
    items.known().into_iter().flatten().filter_map(Attr::as_str)
}

/// Nothing in it unknown (null counts as known).
pub(crate) fn strings_decided(items: &Strings) -> bool {
    !items.is_unknown()
        && items
            .known()
            .is_none_or(|v| v.iter().all(|s| !s.is_unknown()))
}

/// Nothing in it unknown (null counts as known).
pub(crate) fn map_decided(map: &StringMap) -> bool {
    !map.is_unknown()
        && map
            .known()
            .is_none_or(|m| m.values().all(|v| !v.is_unknown()))
}

/// The known entries whose values are known and not null.
pub(crate) fn known_entries(map: &StringMap) -> impl Iterator<Item = (&str, &str)> {
    map.known()
        .into_iter()
        .flatten()
        .filter_map(|(k, v)| Some((k.as_str(), v.as_str()?)))
}

/// Known strings, each once, as a set's elements.
pub(crate) fn string_set(items: impl IntoIterator<Item = String>) -> Vec<Attr<String>> {
    let mut out: Vec<Attr<String>> = Vec::new();
    for item in items.into_iter().map(Attr::Known) {
        if !out.contains(&item) {
            out.push(item);
        }
    }
    out
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct PolicyModel {
    pub effect: Attr<String>,
    pub permission_groups: Strings,
    pub permission_group_ids: Strings,
    pub resources: StringMap,
}

impl PolicyModel {
    /// Nothing in the policy unknown.
    pub fn decided(&self) -> bool {
        !self.effect.is_unknown()
            && strings_decided(&self.permission_groups)
            && strings_decided(&self.permission_group_ids)
            && map_decided(&self.resources)
    }

    /// Resolves `permission_groups` (names or ids) to
    /// `permission_group_ids`, as far as can be told: unknown until every
    /// entry (and, for names in several scopes, the resources) is known.
    /// Errors go on `path`.
    pub fn resolve(
        &mut self,
        groups: &[PermissionGroup],
        path: &AttrPath,
        diags: &mut Diagnostics,
    ) {
        if self.permission_groups.is_null() || !strings_decided(&self.permission_groups) {
            self.permission_group_ids = Attr::Unknown;
            return;
        }
        let scopes: Option<BTreeSet<&'static str>> = map_decided(&self.resources).then(|| {
            resource_scopes(
                self.resources
                    .known()
                    .into_iter()
                    .flatten()
                    .map(|(k, v)| (k.as_str(), v.as_str())),
            )
        });
        let entries = known_strings(&self.permission_groups).map(str::to_string);
        self.permission_group_ids =
            match resolve_entries(groups, entries, scopes.as_ref(), Some(path), diags) {
                Some(ids) => Attr::Known(ids.into_iter().map(Attr::Known).collect()),
                None => Attr::Unknown,
            };
    }

    pub fn to_api(&self) -> Policy {
        Policy {
            id: None,
            effect: self.effect.as_str().unwrap_or("allow").to_string(),
            permission_groups: known_strings(&self.permission_group_ids)
                .map(|id| PermissionGroupRef {
                    id: id.to_string(),
                    name: None,
                })
                .collect(),
            resources: resources_json(known_entries(&self.resources)),
        }
    }
}

/// Ids left unknown at plan time (resources not known then) are resolved
/// now, when everything is known.
pub(crate) async fn resolve_at_apply(
    data: &Configured,
    owner: TokenOwner<'_>,
    policies: &mut [Attr<PolicyModel>],
    diags: &mut Diagnostics,
) -> Option<()> {
    let pending = |p: &Attr<PolicyModel>| {
        p.known()
            .is_some_and(|p| p.permission_group_ids.is_unknown())
    };
    if !policies.iter().any(pending) {
        return Some(());
    }
    let groups = data
        .permission_groups(owner)
        .await
        .map_err(|d| diags.push(d))
        .ok()?;
    for (i, policy) in policies.iter_mut().enumerate() {
        if let Attr::Known(policy) = policy {
            if policy.permission_group_ids.is_unknown() {
                policy.resolve(&groups, &AttrPath::root("policies").index(i), diags);
            }
        }
    }
    (!diags.has_errors()).then_some(())
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ConditionModel {
    pub request_ip: Attr<RequestIpModel>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RequestIpModel {
    #[serde(rename = "in")]
    pub allowed: Strings,
    pub not_in: Strings,
}

impl ConditionModel {
    pub fn to_api(condition: &Attr<ConditionModel>) -> Option<Condition> {
        let ip = condition.known()?.request_ip.known()?;
        let all = |items: &Strings| known_strings(items).map(str::to_string).collect();
        Some(Condition {
            request_ip: Some(RequestIp {
                allowed: all(&ip.allowed),
                not_in: all(&ip.not_in),
            }),
        })
    }
}

/// Which kind of owner a token resource's tokens have.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum OwnerKind {
    Account,
    User,
}

/// The owner of one token, as the provider resolved it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Owner {
    Account(String),
    /// The user the provider authenticates as. The provider's account, if
    /// it has one, gives the R2 endpoint the token's S3 credentials serve.
    User {
        endpoint_account: Option<String>,
    },
}

impl Owner {
    /// The owner as the API client names it.
    pub fn api(&self) -> TokenOwner<'_> {
        match self {
            Owner::Account(account) => TokenOwner::Account(account),
            Owner::User { .. } => TokenOwner::User,
        }
    }

    /// The account whose R2 endpoint the S3 credentials are for.
    pub fn endpoint_account(&self) -> Option<&str> {
        match self {
            Owner::Account(account) => Some(account),
            Owner::User { endpoint_account } => endpoint_account.as_deref(),
        }
    }

    pub fn s3_endpoint(&self) -> Attr<String> {
        self.endpoint_account()
            .map(|a| r2_s3_endpoint(a, "default"))
            .into()
    }
}

/// A token resource's whole model. The user-owned token has no
/// `account_id`: it is `None` there, and `Some` (of any value) for an
/// account-owned token.
#[derive(Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct TokenModel {
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    pub account_id: Option<Attr<String>>,
    pub name: Attr<String>,
    pub policies: Attr<Vec<Attr<PolicyModel>>>,
    pub condition: Attr<ConditionModel>,
    pub not_before: Attr<String>,
    pub expires_on: Attr<String>,
    pub status: Attr<String>,
    pub rotation_triggers: StringMap,
    pub id: Attr<String>,
    pub value: Attr<Secret>,
    pub access_key_id: Attr<String>,
    pub secret_access_key: Attr<Secret>,
    pub s3_endpoint: Attr<String>,
    pub issued_on: Attr<String>,
    pub modified_on: Attr<String>,
    pub last_used_on: Attr<String>,
}

/// A member the type has, whatever its value (null included).
pub(crate) fn present<'de, D, T>(d: D) -> Result<Option<Attr<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    Attr<T>: Deserialize<'de>,
{
    Attr::<T>::deserialize(d).map(Some)
}

impl TokenModel {
    /// The configured account (null for a user-owned token).
    pub fn account(&self) -> Option<&str> {
        self.account_id.as_ref().and_then(Attr::as_str)
    }

    /// The policies (none when null or unknown).
    pub fn policy_list(&self) -> &[Attr<PolicyModel>] {
        self.policies.known().map_or(&[], |p| p)
    }

    /// Whether the API would see a difference between the two (policy
    /// order, CIDR and instant spellings do not count; a status not yet
    /// decided does not either).
    pub fn differs_for_api(&self, other: &TokenModel) -> bool {
        self.name != other.name
            || !same_policy_models(self.policy_list(), other.policy_list())
            || ConditionModel::key(&self.condition) != ConditionModel::key(&other.condition)
            || !same_instant(self.not_before.as_str(), other.not_before.as_str())
            || !same_instant(self.expires_on.as_str(), other.expires_on.as_str())
            || (other.status.known().is_some() && self.status != other.status)
    }

    /// The create or update request (`status` on update only).
    pub fn request(&self, status: Option<String>) -> TokenRequest {
        TokenRequest {
            name: self.name.as_str().unwrap_or_default().to_string(),
            policies: self
                .policy_list()
                .iter()
                .filter_map(Attr::known)
                .map(PolicyModel::to_api)
                .collect(),
            condition: ConditionModel::to_api(&self.condition),
            not_before: self.not_before.known().cloned(),
            expires_on: self.expires_on.known().cloned(),
            status,
        }
    }

    /// The attributes only the API sets, from its answer. A `status` the
    /// answer leaves out keeps its last known value (null if there is
    /// none): a token always has one, so its absence says nothing. The
    /// timestamps hold only what the API returned.
    pub fn fill_computed(&mut self, token: &Token, owner: &Owner) {
        self.id = Attr::Known(token.id.clone());
        self.access_key_id = Attr::Known(token.id.clone());
        if let Owner::Account(account) = owner {
            self.account_id = Some(Attr::Known(account.clone()));
        }
        self.s3_endpoint = owner.s3_endpoint();
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
