//! `cfai_account_api_token` and `cfai_user_api_token`: an API token, by
//! permission-group name, plus the S3 credentials R2 derives from it. The
//! two are one resource with two owners: an account
//! (`/accounts/{account_id}/tokens`) or the user the provider authenticates
//! as (`/user/tokens`). The user's token has no `account_id`; its
//! `s3_endpoint` is the provider account's, when there is one.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use tracing::warn;

use super::common::{account_of, capture, capture_model, deleted, failed, session, to_state};
use super::listing::{self, send_pages, Filter};
use super::resource_keys;
use super::token_model::{resolve_at_apply, Owner, OwnerKind, PolicyModel, StringMap, TokenModel};
use super::token_semantics::same_policies;
use super::token_state::{
    create_or_adopt, keep_equivalent_prior, state_from_api, token_type, ORDER_FROM_API,
};
use crate::cloudflare::tokens::TokenOwner;
use crate::cloudflare::{ApiError, Client};
use crate::context::{api_error, Configured};
use crate::cty::{Type, Value};
use crate::framework::model::{self, Attr};
use crate::framework::{
    AttrPath, Attribute, Diagnostic, Diagnostics, IdentityAttribute, IdentitySchema, ListSink,
    Nesting, PlanChange, Private, Resource, Schema, Semantic, Validator,
};
use crate::secret::Secret;
use crate::validation::{is_account_id, parse_rfc3339};

/// An API token resource, of one kind of owner.
pub struct ApiToken {
    kind: OwnerKind,
}

impl ApiToken {
    /// `cfai_account_api_token`.
    pub const ACCOUNT: ApiToken = ApiToken {
        kind: OwnerKind::Account,
    };
    /// `cfai_user_api_token`.
    pub const USER: ApiToken = ApiToken {
        kind: OwnerKind::User,
    };

    /// The state's cty type (tests decode states with it).
    pub fn schema_type(&self) -> Type {
        Resource::<Configured>::schema(self).cty_type()
    }

    /// The client, and the owner of the token with this (configured or
    /// stored) `account_id`.
    fn session<'a>(
        &self,
        data: &'a Configured,
        account: Option<&str>,
        diags: &mut Diagnostics,
    ) -> Option<(&'a Client, Owner)> {
        match self.kind {
            OwnerKind::Account => {
                session(data, account, diags).map(|(client, a)| (client, Owner::Account(a)))
            }
            OwnerKind::User => Some((capture(diags, data.client())?, user_owner(data))),
        }
    }

    fn state_type(&self) -> &'static Type {
        token_type(self.kind)
    }
}

/// The user's token: its S3 credentials serve the provider's account.
fn user_owner(data: &Configured) -> Owner {
    Owner::User {
        endpoint_account: data.default_account().map(str::to_string),
    }
}

/// The three views of one planned change, as models.
struct TokenPlan {
    config: ConfigPart,
    /// `None` when the token is being created.
    prior: Option<PlanPart>,
    planned: PlanPart,
}

/// What a plan reads of the configuration.
#[derive(Serialize, Deserialize)]
struct ConfigPart {
    /// Null for the user's token, which has none.
    #[serde(default)]
    account_id: Attr<String>,
    status: Attr<String>,
}

/// What a plan reads of the prior state and of the planned one, and what
/// it writes of the planned one: the attributes its rules concern (a part
/// of [`TokenModel`], so that a plan converts no more than it
/// needs). The `Option` fields are only written, and only when set.
#[derive(Serialize, Deserialize)]
struct PlanPart {
    policies: Attr<Vec<Attr<PolicyModel>>>,
    #[serde(skip_serializing)]
    expires_on: Attr<String>,
    #[serde(skip_serializing)]
    status: Attr<String>,
    /// The status planned, when a rule decides it.
    #[serde(
        rename = "status",
        skip_deserializing,
        skip_serializing_if = "Option::is_none"
    )]
    planned_status: Option<Attr<String>>,
    #[serde(skip_serializing)]
    rotation_triggers: StringMap,
    #[serde(skip_serializing)]
    id: Attr<String>,
    #[serde(skip_deserializing, skip_serializing_if = "Option::is_none")]
    account_id: Option<Attr<String>>,
    #[serde(skip_deserializing, skip_serializing_if = "Option::is_none")]
    s3_endpoint: Option<Attr<String>>,
    #[serde(skip_deserializing, skip_serializing_if = "Option::is_none")]
    value: Option<Attr<Secret>>,
    #[serde(skip_deserializing, skip_serializing_if = "Option::is_none")]
    secret_access_key: Option<Attr<Secret>>,
}

