//! Data source `cfai_permission_groups`: the account's permission groups,
//! filtered by name substring and scope, with a name → id map.

use std::collections::BTreeMap;

use async_trait::async_trait;

use crate::context::Configured;
use crate::cty::{Type, Value};
use crate::framework::{mapping, Attribute, DataSource, Diagnostics, Nesting, Schema, Validator};

pub struct PermissionGroups;

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
        let account = data
            .account_id(config.get("account_id"))
            .map_err(|d| diags.push(d))
            .ok()?;
        let groups = data
            .permission_groups(&account)
            .await
            .map_err(|d| diags.push(d))
            .ok()?;
        let name = config.get("name").as_str().map(str::to_lowercase);
        let scope = config.get("scope").as_str();
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
        let ids = by_name
            .into_iter()
            .filter(|(_, ids)| ids.len() == 1)
            .map(|(name, ids)| (name.to_string(), Value::string(ids[0])))
            .collect();
        // The group attributes are named as the API names its fields.
        let group_attrs = group_attributes();
        let mut groups = Vec::with_capacity(matching.len());
        for g in &matching {
            let mut group =
                Value::object(group_attrs.iter().map(|a| (a.name.clone(), Value::Null)));
            let mapped = serde_json::to_value(g)
                .map_err(|e| e.to_string())
                .and_then(|json| {
                    mapping::update_from_api(&group_attrs, &mut group, &json, &[])
                        .map_err(|e| e.to_string())
                });
            if let Err(e) = mapped {
                diags.error(
                    "Unexpected permission group from the API",
                    format!("Group {} could not be read: {e}.", g.id),
                );
                return None;
            }
            groups.push(group);
        }
        let mut state = config.clone();
        state.set("account_id", Value::string(account));
        state.set("groups", Value::List(groups));
        state.set("ids", Value::Map(ids));
        Some(state)
    }
}
