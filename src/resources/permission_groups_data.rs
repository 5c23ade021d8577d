//! Data source `cfai_permission_groups`: the account's permission groups,
//! filtered by name substring and scope, with a name → id map.

use std::collections::BTreeMap;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use super::common::{account_of, cached_schema, capture, capture_model, to_state};
use crate::cloudflare::models::PermissionGroup;
use crate::context::Configured;
use crate::cty::{Type, Value};
use crate::framework::model::{self, Attr};
use crate::framework::{Attribute, DataSource, Diagnostics, Nesting, Schema, Validator};

pub struct PermissionGroups;

cached_schema!(PermissionGroups, DataSource);

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct PermissionGroupsModel {
    account_id: Attr<String>,
    name: Option<String>,
    scope: Option<String>,
    groups: Attr<Vec<GroupModel>>,
    ids: Attr<BTreeMap<String, String>>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct GroupModel {
    id: String,
    name: String,
    description: Option<String>,
    scopes: Vec<String>,
}

impl From<&PermissionGroup> for GroupModel {
    fn from(g: &PermissionGroup) -> Self {
        GroupModel {
            id: g.id.clone(),
            name: g.name.clone(),
            description: g.description.clone(),
            scopes: g.scopes.clone(),
        }
    }
}

fn group_attributes() -> Vec<Attribute> {
    vec![
        Attribute::string("id")
            .computed()
            .describe("The permission group id (32 hex)."),
        Attribute::string("name")
            .computed()
            .describe("The group's name."),
        Attribute::string("description")
            .computed()
            .describe("What the group grants."),
        Attribute::new("scopes", Type::list(Type::String))
            .computed()
            .describe("The resource scopes the group applies to."),
    ]
}

#[async_trait]
impl DataSource<Configured> for PermissionGroups {
    fn type_name(&self) -> &'static str {
        "cfai_permission_groups"
    }

    fn schema(&self) -> Schema {
        let group = group_attributes();
        Schema::new("The permission groups an account's API tokens can use, by name and scope.")
            .attribute(
                Attribute::string("account_id")
                    .optional()
                    .computed()
                    .validate(Validator::Regex(
                        "^[0-9a-fA-F]{32}$",
                        "an account id: 32 hexadecimal characters",
                    ))
                    .describe("The account; defaults to the provider's."),
            )
            .attribute(
                Attribute::string("name")
                    .optional()
                    .describe("Keep groups whose name contains this text (case-insensitive)."),
            )
            .attribute(
                Attribute::string("scope")
                    .optional()
                    .describe("Keep groups with this scope, e.g. com.cloudflare.edge.r2.bucket."),
            )
            .attribute(
                Attribute::nested("groups", Nesting::List, group)
                    .computed()
                    .describe("The matching groups, sorted by name."),
            )
            .attribute(
                Attribute::new("ids", Type::map(Type::String))
                    .computed()
                    .describe(
                        "Name → id for every matching name that is unique among the matches.",
                    ),
            )
    }

    async fn read(
        &self,
        data: &Configured,
        config: &Value,
        diags: &mut Diagnostics,
    ) -> Option<Value> {
        let mut wanted: PermissionGroupsModel = capture_model(config, diags)?;
        let account = account_of(data, wanted.account_id.as_str(), diags)?;
        let groups = capture(diags, data.permission_groups(account.as_str().into()).await)?;
        let name = wanted.name.as_deref().map(str::to_lowercase);
        let scope = wanted.scope.as_deref();
        let mut matching: Vec<_> = groups
            .iter()
            .filter(|g| {
                name.as_ref()
                    .is_none_or(|n| g.name.to_lowercase().contains(n))
            })
            .filter(|g| scope.is_none_or(|s| g.scopes.iter().any(|gs| gs == s)))
            .collect();
        matching.sort_by(|a, b| a.name.cmp(&b.name).then_with(|| a.id.cmp(&b.id)));
        let mut by_name: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
        for g in &matching {
            by_name
                .entry(g.name.as_str())
                .or_default()
                .push(g.id.as_str());
        }
        wanted.ids = Attr::Known(
            by_name
                .into_iter()
                .filter(|(_, ids)| ids.len() == 1)
                .map(|(name, ids)| (name.to_string(), ids[0].to_string()))
                .collect(),
        );
        wanted.groups = Attr::Known(matching.into_iter().map(GroupModel::from).collect());
        wanted.account_id = Attr::Known(account);
        to_state(&wanted, self.known_type(), diags)
    }

    fn check_model(&self) -> Result<(), String> {
        model::check::<PermissionGroupsModel>(self.known_schema())
    }
}
