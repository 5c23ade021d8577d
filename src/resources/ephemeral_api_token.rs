//! Ephemeral `cfai_account_api_token` and `cfai_user_api_token`: a token
//! that lives for one Terraform phase, e.g. to configure another provider
//! without a long-lived secret in state. Open creates it with
//! `expires_on` = now + `ttl`, so even a crashed run leaves nothing that
//! outlives it; Close deletes it. The two differ only in the owner: an
//! account, or the user the provider authenticates as (for credentials
//! that may only create user tokens).

use std::time::Duration;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use super::api_token::{condition_attribute, policy_attributes};
use super::common::{capture, capture_model, failed, session, to_state, ACCOUNT_ID};
use super::resource_keys;
use super::token_model::{present, ConditionModel, Owner, OwnerKind, PolicyModel};
use super::token_state::create_or_adopt;
use crate::cloudflare::models::TokenRequest;
use crate::cloudflare::tokens::TokenOwner;
use crate::context::{api_error, Configured};
use crate::cty::{Type, Value};
use crate::framework::model::{self, Attr};
use crate::framework::{
    AttrPath, Attribute, Diagnostics, EphemeralResource, Nesting, Opened, Private, Schema,
    Validator,
};
use crate::r2::s3_secret_access_key;
use crate::secret::Secret;
use crate::validation::parse_go_duration;

/// A run token, of one kind of owner.
pub struct EphemeralApiToken {
    kind: OwnerKind,
}

impl EphemeralApiToken {
    /// The ephemeral `cfai_account_api_token`.
    pub const ACCOUNT: EphemeralApiToken = EphemeralApiToken {
        kind: OwnerKind::Account,
    };
    /// The ephemeral `cfai_user_api_token`.
    pub const USER: EphemeralApiToken = EphemeralApiToken {
        kind: OwnerKind::User,
    };

    fn known_type(&self) -> &'static Type {
        use std::sync::OnceLock;
        static ACCOUNT: OnceLock<Type> = OnceLock::new();
        static USER: OnceLock<Type> = OnceLock::new();
        let cell = match self.kind {
            OwnerKind::Account => &ACCOUNT,
            OwnerKind::User => &USER,
        };
        cell.get_or_init(|| EphemeralResource::<Configured>::schema(self).cty_type())
    }
}

/// The private data Close gets: which token to delete (no account for a
/// user's token).
#[derive(Serialize, Deserialize)]
struct OpenedToken {
    #[serde(default)]
    account: Option<String>,
    id: String,
}

impl OpenedToken {
    fn owner(&self) -> TokenOwner<'_> {
        self.account
            .as_deref()
            .map_or(TokenOwner::User, TokenOwner::Account)
    }
}

/// The user's token has no `account_id` (`None`).
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct EphemeralTokenModel {
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    account_id: Option<Attr<String>>,
    name: String,
    policies: Vec<PolicyModel>,
    condition: Attr<ConditionModel>,
    ttl: Attr<String>,
    id: Attr<String>,
    value: Attr<Secret>,
    access_key_id: Attr<String>,
    secret_access_key: Attr<Secret>,
    expires_on: Attr<String>,
}

const DEFAULT_TTL: Duration = Duration::from_secs(3600);
const MAX_TTL: Duration = Duration::from_secs(24 * 3600);

fn ttl(value: &Value) -> Result<(), String> {
    let Some(text) = value.as_str() else {
        return Ok(());
    };
    let out_of_range = || format!("ttl must be more than 0 and at most 24h, not {text:?}.");
    if text.trim_start().starts_with('-') {
        return Err(out_of_range());
    }
    match parse_go_duration(text) {
        Ok(d) if d.is_zero() || d > MAX_TTL => Err(out_of_range()),
        Ok(_) => Ok(()),
        // The parser's message names the text and what it expected.
        Err(e) => Err(format!("{e}; ttl is a duration such as \"1h\" or \"30m\".")),
    }
}

