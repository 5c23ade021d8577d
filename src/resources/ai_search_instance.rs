//! `cfai_ai_search_instance`: an AI Search instance, on the account route
//! (namespace `default`) or the namespaced routes. Attributes are
//! named as the API names its fields, so state and API map by schema; this
//! file handles only what differs: identity, update-only fields, the
//! namespace move and sync jobs.

use std::time::Duration;

use async_trait::async_trait;
use serde_json::{Map, Value as Json};

use super::ai_search_instance_fields::{settings, UPDATE_ONLY};
use super::common::{
    capture, deleted, import_id, plan_account, state_account, ACCOUNT_ID, AI_SEARCH_NAME,
};
use crate::cloudflare::models::Instance;
use crate::cloudflare::{ApiError, Client};
use crate::context::{api_error, Configured};
use crate::cty::{Type, Value};
use crate::framework::{
    mapping, AttrPath, Attribute, Diagnostics, PlanChange, Private, Resource, Schema, Validator,
};

pub struct AiSearchInstance;

/// Ours, not fields of the instance.
const OURS: [&str; 3] = ["account_id", "namespace", "sync_triggers"];
/// Set by the API alone.
const FROM_API_ONLY: [&str; 5] = [
    "status",
    "engine_version",
    "public_endpoint_id",
    "created_at",
    "modified_at",
];
/// Fixed at create.
const IDENTITY: [&str; 4] = ["id", "type", "source", "embedding_model"];
const SYNC_IN_COOLDOWN: i64 = 7020;
const INSTANCE_EXISTS: i64 = 7022;

