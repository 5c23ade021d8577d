//! `cfai_ai_search_instance`: an AI Search instance, on the account route
//! (namespace `default`) or the namespaced routes. Attributes are
//! named as the API names its fields, so state and API map by schema; this
//! file handles only what differs: identity, update-only fields, the
//! namespace move and sync jobs.

use std::collections::BTreeMap;
use std::time::Duration;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use super::ai_search_instance_fields::{settings, with_instance_settings};
use super::common::{
    cached_schema, capture, capture_model, deleted, failed, from_answer, import_id, plan_account,
    session, to_state, ACCOUNT_ID, AI_SEARCH_NAME,
};
use super::listing::{self, listing_failed, send_pages};
use crate::cloudflare::models::Instance;
use crate::cloudflare::{ApiError, Client};
use crate::context::{api_error, Configured};
use crate::cty::{Number, Type, Value};
use crate::framework::model::{self, Attr};
use crate::framework::{
    mapping, AttrPath, Attribute, Diagnostic, Diagnostics, IdentityAttribute, IdentitySchema,
    ListSink, Phase, PlanChange, Private, Resource, Schema, Sent, Validator,
};

pub struct AiSearchInstance;

cached_schema!(AiSearchInstance, Resource);

with_instance_settings! {
    #[derive(Default, Serialize, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct InstanceModel {
        account_id: Attr<String>,
        id: Attr<String>,
        namespace: Attr<String>,
        r#type: Attr<String>,
        source: Attr<String>,
        token_id: Attr<String>,
        embedding_model: Attr<String>,
        sync_triggers: Attr<BTreeMap<String, Attr<String>>>,
        status: Attr<String>,
        engine_version: Attr<Number>,
        public_endpoint_id: Attr<String>,
        created_at: Attr<String>,
        modified_at: Attr<String>,
    }
}

