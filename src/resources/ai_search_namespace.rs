//! `cfai_ai_search_namespace`: a folder AI Search instances live in
//! (`/accounts/{account_id}/ai-search/namespaces`).

use async_trait::async_trait;

use super::common::{capture, import_id, plan_account, state_account, ACCOUNT_ID, AI_SEARCH_NAME};
use crate::cloudflare::models::Namespace;
use crate::cloudflare::ErrorKind;
use crate::context::{api_error, Configured};
use crate::cty::Value;
use crate::framework::{
    mapping, AttrPath, Attribute, Diagnostics, PlanChange, Private, Resource, Schema, Validator,
};

pub struct AiSearchNamespace;

/// Attributes named as the API names its fields (the rest are ours).
const NOT_FROM_API: &[&str] = &["account_id", "name"];

#[async_trait]
impl Resource<Configured> for AiSearchNamespace {
    fn type_name(&self) -> &'static str {
        "cfai_ai_search_namespace"
    }

    // ------------------------------------------------------------------ schema

    fn schema(&self) -> Schema {
        Schema::new("An AI Search namespace: a folder that instances live in (`cfai_ai_search_instance.namespace`).")
            .attribute(
                Attribute::string("account_id")
                    .optional()
                    .computed()
                    .requires_replace()
                    .validate(ACCOUNT_ID)
                    .describe("The owning account (32 hex). Defaults to the provider's; a change replaces the namespace."),
            )
            .attribute(
                Attribute::string("name")
                    .required()
                    .requires_replace()
                    .validate(Validator::Length { min: 1, max: 64 })
                    .validate(AI_SEARCH_NAME)
                    .validate(Validator::Custom(not_default))
                    .describe("The namespace name, 1 to 64 characters. `default` exists already and cannot be managed. A change replaces the namespace."),
            )
            .attribute(
                Attribute::string("description")
                    .optional()
                    .validate(Validator::Length { min: 0, max: 256 })
                    .describe("What the namespace holds. Updated in place."),
            )
            .attribute(Attribute::string("created_at").computed().describe("When the namespace was created."))
            // Version 1: `modified_at` is gone (Cloudflare's namespace has no
            // such field); a version-0 state upgrades by dropping it.
            .version(1)
    }

    // ---------------------------------------------------------------- validate
    // Every rule is declared in the schema.

    // -------------------------------------------------------------------- plan

    async fn plan(&self, data: &Configured, change: &mut PlanChange, diags: &mut Diagnostics) {
        plan_account(data, change, diags);
    }

    // ------------------------------------------------------------------ create

    async fn create(
        &self,
        data: &Configured,
        planned: &Value,
        _config: &Value,
        _private: &mut Private,
        diags: &mut Diagnostics,
    ) -> Option<Value> {
        let client = capture(diags, data.client())?;
        let account = planned.get("account_id").as_str()?.to_string();
        let name = planned.get("name").as_str()?.to_string();
        let description = planned.get("description").as_str();
        let created = match client.create_namespace(&account, &name, description).await {
            // Made, perhaps, with the answer lost: the name is ours to find.
            Err(e) if e.maybe_applied => {
                match client.detached().get_namespace(&account, &name).await {
                    Ok(ns) => {
                        diags.warning(
                        "Recovered a namespace whose creation answer was lost",
                        format!("The create request's response did not arrive ({e}); namespace {name:?} was found and taken as the one it created."),
                    );
                        Ok(ns)
                    }
                    Err(_) => Err(e),
                }
            }
            other => other,
        };
        match created {
            Ok(ns) => {
                let mut state = self.state(planned, &ns, diags)?;
                mapping::keep_planned_computed(
                    &self.known_schema().attributes,
                    planned,
                    &mut state,
                );
                Some(state)
            }
            Err(e) if e.kind == ErrorKind::Conflict => {
                diags.error_at(
                    AttrPath::root("name"),
                    "The namespace already exists",
                    format!("{e}\n\nTo manage the existing namespace, import it: terraform import <resource address> {account}/{name}"),
                );
                None
            }
            Err(e) => capture(
                diags,
                Err(api_error("Could not create the AI Search namespace", &e)),
            ),
        }
    }

    // -------------------------------------------------------------------- read

    async fn read(
        &self,
        data: &Configured,
        state: &Value,
        _private: &mut Private,
        diags: &mut Diagnostics,
    ) -> Option<Value> {
        let client = capture(diags, data.client())?;
        let account = state_account(data, state, diags)?;
        let name = state.get("name").as_str()?.to_string();
        match client.get_namespace(&account, &name).await {
            Ok(ns) => {
                let mut current = state.clone();
                current.set("account_id", Value::string(account));
                self.state(&current, &ns, diags)
            }
            Err(e) if e.is_not_found() => None,
            Err(e) => capture(
                diags,
                Err(api_error("Could not read the AI Search namespace", &e)),
            ),
        }
    }

    // ------------------------------------------------------------------ update

    async fn update(
        &self,
        data: &Configured,
        prior: &Value,
        planned: &Value,
        _config: &Value,
        _private: &mut Private,
        diags: &mut Diagnostics,
    ) -> Option<Value> {
        if planned.get("description") == prior.get("description") {
            return Some(planned.clone());
        }
        let client = capture(diags, data.client())?;
        let account = planned.get("account_id").as_str()?.to_string();
        let name = planned.get("name").as_str()?.to_string();
        let description = planned.get("description").as_str();
        match client.update_namespace(&account, &name, description).await {
            Ok(ns) => self.state(planned, &ns, diags),
            Err(e) => capture(
                diags,
                Err(api_error("Could not update the AI Search namespace", &e)),
            ),
        }
    }

    // ------------------------------------------------------------------ delete

    async fn delete(&self, data: &Configured, state: &Value, diags: &mut Diagnostics) {
        let Some(client) = capture(diags, data.client()) else {
            return;
        };
        let (Some(account), Some(name)) =
            (state.get("account_id").as_str(), state.get("name").as_str())
        else {
            return;
        };
        match client.delete_namespace(account, name).await {
            Ok(()) => {}
            Err(e) if e.is_not_found() => {}
            Err(e) if e.kind == ErrorKind::Conflict => {
                let held = match client.list_instances(account, Some(name)).await {
                    Ok(instances) => instances
                        .iter()
                        .map(|i| i.id.clone())
                        .collect::<Vec<_>>()
                        .join(", "),
                    Err(_) => "(could not be listed)".into(),
                };
                diags.error(
                    "The namespace still holds instances",
                    format!("{e}\n\nNamespace {name:?} still holds these AI Search instances: {held}. Delete or move them (cfai_ai_search_instance.namespace) first."),
                );
            }
            Err(e) => diags.push(api_error("Could not delete the AI Search namespace", &e)),
        }
    }

    // ------------------------------------------------------------------ import

    async fn import(
        &self,
        data: &Configured,
        id: &str,
        diags: &mut Diagnostics,
    ) -> Option<(Value, Private)> {
        let (account, parts) = import_id(data, id, 1, 0, "<account_id>/<name> or <name>", diags)?;
        let mut state = self.known_schema().empty_value();
        state.set("account_id", Value::string(account));
        state.set("name", Value::string(&parts[0]));
        Some((state, Private::new()))
    }
}