#[async_trait]
impl Resource<Configured> for AiSearchInstance {
    fn type_name(&self) -> &'static str {
        "cfai_ai_search_instance"
    }

    // ------------------------------------------------------------------ schema

    fn schema(&self) -> Schema {
        let mut schema = Schema::new("An AI Search instance: an index of an R2 bucket or a crawled site, with the models that answer from it.")
            .attribute(
                Attribute::string("account_id")
                    .optional()
                    .computed()
                    .requires_replace()
                    .validate(ACCOUNT_ID)
                    .describe("The owning account (32 hex). Defaults to the provider's; a change replaces the instance."),
            )
            .attribute(
                Attribute::string("id")
                    .required()
                    .requires_replace()
                    .validate(Validator::Length { min: 1, max: 64 })
                    .validate(AI_SEARCH_NAME)
                    .describe("The instance id, 1 to 64 characters. A change replaces the instance."),
            )
            .attribute(
                Attribute::string("namespace")
                    .optional()
                    .computed()
                    .default("default")
                    .validate(Validator::Length { min: 1, max: 64 })
                    .validate(AI_SEARCH_NAME)
                    .describe("The namespace the instance lives in (default `default`). A change moves it in place."),
            )
            .attribute(
                Attribute::string("type")
                    .required()
                    .requires_replace()
                    .validate(Validator::OneOf(&["r2", "web-crawler"]))
                    .describe("`r2` or `web-crawler`. A change replaces the instance."),
            )
            .attribute(
                Attribute::string("source")
                    .required()
                    .requires_replace()
                    .validate(Validator::Length { min: 1, max: 1024 })
                    .describe("The R2 bucket name, or the crawled domain. A change replaces the instance."),
            )
            .attribute(
                Attribute::string("token_id")
                    .optional()
                    .describe("The service token AI Search reads the source with: a `cfai_ai_search_service_token.id`."),
            )
            .attribute(
                Attribute::string("embedding_model")
                    .optional()
                    .computed()
                    .requires_replace()
                    .describe("The embedding model; it defines the vector space, so a change replaces the instance. Not checked against a list."),
            );
        for attr in settings() {
            schema = schema.attribute(attr);
        }
        schema
            .attribute(
                Attribute::new("sync_triggers", Type::map(Type::String))
                    .optional()
                    .describe("Any change (and the create) starts a sync job without waiting for it, e.g. `{ docs = sha1(...) }` to re-index after uploads."),
            )
            .attribute(Attribute::string("status").computed().describe("What Cloudflare reports of the instance (indexing is asynchronous)."))
            .attribute(Attribute::number("engine_version").computed().describe("The AI Search engine version."))
            .attribute(Attribute::string("public_endpoint_id").computed().describe("The id in the public endpoint's host name."))
            .attribute(Attribute::string("created_at").computed().describe("When the instance was created."))
            .attribute(Attribute::string("modified_at").computed().unknown_on_change().describe("When the instance was last changed."))
    }

    // ---------------------------------------------------------------- validate
    // Every rule is declared in the schema.

    // -------------------------------------------------------------------- plan

    async fn plan(&self, data: &Configured, change: &mut PlanChange, diags: &mut Diagnostics) {
        plan_account(data, change, diags);
        if change.is_create() || !self.settings_change(&change.prior, &change.planned) {
            return;
        }
        // The update's answer carries every field, including those a read
        // leaves out (after an import they are still null here): whatever
        // the configuration leaves to the API is decided by it.
        for attr in self
            .schema()
            .attributes
            .iter()
            .filter(|a| a.optional && a.computed)
        {
            let name = attr.name.as_str();
            if is_setting(name)
                && change.config.get(name).is_null()
                && change.prior.get(name).is_null()
            {
                change.set(name, Value::Unknown);
            }
        }
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
        let ns = planned.get("namespace").as_str()?.to_string();
        let id = planned.get("id").as_str()?.to_string();
        let mut excluded: Vec<&str> = OURS.iter().chain(&FROM_API_ONLY).copied().collect();
        excluded.extend(UPDATE_ONLY);
        let body = capture(diags, self.body(planned, &excluded))?;
        let created = match client.create_instance(&account, Some(&ns), &body).await {
            Ok(i) => i,
            // Made, perhaps, with the answer lost: the id is ours to find.
            Err(e) if e.maybe_applied => {
                match client
                    .detached()
                    .get_instance(&account, Some(&ns), &id)
                    .await
                {
                    Ok(found) => {
                        diags.warning(
                            "Recovered an instance whose creation answer was lost",
                            format!("The create request's response did not arrive ({e}); instance {ns}/{id} was found and taken as the one it created."),
                        );
                        found
                    }
                    Err(_) => {
                        return capture(
                            diags,
                            Err(api_error("Could not create the AI Search instance", &e)),
                        )
                    }
                }
            }
            Err(e) if e.errors.iter().any(|m| m.code == INSTANCE_EXISTS) => {
                let import_id = if ns == "default" {
                    format!("{account}/{id}")
                } else {
                    format!("{account}/{ns}/{id}")
                };
                diags.error_at(
                    AttrPath::root("id"),
                    "The AI Search instance already exists",
                    format!("{e}\n\nTo manage the existing instance, import it: terraform import <resource address> {import_id}"),
                );
                return None;
            }
            Err(e) => {
                return capture(
                    diags,
                    Err(api_error("Could not create the AI Search instance", &e)),
                )
            }
        };
        let mut state = self.state(planned, &created, diags)?;
        // Fields the API takes only on update, in the same apply.
        let later: Vec<&str> = UPDATE_ONLY
            .iter()
            .copied()
            .filter(|f| !planned.get(f).is_unknown() && !planned.get(f).is_null())
            .collect();
        if !later.is_empty() {
            let mut body = Map::new();
            let all = capture(
                diags,
                self.body(
                    planned,
                    &OURS
                        .iter()
                        .chain(&FROM_API_ONLY)
                        .chain(&IDENTITY)
                        .copied()
                        .collect::<Vec<_>>(),
                ),
            )?;
            for (k, v) in all {
                body.insert(k, v);
            }
            match client
                .update_instance(&account, Some(&ns), &id, &body)
                .await
            {
                Ok(updated) => state = self.state(&state, &updated, diags)?,
                Err(e) => {
                    diags.push(api_error("The instance was created, but its update-only settings could not be applied", &e));
                    return Some(state);
                }
            }
        }
        if !planned.get("sync_triggers").is_null() {
            if let Err(e) = sync(client, &account, &ns, &id).await {
                diags.push(api_error(
                    "The instance was created, but its sync job could not be started",
                    &e,
                ));
            }
        }
        Some(settled(state))
    }

    // -------------------------------------------------------------------- read

    async fn read(
        &self,
        data: &Configured,
        state: &Value,
        _private: &mut Private,
        diags: &mut Diagnostics,
    ) -> Option<Value> {
        // Missing credentials are an error here, not a "gone".
        capture(diags, data.client())?;
        let account = state_account(data, state, diags)?;
        let ns = state
            .get("namespace")
            .as_str()
            .unwrap_or("default")
            .to_string();
        let id = state.get("id").as_str()?.to_string();
        let found = match data.read_instance(&account, &ns, &id).await {
            Ok(Some(instance)) => Ok(Some((ns, instance))),
            Ok(None) => moved_elsewhere(data, &account, &ns, &id, state).await,
            Err(e) => Err(e),
        };
        match found {
            Ok(Some((ns, instance))) => {
                let mut current = state.clone();
                current.set("account_id", Value::string(account));
                current.set("namespace", Value::string(ns));
                self.state(&current, &instance, diags)
            }
            Ok(None) => None,
            Err(e) => capture(
                diags,
                Err(api_error("Could not read the AI Search instance", &e)),
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
        let client = capture(diags, data.client())?;
        let account = planned.get("account_id").as_str()?.to_string();
        let id = planned.get("id").as_str()?.to_string();
        let (from, to) = (
            prior.get("namespace").as_str()?.to_string(),
            planned.get("namespace").as_str()?.to_string(),
        );
        let mut state = planned.clone();
        for f in FROM_API_ONLY {
            if state.get(f).is_unknown() {
                state.set(f, prior.get(f).clone());
            }
        }
        if from != to {
            let moved = match client.move_instance(&account, &from, &id, &to).await {
                // Moved, perhaps, with the answer lost: the same instance
                // (its creation time) in the target namespace says so.
                Err(e) if e.maybe_applied => {
                    match client
                        .detached()
                        .get_instance(&account, Some(&to), &id)
                        .await
                    {
                        Ok(there)
                            if there.field("created_at").and_then(|v| v.as_str())
                                == prior.get("created_at").as_str() =>
                        {
                            Ok(there)
                        }
                        _ => Err(e),
                    }
                }
                other => other,
            };
            match moved {
                Ok(moved) => state = self.state(&state, &moved, diags)?,
                Err(e) => {
                    return capture(
                        diags,
                        Err(api_error("Could not move the AI Search instance", &e)),
                    )
                }
            }
        }
        if self.settings_change(prior, planned) {
            let excluded: Vec<&str> = OURS
                .iter()
                .chain(&FROM_API_ONLY)
                .chain(&IDENTITY)
                .copied()
                .collect();
            let body = capture(diags, self.body(planned, &excluded))?;
            match client
                .update_instance(&account, Some(&to), &id, &body)
                .await
            {
                Ok(updated) => state = self.state(&state, &updated, diags)?,
                Err(e) => {
                    return capture(
                        diags,
                        Err(api_error("Could not update the AI Search instance", &e)),
                    )
                }
            }
        }
        if planned.get("sync_triggers") != prior.get("sync_triggers")
            && !planned.get("sync_triggers").is_null()
        {
            if let Err(e) = sync(client, &account, &to, &id).await {
                diags.push(api_error(
                    "The instance was updated, but its sync job could not be started",
                    &e,
                ));
            }
        }
        mapping::keep_planned_computed(&self.known_schema().attributes, planned, &mut state);
        Some(settled(state))
    }

    // ------------------------------------------------------------------ delete

    async fn delete(&self, data: &Configured, state: &Value, diags: &mut Diagnostics) {
        let Some(client) = capture(diags, data.client()) else {
            return;
        };
        let (Some(account), Some(id)) =
            (state.get("account_id").as_str(), state.get("id").as_str())
        else {
            return;
        };
        let ns = state.get("namespace").as_str().unwrap_or("default");
        let result = client.delete_instance(account, Some(ns), id).await;
        deleted(result, "Could not delete the AI Search instance", diags);
    }

    // ------------------------------------------------------------------ import

    async fn import(
        &self,
        data: &Configured,
        id: &str,
        diags: &mut Diagnostics,
    ) -> Option<(Value, Private)> {
        let (account, parts) = import_id(
            data,
            id,
            1,
            1,
            "<account_id>/<id> or <account_id>/<namespace>/<id>",
            diags,
        )?;
        let (ns, instance) = match parts.as_slice() {
            [instance] => ("default".to_string(), instance.clone()),
            [ns, instance] => (ns.clone(), instance.clone()),
            _ => return None,
        };
        let mut state = self.known_schema().empty_value();
        state.set("account_id", Value::string(account));
        state.set("namespace", Value::string(ns));
        state.set("id", Value::string(instance));
        Some((state, Private::new()))
    }
}

fn is_setting(name: &str) -> bool {
    !OURS.contains(&name) && !FROM_API_ONLY.contains(&name) && !IDENTITY.contains(&name)
}

impl AiSearchInstance {
    /// The schema, built once: reads, plans and mappings consult it for
    /// every object, and building it allocates every attribute.
    fn known_schema(&self) -> &'static Schema {
        static SCHEMA: std::sync::OnceLock<Schema> = std::sync::OnceLock::new();
        SCHEMA.get_or_init(|| Resource::<Configured>::schema(&AiSearchInstance))
    }

    /// Whether an update must `PUT` the settings.
    fn settings_change(&self, prior: &Value, planned: &Value) -> bool {
        self.known_schema()
            .attributes
            .iter()
            .map(|a| a.name.as_str())
            .filter(|n| is_setting(n))
            .any(|n| planned.get(n) != prior.get(n))
    }

    fn body(
        &self,
        planned: &Value,
        excluded: &[&str],
    ) -> Result<Map<String, Json>, crate::framework::Diagnostic> {
        mapping::to_api(&self.known_schema().attributes, planned, excluded).map_err(|e| {
            crate::framework::Diagnostic::error(
                "Could not build the request",
                format!("The planned instance could not be sent: {e}. This is a bug in the cfai provider."),
            )
        })
    }

    /// `base` updated with every field the API returned (those a read
    /// leaves out keep their value).
    fn state(&self, base: &Value, instance: &Instance, diags: &mut Diagnostics) -> Option<Value> {
        let mut state = base.clone();
        let json = serde_json::to_value(instance).unwrap_or_default();
        if let Err(e) =
            mapping::update_from_api(&self.known_schema().attributes, &mut state, &json, &OURS)
        {
            diags.error(
                "Unexpected instance from the API",
                format!("The instance could not be read: {e}."),
            );
            return None;
        }
        if let Some(ns) = instance.field("namespace").and_then(|v| v.as_str()) {
            state.set("namespace", Value::string(ns));
        }
        Some(state)
    }
}