impl PlanPart {
    fn policy_list(&self) -> &[Attr<PolicyModel>] {
        self.policies.known().map_or(&[], |p| p)
    }
}

impl TokenPlan {
    fn of(change: &PlanChange, diags: &mut Diagnostics) -> Option<TokenPlan> {
        Some(TokenPlan {
            config: capture_model(&change.config, diags)?,
            prior: match change.is_create() {
                true => None,
                false => Some(capture_model(&change.prior, diags)?),
            },
            planned: capture_model(&change.planned, diags)?,
        })
    }

    /// On update: what the API will change besides what the user wrote.
    fn mark_update(&mut self, change: &mut PlanChange, diags: &mut Diagnostics) {
        let Some(prior) = &self.prior else { return };
        plan_expired(prior, &self.config, &mut self.planned, change, diags);
        if self.planned.rotation_triggers != prior.rotation_triggers {
            self.planned.value = Some(Attr::Unknown);
            self.planned.secret_access_key = Some(Attr::Unknown);
        }
    }

    /// The planned attributes go into the change's planned value.
    fn write(self, kind: OwnerKind, change: &mut PlanChange, diags: &mut Diagnostics) {
        let written = model::put(&self.planned, &mut change.planned, token_type(kind));
        capture(diags, written);
    }
}

