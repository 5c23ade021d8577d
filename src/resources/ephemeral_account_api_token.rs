//! Ephemeral `cfai_account_api_token`: an account token that lives for one
//! Terraform phase, e.g. to configure another provider without a
//! long-lived secret in state. Open creates it with
//! `expires_on` = now + `ttl`, so even a crashed run leaves nothing that
//! outlives it; Close deletes it.

use std::time::Duration;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use super::account_api_token::{condition_attribute, policy_attributes};
use super::common::{cached_schema, capture, capture_model, failed, session, to_state, ACCOUNT_ID};
use super::token_model::{ConditionModel, PolicyModel};
use super::token_state::create_or_adopt;
use crate::cloudflare::models::TokenRequest;
use crate::context::{api_error, Configured};
use crate::cty::Value;
use crate::framework::model::{self, Attr};
use crate::framework::{
    AttrPath, Attribute, Diagnostics, EphemeralResource, Nesting, Opened, Private, Schema,
    Validator,
};
use crate::r2::s3_secret_access_key;
use crate::secret::Secret;
use crate::validation::parse_go_duration;

pub struct EphemeralAccountApiToken;

/// The private data Close gets: which token to delete.
#[derive(Serialize, Deserialize)]
struct OpenedToken {
    account: String,
    id: String,
}

cached_schema!(EphemeralAccountApiToken, EphemeralResource);

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct EphemeralTokenModel {
    account_id: Attr<String>,
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
    match parse_go_duration(text) {
        Ok(d) if d.is_zero() || d > MAX_TTL => Err(format!(
            "ttl must be more than 0 and at most 24h, not {text:?}."
        )),
        Ok(_) => Ok(()),
        Err(e) => Err(format!(
            "{text:?} is not a duration such as \"1h\" or \"30m\": {e}"
        )),
    }
}

#[async_trait]
impl EphemeralResource<Configured> for EphemeralAccountApiToken {
    fn type_name(&self) -> &'static str {
        "cfai_account_api_token"
    }

    // ------------------------------------------------------------------ schema

    fn schema(&self) -> Schema {
        Schema::new("An account API token for one Terraform run: created when opened, with an expiry of `ttl`, and deleted when closed, or when Terraform shuts the provider down after a failed or interrupted run. Never written to plan or state.")
            .attribute(Attribute::string("account_id").optional().computed().validate(ACCOUNT_ID).describe("The owning account; defaults to the provider's."))
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
                    .describe("Access policies, as for the `cfai_account_api_token` resource (permission group names or ids)."),
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

    async fn open(
        &self,
        data: &Configured,
        config: &Value,
        diags: &mut Diagnostics,
    ) -> Option<Opened> {
        let mut m: EphemeralTokenModel = capture_model(config, diags)?;
        let (client, account) = session(data, m.account_id.as_str(), diags)?;
        let groups = capture(diags, data.permission_groups(&account).await)?;
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
        let token = match create_or_adopt(client, &account, &request).await {
            Ok((t, _)) => {
                // Deleted at Close, or when the provider shuts down first.
                data.run_tokens().opened(&account, &t.id);
                t
            }
            Err(e) => return failed("Could not create the run's API token", &e, diags),
        };
        // The client returns a created token with its value, or an error.
        let Some(value) = token.value else {
            diags.error(
                "Token without a value",
                format!("POST /accounts/{account}/tokens created token {} without a value; it expires at {expires_on}.", token.id),
            );
            return None;
        };
        m.account_id = Attr::Known(account.clone());
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
        let Ok(OpenedToken { account, id }) = serde_json::from_value(private) else {
            return;
        };
        let (account, id) = (account.as_str(), id.as_str());
        let Ok(client) = data.client() else { return };
        match client.delete_token(account, id).await {
            Ok(()) => data.run_tokens().closed(account, id),
            Err(e) if e.is_not_found() => data.run_tokens().closed(account, id),
            // Still remembered: the provider's shutdown tries again.
            Err(e) => diags.push(api_error(
                "Could not delete the run's API token (the provider tries again when Terraform shuts it down; it expires on its own at expires_on)",
                &e,
            )),
        }
    }

    fn check_model(&self) -> Result<(), String> {
        model::check::<EphemeralTokenModel>(self.known_schema())
    }
}