#[async_trait]
impl EphemeralResource<Configured> for EphemeralApiToken {
    fn type_name(&self) -> &'static str {
        match self.kind {
            OwnerKind::Account => "cfai_account_api_token",
            OwnerKind::User => "cfai_user_api_token",
        }
    }

    // ------------------------------------------------------------------ schema

    fn schema(&self) -> Schema {
        let (about, resource) = match self.kind {
            OwnerKind::Account => ("An account API token for one Terraform run: created when opened, with an expiry of `ttl`, and deleted when closed, or when Terraform shuts the provider down after a failed or interrupted run. Never written to plan or state.", "cfai_account_api_token"),
            OwnerKind::User => ("A user API token (owned by the user the provider authenticates as) for one Terraform run: created when opened, with an expiry of `ttl`, and deleted when closed, or when Terraform shuts the provider down after a failed or interrupted run. Never written to plan or state. For credentials that may only create user tokens.", "cfai_user_api_token"),
        };
        let schema = Schema::new(about);
        let schema = match self.kind {
            OwnerKind::Account => schema.attribute(
                Attribute::string("account_id")
                    .optional()
                    .computed()
                    .validate(ACCOUNT_ID)
                    .describe("The owning account; defaults to the provider's."),
            ),
            OwnerKind::User => schema,
        };
        schema
            .attribute(
                Attribute::string("name")
                    .required()
                    .validate(Validator::Length { min: 1, max: 120 })
                    .describe("Token name, 1 to 120 characters."),
            )
            .attribute(
                Attribute::nested("policies", Nesting::List, policy_attributes())
                    .required()
                    .validate(Validator::Length { min: 1, max: usize::MAX })
                    .describe(&format!("Access policies, as for the `{resource}` resource (permission group names or ids).")),
            )
            .attribute(condition_attribute())
            .attribute(
                Attribute::string("ttl")
                    .optional()
                    .computed()
                    .validate(Validator::Custom(ttl))
                    .describe("How long the token may live: a duration such as \"30m\", at most \"24h\"; default \"1h\". Closing deletes it earlier."),
            )
            .attribute(Attribute::string("id").computed().describe("The token id."))
            .attribute(Attribute::string("value").computed().sensitive().describe("The token's secret."))
            .attribute(Attribute::string("access_key_id").computed().describe("R2 S3 access key id (the token id)."))
            .attribute(Attribute::string("secret_access_key").computed().sensitive().describe("R2 S3 secret access key: SHA-256 of value."))
            .attribute(Attribute::string("expires_on").computed().describe("When Cloudflare expires the token (RFC 3339)."))
    }

    // -------------------------------------------------------------------- open

    // ---------------------------------------------------------------- validate

    fn validate(&self, config: &Value, diags: &mut Diagnostics) {
        // Policies may hold unknowns here: each known policy's resource keys.
        for (i, policy) in config.get("policies").elements().iter().enumerate() {
            if let Ok(policy) = model::get::<PolicyModel>(policy) {
                let path = AttrPath::root("policies").index(i);
                resource_keys::validate(&policy.resources, path, diags);
            }
        }
    }

    async fn open(
        &self,
        data: &Configured,
        config: &Value,
        diags: &mut Diagnostics,
    ) -> Option<Opened> {
        let mut m: EphemeralTokenModel = capture_model(config, diags)?;
        let (client, owner) = match self.kind {
            OwnerKind::Account => {
                let account = m.account_id.as_ref().and_then(Attr::as_str);
                let (client, account) = session(data, account, diags)?;
                (client, Owner::Account(account))
            }
            OwnerKind::User => (
                capture(diags, data.client())?,
                Owner::User {
                    endpoint_account: None,
                },
            ),
        };
        let groups = capture(diags, data.permission_groups(owner.api()).await)?;
        for (i, policy) in m.policies.iter_mut().enumerate() {
            policy.resolve(&groups, &AttrPath::root("policies").index(i), diags);
            if policy.effect.is_null() {
                policy.effect = Attr::Known("allow".into());
            }
        }
        if diags.has_errors() {
            return None;
        }
        let ttl_text = m.ttl.as_str().unwrap_or("1h").to_string();
        let lifetime = parse_go_duration(&ttl_text)
            .unwrap_or(DEFAULT_TTL)
            .min(MAX_TTL);
        let expires = chrono::Utc::now()
            + chrono::Duration::from_std(lifetime).unwrap_or(chrono::Duration::hours(1));
        let expires_on = expires.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        let request = TokenRequest {
            name: m.name.clone(),
            policies: m.policies.iter().map(PolicyModel::to_api).collect(),
            condition: ConditionModel::to_api(&m.condition),
            not_before: None,
            expires_on: Some(expires_on.clone()),
            status: None,
        };
        let token = match create_or_adopt(client, owner.api(), &request).await {
            Ok((t, _)) => {
                // Deleted at Close, or when the provider shuts down first.
                data.run_tokens().opened(owner.api(), &t.id);
                t
            }
            Err(e) => return failed("Could not create the run's API token", &e, diags),
        };
        // The client returns a created token with its value, or an error.
        let Some(value) = token.value else {
            diags.error(
                "Token without a value",
                format!(
                    "Cloudflare created token {} without a value; it expires at {expires_on}.",
                    token.id
                ),
            );
            return None;
        };
        let account = match owner {
            Owner::Account(account) => Some(account),
            Owner::User { .. } => None,
        };
        if let Some(account) = &account {
            m.account_id = Some(Attr::Known(account.clone()));
        }
        m.ttl = Attr::Known(ttl_text);
        m.id = Attr::Known(token.id.clone());
        m.access_key_id = Attr::Known(token.id.clone());
        m.secret_access_key = Attr::Known(Secret::new(s3_secret_access_key(value.expose())));
        m.value = Attr::Known(value);
        m.expires_on = Attr::Known(expires_on);
        let result = to_state(&m, self.known_type(), diags)?;
        let opened = OpenedToken {
            account,
            id: token.id,
        };
        let private = match serde_json::to_value(&opened) {
            Ok(serde_json::Value::Object(private)) => private,
            _ => Private::new(),
        };
        Some(Opened {
            result,
            private,
            renew_at: None,
        })
    }

    // ------------------------------------------------------------------- close

    async fn close(&self, data: &Configured, private: &Private, diags: &mut Diagnostics) {
        let private = serde_json::Value::Object(private.clone());
        let Ok(opened) = serde_json::from_value::<OpenedToken>(private) else {
            return;
        };
        let (owner, id) = (opened.owner(), opened.id.as_str());
        let Ok(client) = data.client() else { return };
        match client.delete_token(owner, id).await {
            Ok(()) => data.run_tokens().closed(owner, id),
            Err(e) if e.is_not_found() => data.run_tokens().closed(owner, id),
            // Still remembered: the provider's shutdown tries again.
            Err(e) => diags.push(api_error(
                "Could not delete the run's API token (the provider tries again when Terraform shuts it down; it expires on its own at expires_on)",
                &e,
            )),
        }
    }

    fn check_model(&self) -> Result<(), String> {
        model::check::<EphemeralTokenModel>(&EphemeralResource::<Configured>::schema(self))
    }
}