#[async_trait]
impl Resource<Configured> for ApiToken {
    fn type_name(&self) -> &'static str {
        match self.kind {
            OwnerKind::Account => "cfai_account_api_token",
            OwnerKind::User => "cfai_user_api_token",
        }
    }

    // ------------------------------------------------------------------ schema

    fn schema(&self) -> Schema {
        let (about, endpoint) = match self.kind {
            OwnerKind::Account => (
                "An account-owned Cloudflare API token, with the R2 S3 credentials derived from it.",
                "The account's R2 S3 endpoint, https://<account_id>.r2.cloudflarestorage.com.",
            ),
            OwnerKind::User => (
                "A Cloudflare API token owned by the user the provider authenticates as (/user/tokens), with the R2 S3 credentials derived from it. Cloudflare allows 50 per user.",
                "The R2 S3 endpoint of the provider's account_id, https://<account_id>.r2.cloudflarestorage.com; null when the provider has no account_id.",
            ),
        };
        let schema = Schema::new(about);
        let schema = match self.kind {
            OwnerKind::Account => schema.attribute(
                Attribute::string("account_id")
                    .optional()
                    .computed()
                    .requires_replace()
                    .validate(Validator::Regex("^[0-9a-fA-F]{32}$", "an account id: 32 hexadecimal characters"))
                    .describe("The owning account (32 hex). Defaults to the provider's; a change replaces the token."),
            ),
            OwnerKind::User => schema,
        };
        schema
            .attribute(
                Attribute::string("name")
                    .required()
                    .validate(Validator::Length { min: 1, max: 120 })
                    .validate(Validator::Custom(not_blank))
                    .describe("Token name, 1 to 120 characters. Updated in place."),
            )
            .attribute(
                Attribute::nested("policies", Nesting::List, policy_attributes())
                    .required()
                    .validate(AT_LEAST_ONE)
                    .describe("Access policies. Updated in place; reordering them makes no API call."),
            )
            .attribute(condition_attribute())
            .attribute(
                Attribute::string("not_before")
                    .optional()
                    .validate(Validator::Rfc3339)
                    .semantic(Semantic::Instant)
                    .describe("RFC 3339 time before which the token is not valid. Compared as an instant, to the second."),
            )
            .attribute(
                Attribute::string("expires_on")
                    .optional()
                    .validate(Validator::Rfc3339)
                    .semantic(Semantic::Instant)
                    .describe("RFC 3339 time at which the token expires. Compared as an instant, to the second."),
            )
            .attribute(
                Attribute::string("status")
                    .optional()
                    .computed()
                    .validate(Validator::OneOf(&["active", "disabled"]))
                    .describe("`active` or `disabled`. The state reads `expired` once Cloudflare has expired the token."),
            )
            .attribute(
                Attribute::new("rotation_triggers", Type::map(Type::String))
                    .optional()
                    .describe("Any change rolls the token in place: same id, new value and secret_access_key."),
            )
            .attribute(Attribute::string("id").computed().describe("The token id; stable across updates and rolls."))
            .attribute(
                Attribute::string("value")
                    .computed()
                    .sensitive()
                    .describe("The token's secret. Cloudflare returns it only at create and roll; null after import."),
            )
            .attribute(Attribute::string("access_key_id").computed().describe("R2 S3 access key id (the token id)."))
            .attribute(
                Attribute::string("secret_access_key")
                    .computed()
                    .sensitive()
                    .describe("R2 S3 secret access key: the lowercase hex SHA-256 of value."),
            )
            .attribute(
                Attribute::string("s3_endpoint")
                    .computed()
                    .describe(endpoint),
            )
            .attribute(Attribute::string("issued_on").computed().describe("When the token was created."))
            .attribute(Attribute::string("modified_on").computed().unknown_on_change().describe("When the token was last changed."))
            .attribute(Attribute::string("last_used_on").computed().describe("When the token was last used, if ever."))
    }

    fn identity(&self) -> IdentitySchema {
        let id = IdentityAttribute::required("id", "The token id.");
        IdentitySchema::new(match self.kind {
            OwnerKind::Account => vec![
                IdentityAttribute::optional(
                    "account_id",
                    "The owning account; the provider's when left out.",
                ),
                id,
            ],
            OwnerKind::User => vec![id],
        })
    }

    // ---------------------------------------------------------------- validate

    fn validate(&self, config: &Value, diags: &mut Diagnostics) {
        // Attribute-level rules are declared in the schema; what remains
        // spans attributes or looks inside a map's keys.
        let Some(config) = capture_model::<TokenModel>(config, diags) else {
            return;
        };
        for (i, policy) in config.policy_list().iter().enumerate() {
            if let Attr::Known(policy) = policy {
                let path = AttrPath::root("policies").index(i);
                resource_keys::validate(&policy.resources, path, diags);
            }
        }
        let times =
            [&config.not_before, &config.expires_on].map(|t| t.as_str().and_then(parse_rfc3339));
        if let [Some(not_before), Some(expires_on)] = times {
            if expires_on <= not_before {
                diags.error_at(
                    AttrPath::root("expires_on"),
                    "Invalid expiry",
                    "expires_on must be later than not_before.",
                );
            }
        }
    }

    // -------------------------------------------------------------------- plan

    async fn plan(&self, data: &Configured, change: &mut PlanChange, diags: &mut Diagnostics) {
        let Some(mut plan) = TokenPlan::of(change, diags) else {
            return;
        };
        if change.is_create() {
            born_expired(change.config.get("expires_on"), diags);
            if diags.has_errors() {
                return;
            }
        }
        let owner = match self.kind {
            OwnerKind::User => user_owner(data),
            OwnerKind::Account if plan.config.account_id.is_unknown() => {
                // Not known until apply: neither are the endpoint nor the
                // ids, which are resolved then against that account's groups.
                plan.planned.s3_endpoint = Some(Attr::Unknown);
                if let Attr::Known(policies) = &mut plan.planned.policies {
                    for policy in policies.iter_mut().filter_map(Attr::known_mut) {
                        policy.permission_group_ids = Attr::Unknown;
                    }
                }
                plan.mark_update(change, diags);
                return plan.write(self.kind, change, diags);
            }
            OwnerKind::Account => {
                let Some(account) = account_of(data, plan.config.account_id.as_str(), diags) else {
                    return;
                };
                plan.planned.account_id = Some(Attr::Known(account.clone()));
                Owner::Account(account)
            }
        };
        plan.planned.s3_endpoint = Some(owner.s3_endpoint());
        let groups = match data.permission_groups(owner.api()).await {
            Ok(g) => g,
            Err(d) => {
                diags.push(d);
                return plan.write(self.kind, change, diags);
            }
        };
        // Policies not yet known (from another resource) stay unknown: their
        // count and contents are decided at apply.
        if let Attr::Known(policies) = &mut plan.planned.policies {
            for (i, policy) in policies.iter_mut().enumerate() {
                if let Attr::Known(policy) = policy {
                    policy.resolve(&groups, &AttrPath::root("policies").index(i), diags);
                }
            }
            if let Some(prior) = &plan.prior {
                keep_equivalent_prior(change, prior.policy_list(), policies);
            }
        }
        plan.mark_update(change, diags);
        plan.write(self.kind, change, diags);
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
        let mut token: TokenModel = capture_model(planned, diags)?;
        let (client, owner) = self.session(data, token.account(), diags)?;
        if let Attr::Known(policies) = &mut token.policies {
            resolve_at_apply(data, owner.api(), policies, diags).await?;
        }
        let disabled = token.status.as_str() == Some("disabled");
        let created = match create_or_adopt(client, owner.api(), &token.request(None)).await {
            Ok((t, recovered)) => {
                if recovered {
                    diags.warning(
                        "Recovered a token whose creation answer was lost",
                        format!("The create request's response did not arrive; the token it created ({}) was found and rolled to obtain its value.", t.id),
                    );
                }
                t
            }
            Err(e) => {
                diags.push(api_error("Could not create the API token", &e));
                if let Some(full) = quota_reached(client, &owner, &e).await {
                    diags.push(full);
                }
                return None;
            }
        };
        token.fill_computed(&created, &owner);
        token.set_value(created.value.as_ref());
        // Create takes no status: a disabled token is disabled right after.
        if disabled {
            let request = token.request(Some("disabled".into()));
            match client
                .update_token(owner.api(), &created.id, &request)
                .await
            {
                Ok(updated) => {
                    token.fill_computed(&updated, &owner);
                    if updated.status.is_none() {
                        // The answer left it out: it is what was sent.
                        token.status = Attr::Known("disabled".into());
                    }
                }
                Err(e) => diags.push(api_error(
                    "The token was created but could not be disabled",
                    &e,
                )),
            }
        }
        to_state(&token, self.state_type(), diags)
    }

    // -------------------------------------------------------------------- read

    async fn read(
        &self,
        data: &Configured,
        state: &Value,
        private: &mut Private,
        diags: &mut Diagnostics,
    ) -> Option<Value> {
        let known: TokenModel = capture_model(state, diags)?;
        // Missing credentials are an error here, not a "gone".
        let (_, owner) = self.session(data, known.account(), diags)?;
        let id = known.id.as_str()?;
        let token = match data.read_token(owner.api(), id).await {
            Ok(Some(t)) => t,
            Ok(None) => {
                warn!(id, "token is gone; Terraform will plan to create it again");
                return None;
            }
            Err(e) => return failed("Could not read the API token", &e, diags),
        };
        // Policies the answer left out are taken as unchanged.
        let unchanged = token
            .policies
            .as_deref()
            .is_none_or(|p| same_policies(known.policy_list(), p));
        let new_state = if unchanged {
            state_from_api(&known, &token, &owner, None)
        } else {
            // Changed outside Terraform: rebuilt in the API's order, with
            // names from the catalog (an empty one if it cannot be had).
            private.insert(ORDER_FROM_API.into(), true.into());
            let catalog = data.permission_groups(owner.api()).await.ok();
            let groups = catalog.as_deref().map_or(&[][..], |g| g.as_slice());
            state_from_api(&known, &token, &owner, Some(groups))
        };
        // An expired token is explained by the plan that follows, once.
        if let Some(warning) = rolled_elsewhere(&known, &new_state) {
            diags.push(warning);
        }
        to_state(&new_state, self.state_type(), diags)
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
        let before: TokenModel = capture_model(prior, diags)?;
        let mut token: TokenModel = capture_model(planned, diags)?;
        let (client, owner) = self.session(data, token.account(), diags)?;
        let id = before.id.as_str()?.to_string();
        // What the plan knows of the attributes an answer also reports.
        let planned_known = (
            token.issued_on.clone(),
            token.last_used_on.clone(),
            token.status.clone(),
            token.modified_on.clone(),
        );
        if let Attr::Known(policies) = &mut token.policies {
            resolve_at_apply(data, owner.api(), policies, diags).await?;
        }
        // Fields Terraform did not plan to change stay as they were.
        token.id = before.id.clone();
        token.access_key_id = before.access_key_id.clone();
        token.issued_on = before.issued_on.clone();
        token.last_used_on = before.last_used_on.clone();
        if before.differs_for_api(&token) {
            let sendable = |s: &Attr<String>| {
                s.as_str()
                    .filter(|s| *s == "active" || *s == "disabled")
                    .map(str::to_string)
            };
            let status = sendable(&token.status).or_else(|| sendable(&before.status));
            match client
                .update_token(owner.api(), &id, &token.request(status))
                .await
            {
                Ok(updated) => {
                    token.fill_computed(&updated, &owner);
                    // What the plan already knew stands (last_used_on may
                    // have moved meanwhile; the next refresh shows it).
                    let (issued_on, last_used_on, status, modified_on) = planned_known;
                    let stands = |planned: &Attr<String>, now: &mut Attr<String>| {
                        if !planned.is_unknown() {
                            *now = planned.clone();
                        }
                    };
                    stands(&issued_on, &mut token.issued_on);
                    stands(&last_used_on, &mut token.last_used_on);
                    stands(&status, &mut token.status);
                    stands(&modified_on, &mut token.modified_on);
                }
                Err(e) => return failed("Could not update the API token", &e, diags),
            }
        }
        if token.rotation_triggers != before.rotation_triggers {
            match client.roll_token(owner.api(), &id).await {
                Ok(value) => {
                    token.set_value(Some(&value));
                    if token.modified_on.is_unknown() {
                        if let Ok(rolled) = client.get_token(owner.api(), &id).await {
                            token.modified_on = rolled.modified_on.into();
                        }
                    }
                }
                Err(e) if e.maybe_applied => {
                    // The roll may have happened (its answer was lost): the
                    // old value may be dead and the new one is unknown, so
                    // neither is kept. The prior triggers make the next
                    // apply roll again, which yields a fresh, live value.
                    diags.push(api_error("Could not roll the API token", &e));
                    diags.error(
                        "The token's value is no longer known",
                        format!("The roll of token {id} may have taken effect without its answer arriving, which would make the value in the state dead. value and secret_access_key are cleared, and rotation_triggers keeps its previous value: the next apply rolls the token again and stores a fresh value."),
                    );
                    token.set_value(None);
                    token.rotation_triggers = before.rotation_triggers.clone();
                }
                Err(e) => {
                    // Refused or never sent: the old value still works.
                    diags.push(api_error("Could not roll the API token", &e));
                    token.value = before.value.clone();
                    token.secret_access_key = before.secret_access_key.clone();
                    token.rotation_triggers = before.rotation_triggers.clone();
                }
            }
        }
        if token.status.is_unknown() {
            token.status = before.status.clone();
        }
        if token.modified_on.is_unknown() {
            token.modified_on = before.modified_on.clone();
        }
        to_state(&token, self.state_type(), diags)
    }

    // ------------------------------------------------------------------ delete

    async fn delete(&self, data: &Configured, state: &Value, diags: &mut Diagnostics) {
        let Some(known) = capture_model::<TokenModel>(state, diags) else {
            return;
        };
        let Some((client, owner)) = self.session(data, known.account(), diags) else {
            return;
        };
        let Some(id) = known.id.as_str() else { return };
        let result = client.delete_token(owner.api(), id).await;
        deleted(result, "Could not delete the API token", diags);
    }

    // ------------------------------------------------------------------ import

    async fn import(
        &self,
        data: &Configured,
        id: &str,
        diags: &mut Diagnostics,
    ) -> Option<(Value, Private)> {
        let (account_id, token_id) = match self.kind {
            OwnerKind::Account => {
                let default_account = if id.contains('/') {
                    None
                } else {
                    Some(capture(diags, data.account_id(&Value::Null))?)
                };
                let Some((account, token_id)) = parse_import_id(id, default_account.as_deref())
                else {
                    diags.error(
                        "Invalid import id",
                        format!("Expected <account_id>/<token_id> or <token_id>, got {id:?}."),
                    );
                    return None;
                };
                (Some(Attr::Known(account)), token_id)
            }
            OwnerKind::User => {
                if !is_token_id(id) {
                    diags.error(
                        "Invalid import id",
                        format!("Expected the user token's id, <token_id>, got {id:?}."),
                    );
                    return None;
                }
                (None, id.to_string())
            }
        };
        diags.warning(
            "The token value is not imported",
            "Cloudflare returns a token's value only when it is created or rolled, so value and secret_access_key are null after import. Set or change rotation_triggers to roll the token and obtain a fresh value.",
        );
        let skeleton = TokenModel {
            account_id,
            id: Attr::Known(token_id),
            ..TokenModel::default()
        };
        let state = to_state(&skeleton, self.state_type(), diags)?;
        let mut private = Private::new();
        private.insert(ORDER_FROM_API.into(), true.into());
        Some((state, private))
    }

    // -------------------------------------------------------------------- list

    fn list_schema(&self) -> Option<Schema> {
        let (what, mut arguments) = match self.kind {
            OwnerKind::Account => (
                "The API tokens of an account.",
                vec![listing::account_argument()],
            ),
            OwnerKind::User => (
                "The API tokens of the user the provider authenticates as.",
                Vec::new(),
            ),
        };
        arguments.push(listing::name_argument("token"));
        arguments.push(listing::status_argument());
        Some(listing::list_schema(what, arguments))
    }

    async fn list(
        &self,
        data: &Configured,
        config: &Value,
        sink: &ListSink,
        diags: &mut Diagnostics,
    ) {
        let account = match self.kind {
            OwnerKind::Account => match capture(diags, data.account_id(config.get("account_id"))) {
                Some(account) => Some(account),
                None => return,
            },
            OwnerKind::User => None,
        };
        let Some(client) = capture(diags, data.client()) else {
            return;
        };
        let owner = account
            .as_deref()
            .map_or(TokenOwner::User, TokenOwner::Account);
        let filter = Filter::of(config);
        send_pages(
            client.token_pages(owner),
            "API tokens",
            sink,
            diags,
            |token| {
                if !filter.keeps(token.name.as_deref(), token.status.as_deref()) {
                    return None;
                }
                data.prime_token(owner, token);
                Some(match &account {
                    Some(account) => format!("{account}/{}", token.id),
                    None => token.id.clone(),
                })
            },
        )
        .await;
    }

    fn check_model(&self) -> Result<(), String> {
        model::check::<TokenModel>(&Resource::<Configured>::schema(self))
    }
}