impl AiSearchNamespace {
    /// The schema, built once: reads, plans and mappings consult it for
    /// every object, and building it allocates every attribute.
    fn known_schema(&self) -> &'static Schema {
        static SCHEMA: std::sync::OnceLock<Schema> = std::sync::OnceLock::new();
        SCHEMA.get_or_init(|| Resource::<Configured>::schema(&AiSearchNamespace))
    }

    /// `base` updated with what the API says of the namespace.
    fn state(&self, base: &Value, ns: &Namespace, diags: &mut Diagnostics) -> Option<Value> {
        let mut state = base.clone();
        let json = serde_json::to_value(ns).unwrap_or_default();
        if let Err(e) = mapping::update_from_api(
            &self.known_schema().attributes,
            &mut state,
            &json,
            NOT_FROM_API,
        ) {
            diags.error(
                "Unexpected namespace from the API",
                format!("The namespace could not be read: {e}."),
            );
            return None;
        }
        // What the plan left to the API and the answer did not say is null.
        state.unknowns_to_null();
        // An empty description reads back as none.
        if ns
            .description
            .clone()
            .flatten()
            .unwrap_or_default()
            .is_empty()
            && base.get("description").as_str() == Some("")
        {
            state.set("description", Value::string(""));
        }
        Some(state)
    }
}

fn not_default(name: &Value) -> Result<(), String> {
    match name.as_str() {
        Some("default") => {
            Err("The `default` namespace exists in every account and cannot be managed.".into())
        }
        _ => Ok(()),
    }
}