/// An instance missing from its namespace may have been moved to another
/// one outside Terraform: the same id, created at the same time, in another
/// namespace of the account is the same instance (the plan then moves it
/// back in place), not a deleted one to create again beside it.
async fn moved_elsewhere(
    data: &Configured,
    account: &str,
    namespace: &str,
    id: &str,
    state: &Value,
) -> Result<Option<(String, Instance)>, ApiError> {
    let Some(created_at) = state.get("created_at").as_str() else {
        return Ok(None);
    };
    let Ok(client) = data.client() else {
        return Ok(None);
    };
    let mut names: Vec<String> = client
        .list_namespaces(account)
        .await?
        .into_iter()
        .map(|n| n.name)
        .collect();
    if !names.iter().any(|n| n == "default") {
        names.push("default".into());
    }
    for other in names.into_iter().filter(|n| n != namespace) {
        if let Some(mut instance) = data.read_instance(account, &other, id).await? {
            if instance.field("created_at").is_none() {
                // A listing may leave it out; a single read always has it.
                instance = client.get_instance(account, Some(&other), id).await?;
            }
            if instance.field("created_at").and_then(|v| v.as_str()) == Some(created_at) {
                return Ok(Some((other, instance)));
            }
        }
    }
    Ok(None)
}

/// An optional field the API does not return at all (it has no default
/// for it) is null: left unknown, Terraform would reject the state.
fn settled(mut state: Value) -> Value {
    state.unknowns_to_null();
    state
}

/// Starts one sync job without waiting for it; a cooldown (7020) is waited
/// out once.
async fn sync(client: &Client, account: &str, ns: &str, id: &str) -> Result<(), ApiError> {
    let mut wait = Duration::from_secs(1);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(90);
    loop {
        match client.start_sync_job(account, Some(ns), id).await {
            Ok(_) => return Ok(()),
            Err(e)
                if e.errors.iter().any(|m| m.code == SYNC_IN_COOLDOWN)
                    && tokio::time::Instant::now() + wait < deadline =>
            {
                tokio::time::sleep(wait).await;
                wait = (wait * 2).min(Duration::from_secs(10));
            }
            Err(e) => return Err(e),
        }
    }
}
