//! `cfai_ai_search_namespace`: a folder AI Search instances live in
//! (`/accounts/{account_id}/ai-search/namespaces`).

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use super::common::{
    cached_schema, capture_model, deleted, failed, found, from_answer, import_id, plan_account,
    session, to_state, ACCOUNT_ID, AI_SEARCH_NAME,
};
use super::listing::{self, listing_failed};
use crate::cloudflare::models::Namespace;
use crate::cloudflare::ErrorKind;
use crate::context::Configured;
use crate::cty::Value;
use crate::framework::model::{self, Attr};
use crate::framework::{
    mapping, AttrPath, Attribute, Diagnostics, IdentityAttribute, IdentitySchema, ListSink,
    PlanChange, Private, Resource, Schema, Sent, Validator,
};

pub struct AiSearchNamespace;

cached_schema!(AiSearchNamespace, Resource);

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct NamespaceModel {
    account_id: Attr<String>,
    name: Attr<String>,
    description: Attr<String>,
    created_at: Attr<String>,
}

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
                    .api(Sent::Always)
                    .describe("What the namespace holds. Updated in place."),
            )
            .attribute(Attribute::string("created_at").computed().api(Sent::Never).describe("When the namespace was created."))
            // Version 1: `modified_at` is gone (Cloudflare's namespace has no
            // such field); a version-0 state upgrades by dropping it.
            .version(1)
    }

    fn identity(&self) -> IdentitySchema {
        IdentitySchema::new(vec![
            IdentityAttribute::optional(
                "account_id",
                "The owning account; the provider's when left out.",
            ),
            IdentityAttribute::required("name", "The namespace's name."),
        ])
    }

    // ---------------------------------------------------------------- validate
    // Every rule is declared in the schema.

    // -------------------------------------------------------------------- plan

    async fn plan(&self, data: &Configured, change: &mut PlanChange, diags: &mut Diagnostics) {
        plan_account(data, change, self.known_type(), diags);
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
        let plan: NamespaceModel = capture_model(planned, diags)?;
        let (client, account) = session(data, plan.account_id.as_str(), diags)?;
        let name = plan.name.as_str()?;
        let created = match client
            .create_namespace(&account, name, plan.description.as_str())
            .await
        {
            // Made, perhaps, with the answer lost: the name is ours to find.
            Err(e) if e.maybe_applied => {
                match client.detached().get_namespace(&account, name).await {
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
                let mut state = self.state(&plan, &ns, diags)?;
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
            Err(e) => failed("Could not create the AI Search namespace", &e, diags),
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
        let mut known: NamespaceModel = capture_model(state, diags)?;
        let (_, account) = session(data, known.account_id.as_str(), diags)?;
        let ns = found(
            data.read_namespace(&account, known.name.as_str()?).await,
            "Could not read the AI Search namespace",
            diags,
        )??;
        known.account_id = Attr::Known(account);
        self.state(&known, &ns, diags)
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
        let before: NamespaceModel = capture_model(prior, diags)?;
        let plan: NamespaceModel = capture_model(planned, diags)?;
        if plan.description == before.description {
            return Some(planned.clone());
        }
        let (client, account) = session(data, plan.account_id.as_str(), diags)?;
        match client
            .update_namespace(&account, plan.name.as_str()?, plan.description.as_str())
            .await
        {
            Ok(ns) => self.state(&plan, &ns, diags),
            Err(e) => failed("Could not update the AI Search namespace", &e, diags),
        }
    }

    // ------------------------------------------------------------------ delete

    async fn delete(&self, data: &Configured, state: &Value, diags: &mut Diagnostics) {
        let Some(known) = capture_model::<NamespaceModel>(state, diags) else {
            return;
        };
        let Some((client, account)) = session(data, known.account_id.as_str(), diags) else {
            return;
        };
        let Some(name) = known.name.as_str() else {
            return;
        };
        match client.delete_namespace(&account, name).await {
            Err(e) if e.kind == ErrorKind::Conflict => {
                let held = match client.list_instances(&account, Some(name)).await {
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
            result => deleted(result, "Could not delete the AI Search namespace", diags),
        }
    }

    // ------------------------------------------------------------------ import

    async fn import(
        &self,
        data: &Configured,
        id: &str,
        diags: &mut Diagnostics,
    ) -> Option<(Value, Private)> {
        let (account, mut parts) =
            import_id(data, id, 1, 0, "<account_id>/<name> or <name>", diags)?;
        let skeleton = NamespaceModel {
            account_id: Attr::Known(account),
            name: Attr::Known(parts.remove(0)),
            description: Attr::Null,
            created_at: Attr::Null,
        };
        let state = to_state(&skeleton, self.known_type(), diags)?;
        Some((state, Private::new()))
    }

    // -------------------------------------------------------------------- list

    fn list_schema(&self) -> Option<Schema> {
        Some(listing::list_schema(
            "The AI Search namespaces of an account, but `default`, which exists in every account and cannot be managed.",
            vec![listing::account_argument()],
        ))
    }

    async fn list(
        &self,
        data: &Configured,
        config: &Value,
        sink: &ListSink,
        diags: &mut Diagnostics,
    ) {
        let Some((_, account)) = session(data, config.get("account_id").as_str(), diags) else {
            return;
        };
        // Namespaces are few: the one listing the reads use as well.
        let namespaces = match data.listed_namespaces(&account).await {
            Ok(namespaces) => namespaces,
            Err(e) => return listing_failed("AI Search namespaces", &e, diags),
        };
        let mut names: Vec<&String> = namespaces
            .keys()
            .filter(|n| n.as_str() != "default")
            .collect();
        names.sort();
        for name in names {
            if !sink.found(format!("{account}/{name}")).await {
                return;
            }
        }
    }

    fn check_model(&self) -> Result<(), String> {
        model::check::<NamespaceModel>(self.known_schema())
    }
}

impl AiSearchNamespace {
    /// `base` updated with what the API says of the namespace.
    fn state(
        &self,
        base: &NamespaceModel,
        ns: &Namespace,
        diags: &mut Diagnostics,
    ) -> Option<Value> {
        let mut answer = ns.clone();
        // An empty description reads back as none: the written "" stands.
        let said = ns.description.clone().flatten().unwrap_or_default();
        if said.is_empty() && base.description.as_str() == Some("") {
            answer.description = Some(Some(String::new()));
        }
        let base = to_state(base, self.known_type(), diags)?;
        let noun = ("namespace", "namespace");
        let mut state = from_answer(self.known_schema(), &base, &answer, noun, diags)?;
        // What the plan left to the API and the answer did not say is null.
        state.unknowns_to_null();
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