// ------------------------------------------------------------------ helpers

/// A policy, as the resource and the ephemeral token both take it.
pub(crate) fn policy_attributes() -> Vec<Attribute> {
    vec![
            Attribute::string("effect")
                .optional()
                .computed()
                .default("allow")
                .validate(Validator::OneOf(&["allow", "deny"]))
                .describe("`allow` (default) or `deny`. Deny policies win over allow policies."),
            Attribute::new("permission_groups", Type::set(Type::String)).required().validate(AT_LEAST_ONE).describe(
                "Permission group names (e.g. \"Workers R2 Storage Write\") or 32-hex ids, mixed freely; names are resolved at plan time.",
            ),
            Attribute::new("permission_group_ids", Type::set(Type::String))
                .computed()
                .describe("The resolved permission group ids, known at plan time."),
            Attribute::new("resources", Type::map(Type::String)).required().validate(AT_LEAST_ONE).semantic(Semantic::Json).describe(
                "Resource key → \"*\", or → a JSON object (jsonencode) for the nested form, e.g. {\"com.cloudflare.api.account.<id>\" = jsonencode({\"com.cloudflare.edge.r2.bucket.*\" = \"*\"})}. Compared by meaning.",
            ),
        ]
}

/// `condition { request_ip { in, not_in } }`, shared with the ephemeral token.
pub(crate) fn condition_attribute() -> Attribute {
    Attribute::nested(
        "condition",
        Nesting::Single,
        vec![
            Attribute::nested("request_ip", Nesting::Single, request_ip_attributes())
                .optional()
                .describe("Client IP restrictions."),
        ],
    )
    .optional()
    .describe("Conditions on the requests that may use the token.")
}