impl InstanceModel {
    /// The namespace it lives in (`default` unless said).
    fn namespace(&self) -> &str {
        self.namespace.as_str().unwrap_or("default")
    }
}

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
                    .api(Sent::OnCreate)
                    .describe("The instance id, 1 to 64 characters. A change replaces the instance."),
            )
            .attribute(
                Attribute::string("namespace")
                    .optional()
                    .computed()
                    .default("default")
                    .validate(Validator::Length { min: 1, max: 64 })
                    .validate(AI_SEARCH_NAME)
                    // A route argument; the answer says where the instance is.
                    .api(Sent::Never)
                    .describe("The namespace the instance lives in (default `default`). A change moves it in place."),
            )
            .attribute(
                Attribute::string("type")
                    .required()
                    .requires_replace()
                    .validate(Validator::OneOf(&["r2", "web-crawler"]))
                    .api(Sent::OnCreate)
                    .describe("`r2` or `web-crawler`. A change replaces the instance."),
            )
            .attribute(
                Attribute::string("source")
                    .required()
                    .requires_replace()
                    .validate(Validator::Length { min: 1, max: 1024 })
                    .api(Sent::OnCreate)
                    .describe("The R2 bucket name, or the crawled domain. A change replaces the instance."),
            )
            .attribute(
                Attribute::string("token_id")
                    .optional()
                    .api(Sent::Always)
                    .describe("The service token AI Search reads the source with: a `cfai_ai_search_service_token.id`."),
            )
            .attribute(
                Attribute::string("embedding_model")
                    .optional()
                    .computed()
                    .requires_replace()
                    .api(Sent::OnCreate)
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
            .attribute(Attribute::string("status").computed().api(Sent::Never).describe("What Cloudflare reports of the instance (indexing is asynchronous)."))
            .attribute(Attribute::number("engine_version").computed().api(Sent::Never).describe("The AI Search engine version."))
            .attribute(Attribute::string("public_endpoint_id").computed().api(Sent::Never).describe("The id in the public endpoint's host name."))
            .attribute(Attribute::string("created_at").computed().api(Sent::Never).describe("When the instance was created."))
            .attribute(Attribute::string("modified_at").computed().unknown_on_change().api(Sent::Never).describe("When the instance was last changed."))
    }

    fn identity(&self) -> IdentitySchema {
        IdentitySchema::new(vec![
            IdentityAttribute::optional(
                "account_id",
                "The owning account; the provider's when left out.",
            ),
            IdentityAttribute::optional(
                "namespace",
                "The instance's namespace; `default` when left out.",
            ),
            IdentityAttribute::required("id", "The instance's id."),
        ])
    }

    // ---------------------------------------------------------------- validate
    // Every rule is declared in the schema.

    // -------------------------------------------------------------------- plan

    async fn plan(&self, data: &Configured, change: &mut PlanChange, diags: &mut Diagnostics) {
        plan_account(data, change, self.known_type(), diags);
        let attrs = &self.known_schema().attributes;
        if !change.is_create()
            && mapping::differs_on(attrs, Phase::Update, &change.prior, &change.planned)
        {
            // The update's answer carries every field, including those a
            // read leaves out (after an import they are still null here):
            // whatever the configuration leaves to the API is decided by it.
            mapping::leave_to_api(attrs, Phase::Update, change);
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
        let plan: InstanceModel = capture_model(planned, diags)?;
        let (client, account) = session(data, plan.account_id.as_str(), diags)?;
        let (ns, id) = (plan.namespace(), plan.id.as_str()?);
        let body = capture(diags, self.body(planned, Phase::Create))?;
        let created = match client.create_instance(&account, Some(ns), &body).await {
            Ok(i) => i,
            // Made, perhaps, with the answer lost: the id is ours to find.
            Err(e) if e.maybe_applied => {
                match client.detached().get_instance(&account, Some(ns), id).await {
                    Ok(found) => {
                        diags.warning(
                            "Recovered an instance whose creation answer was lost",
                            format!("The create request's response did not arrive ({e}); instance {ns}/{id} was found and taken as the one it created."),
                        );
                        found
                    }
                    Err(_) => return failed("Could not create the AI Search instance", &e, diags),
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
            Err(e) => return failed("Could not create the AI Search instance", &e, diags),
        };
        let mut state = self.state(planned, &created, diags)?;
        // Fields the API takes only on update, in the same apply.
        let later = self.known_schema().attributes.iter().any(|a| {
            let value = planned.get(&a.name);
            a.api.as_ref().is_some_and(|f| f.sent == Sent::OnUpdate)
                && !value.is_unknown()
                && !value.is_null()
        });
        if later {
            let body = capture(diags, self.body(planned, Phase::Update))?;
            match client.update_instance(&account, Some(ns), id, &body).await {
                Ok(updated) => state = self.state(&state, &updated, diags)?,
                Err(e) => {
                    diags.push(api_error("The instance was created, but its update-only settings could not be applied", &e));
                    return Some(state);
                }
            }
        }
        if !plan.sync_triggers.is_null() {
            if let Err(e) = sync(client, &account, ns, id).await {
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
        let mut known: InstanceModel = capture_model(state, diags)?;
        // Missing credentials are an error here, not a "gone".
        let (_, account) = session(data, known.account_id.as_str(), diags)?;
        let (ns, id) = (known.namespace(), known.id.as_str()?);
        let found = match data.read_instance(&account, ns, id).await {
            Ok(Some(instance)) => Ok(Some((ns.to_string(), instance))),
            Ok(None) => moved_elsewhere(data, &account, ns, id, &known).await,
            Err(e) => Err(e),
        };
        match found {
            Ok(Some((ns, instance))) => {
                known.account_id = Attr::Known(account);
                known.namespace = Attr::Known(ns);
                let current = to_state(&known, self.known_type(), diags)?;
                self.state(&current, &instance, diags)
            }
            Ok(None) => None,
            Err(e) => failed("Could not read the AI Search instance", &e, diags),
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
        let before: InstanceModel = capture_model(prior, diags)?;
        let plan: InstanceModel = capture_model(planned, diags)?;
        let (client, account) = session(data, plan.account_id.as_str(), diags)?;
        let id = plan.id.as_str()?;
        let (from, to) = (before.namespace(), plan.namespace());
        let attrs = &self.known_schema().attributes;
        let mut state = planned.clone();
        for attr in mapping::api_only(attrs) {
            if state.get(&attr.name).is_unknown() {
                state.set(&attr.name, prior.get(&attr.name).clone());
            }
        }
        if from != to {
            let moved = match client.move_instance(&account, from, id, to).await {
                // Moved, perhaps, with the answer lost: the same instance
                // (its creation time) in the target namespace says so.
                Err(e) if e.maybe_applied => {
                    match client.detached().get_instance(&account, Some(to), id).await {
                        Ok(there)
                            if there.field("created_at").and_then(|v| v.as_str())
                                == before.created_at.as_str() =>
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
                Err(e) => return failed("Could not move the AI Search instance", &e, diags),
            }
        }
        if mapping::differs_on(attrs, Phase::Update, prior, planned) {
            let body = capture(diags, self.body(planned, Phase::Update))?;
            match client.update_instance(&account, Some(to), id, &body).await {
                Ok(updated) => state = self.state(&state, &updated, diags)?,
                Err(e) => return failed("Could not update the AI Search instance", &e, diags),
            }
        }
        if plan.sync_triggers != before.sync_triggers && !plan.sync_triggers.is_null() {
            if let Err(e) = sync(client, &account, to, id).await {
                diags.push(api_error(
                    "The instance was updated, but its sync job could not be started",
                    &e,
                ));
            }
        }
        mapping::keep_planned_computed(attrs, planned, &mut state);
        Some(settled(state))
    }

    // ------------------------------------------------------------------ delete

    async fn delete(&self, data: &Configured, state: &Value, diags: &mut Diagnostics) {
        let Some(known) = capture_model::<InstanceModel>(state, diags) else {
            return;
        };
        let Some((client, account)) = session(data, known.account_id.as_str(), diags) else {
            return;
        };
        let Some(id) = known.id.as_str() else { return };
        let result = client
            .delete_instance(&account, Some(known.namespace()), id)
            .await;
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
        let skeleton = InstanceModel {
            account_id: Attr::Known(account),
            namespace: Attr::Known(ns),
            id: Attr::Known(instance),
            ..InstanceModel::default()
        };
        Some((
            to_state(&skeleton, self.known_type(), diags)?,
            Private::new(),
        ))
    }

    // -------------------------------------------------------------------- list

    fn list_schema(&self) -> Option<Schema> {
        Some(listing::list_schema(
            "The AI Search instances of an account, in one namespace or in all of them.",
            vec![
                listing::account_argument(),
                Attribute::string("namespace")
                    .optional()
                    .validate(AI_SEARCH_NAME)
                    .describe("Only the instances of this namespace (`default` included). Every namespace when left out."),
            ],
        ))
    }

    async fn list(
        &self,
        data: &Configured,
        config: &Value,
        sink: &ListSink,
        diags: &mut Diagnostics,
    ) {
        let Some((client, account)) = session(data, config.get("account_id").as_str(), diags)
        else {
            return;
        };
        let namespaces = match config.get("namespace").as_str() {
            Some(one) => vec![one.to_string()],
            None => match data.listed_namespaces(&account).await {
                Ok(listed) => {
                    let mut all: Vec<String> = listed.keys().cloned().collect();
                    // Every account has `default`, listed or not.
                    if !listed.contains_key("default") {
                        all.push("default".into());
                    }
                    all.sort();
                    all
                }
                Err(e) => return listing_failed("AI Search namespaces", &e, diags),
            },
        };
        for namespace in namespaces {
            let pages = client.instance_pages(&account, &namespace);
            let more = send_pages(pages, "AI Search instances", sink, diags, |instance| {
                data.prime_instance(&account, &namespace, instance);
                Some(format!("{account}/{namespace}/{}", instance.id))
            })
            .await;
            if !more {
                return;
            }
        }
    }

    fn check_model(&self) -> Result<(), String> {
        model::check::<InstanceModel>(self.known_schema())
    }
}

impl AiSearchInstance {
    /// The body of a create or update request, as the schema declares it.
    fn body(
        &self,
        planned: &Value,
        phase: Phase,
    ) -> Result<serde_json::Map<String, serde_json::Value>, Diagnostic> {
        mapping::to_api(&self.known_schema().attributes, planned, phase).map_err(|e| {
            Diagnostic::error(
                "Could not build the request",
                format!("The planned instance could not be sent: {e}. This is a bug in the cfai provider."),
            )
        })
    }

    /// `base` updated with every field the API returned (those a read
    /// leaves out keep their value).
    fn state(&self, base: &Value, instance: &Instance, diags: &mut Diagnostics) -> Option<Value> {
        from_answer(
            self.known_schema(),
            base,
            instance,
            ("instance", "instance"),
            diags,
        )
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
    known: &InstanceModel,
) -> Result<Option<(String, Instance)>, ApiError> {
    let Some(created_at) = known.created_at.as_str() else {
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