fn request_ip_attributes() -> Vec<Attribute> {
    vec![
        Attribute::new("in", Type::set(Type::String))
            .optional()
            .validate(Validator::Cidr)
            .semantic(Semantic::Cidr)
            .describe("CIDRs (or bare IPs, meaning /32 or /128) allowed to use the token."),
        Attribute::new("not_in", Type::set(Type::String))
            .optional()
            .validate(Validator::Cidr)
            .semantic(Semantic::Cidr)
            .describe("CIDRs (or bare IPs) refused."),
    ]
}

/// `<account_id>/<token_id>`, or `<token_id>` with the default account.
pub fn parse_import_id(id: &str, default_account: Option<&str>) -> Option<(String, String)> {
    let (account, token) = match id.split_once('/') {
        Some((account, token)) => (account, token),
        None => (default_account?, id),
    };
    (is_account_id(account) && is_token_id(token)).then(|| (account.to_string(), token.to_string()))
}

fn is_token_id(id: &str) -> bool {
    !id.is_empty()
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

/// Cloudflare's user token quota (account tokens have 500).
const USER_TOKEN_QUOTA: usize = 50;

/// After a refused create of a user token: whether the user already has
/// the 50 tokens Cloudflare allows, said as such. The count is taken from
/// the listing, so the explanation holds whatever code the refusal had.
async fn quota_reached(client: &Client, owner: &Owner, refusal: &ApiError) -> Option<Diagnostic> {
    if !matches!(owner, Owner::User { .. }) || refusal.maybe_applied {
        return None;
    }
    let count = client.list_tokens(owner.api()).await.ok()?.len();
    (count >= USER_TOKEN_QUOTA).then(|| {
        Diagnostic::error(
            "The user API token quota is reached",
            format!("Cloudflare allows {USER_TOKEN_QUOTA} user API tokens per user, and this user has {count}. Delete tokens that are no longer used (or use cfai_account_api_token, which allows 500 per account), then apply again."),
        )
    })
}

const AT_LEAST_ONE: Validator = Validator::Length {
    min: 1,
    max: usize::MAX,
};

fn not_blank(name: &Value) -> Result<(), String> {
    match name.as_str() {
        Some(n) if n.trim().is_empty() => Err("The name must not be blank.".into()),
        _ => Ok(()),
    }
}

/// A new token whose `expires_on` is not in the future would be created
/// expired: an error at plan, not a dead credential after apply. (A token
/// that exists and then expires is a warning, see [`plan_expired`].)
fn born_expired(expires_on: &Value, diags: &mut Diagnostics) {
    let Some(text) = expires_on.as_str() else {
        return;
    };
    let Some(at) = parse_rfc3339(text) else {
        return;
    };
    if at <= chrono::Utc::now() {
        diags.error_at(
            AttrPath::root("expires_on"),
            "Expiry in the past",
            format!("expires_on is {text}, which has passed: the new token would be expired from the start and authenticate nothing. Set a later time, or remove expires_on."),
        );
    }
}

/// A token Cloudflare reports `expired` (its `expires_on` passed, or was
/// moved into the past outside Terraform). The plan either revives it, when
/// the planned `expires_on` is absent or in the future (the apply sends it
/// and the status the configuration asks for), or keeps `expired`, which
/// means the same to the API as the configured `active` or `disabled` (the
/// token authenticates nothing either way): no perpetual diff, and a warning
/// saying when it expired and what to change.
fn plan_expired(
    prior: &PlanPart,
    config: &ConfigPart,
    planned: &mut PlanPart,
    change: &mut PlanChange,
    diags: &mut Diagnostics,
) {
    match prior.status.as_str() {
        Some("expired") => {}
        Some("active" | "disabled") | None => return,
        Some(unlisted) => return plan_unlisted_status(prior, unlisted, planned, change, diags),
    }
    let id = prior.id.as_str().unwrap_or("?");
    let since = match prior.expires_on.as_str() {
        Some(t) => format!("since {t}"),
        None => "(Cloudflare gave no expiry time)".to_string(),
    };
    let revives = match &planned.expires_on {
        Attr::Null => Some(true),
        Attr::Unknown => None,
        Attr::Known(t) => Some(parse_rfc3339(t).is_some_and(|t| t > chrono::Utc::now())),
    };
    match revives {
        Some(true) => {
            let status = match &config.status {
                Attr::Null => Attr::Known("active".to_string()),
                other => other.clone(),
            };
            let until = planned
                .expires_on
                .as_str()
                .map_or("no expiry".to_string(), |t| format!("expires_on {t}"));
            diags.push(Diagnostic::warning(
                "The API token has expired; this apply revives it",
                format!("Cloudflare reports token {id} as expired {since}. This apply sets {until}, after which the token authenticates again (its value is unchanged)."),
            ));
            planned.planned_status = Some(status);
        }
        Some(false) => {
            diags.push(Diagnostic::warning(
                "The API token has expired",
                format!("Cloudflare reports token {id} as expired {since}: it no longer authenticates, and `value` and `secret_access_key` in the state are dead. It stays in the state with status \"expired\" and is not replaced silently. To use it again, set expires_on to a later time (or remove it) and apply; or replace it with `terraform apply -replace=<address>`."),
            ));
            keep_prior_status(prior, planned, change);
        }
        // The new expiry is decided at apply: the configured status stands
        // (the API decides; the next refresh shows what it decided).
        None => {
            planned.planned_status = Some(match &config.status {
                Attr::Null => Attr::Unknown,
                configured => configured.clone(),
            });
        }
    }
}

/// A status Cloudflare reports that this provider does not know (a newer
/// API's `pending`, say): stored as sent and not fought, since what the
/// configured `active` or `disabled` would change about it is unknown.
fn plan_unlisted_status(
    prior: &PlanPart,
    status: &str,
    planned: &mut PlanPart,
    change: &mut PlanChange,
    diags: &mut Diagnostics,
) {
    let id = prior.id.as_str().unwrap_or("?");
    diags.push(Diagnostic::warning(
        "The API token has a status this provider does not know",
        format!("Cloudflare reports token {id} with status {status:?}. It is kept as reported and not changed to the configured status; if it stays so, check the token in the dashboard."),
    ));
    keep_prior_status(prior, planned, change);
}

/// The prior status planned, declared equivalent to the configured one.
fn keep_prior_status(prior: &PlanPart, planned: &mut PlanPart, change: &mut PlanChange) {
    planned.planned_status = Some(prior.status.clone());
    change.declare_equivalent(AttrPath::root("status"));
}

/// The token changed in Cloudflare although none of its settings did: most
/// likely its value was rolled elsewhere, and the stored one is stale.
fn rolled_elsewhere(prior: &TokenModel, refreshed: &TokenModel) -> Option<Diagnostic> {
    let (before, after) = (prior.modified_on.as_str()?, refreshed.modified_on.as_str()?);
    if before == after || prior.value.is_null() || prior.differs_for_api(refreshed) {
        return None;
    }
    Some(Diagnostic::warning(
        "The API token may have been rolled outside Terraform",
        format!(
            "Cloudflare reports token {} modified at {after} (the state knew {before}), yet none of its settings changed. If its value was rolled elsewhere, value and secret_access_key in the state are stale: change rotation_triggers to roll it from Terraform and store a fresh value.",
            refreshed.id.as_str().unwrap_or("?")
        ),
    ))
}
