//! Data source `cfai_ai_search_service_tokens`: the service tokens
//! registered with AI Search in an account, so a configuration can reuse
//! the one the dashboard registered.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use super::common::{cached_schema, capture_model, failed, session, to_state, ACCOUNT_ID};
use crate::cloudflare::models::AiSearchToken;
use crate::context::Configured;
use crate::cty::Value;
use crate::framework::model::{self, Attr};
use crate::framework::{Attribute, DataSource, Diagnostics, Nesting, Schema};

pub struct AiSearchServiceTokens;

cached_schema!(AiSearchServiceTokens, DataSource);

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct ServiceTokensModel {
    account_id: Attr<String>,
    name: Option<String>,
    tokens: Attr<Vec<TokenModel>>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct TokenModel {
    id: String,
    name: String,
    cf_api_id: String,
    enabled: Option<bool>,
    legacy: Option<bool>,
    created_at: Option<String>,
    modified_at: Option<String>,
}

impl From<&AiSearchToken> for TokenModel {
    fn from(t: &AiSearchToken) -> Self {
        TokenModel {
            id: t.id.clone(),
            name: t.name.clone(),
            cf_api_id: t.cf_api_id.clone(),
            enabled: t.enabled,
            legacy: t.legacy,
            created_at: t.created_at.clone(),
            modified_at: t.modified_at.clone(),
        }
    }
}

/// Named as the API names the registration's fields.
fn token_attributes() -> Vec<Attribute> {
    vec![
        Attribute::string("id")
            .computed()
            .describe("The registration's id (for `cfai_ai_search_instance.token_id`)."),
        Attribute::string("name")
            .computed()
            .describe("The registration's name."),
        Attribute::string("cf_api_id")
            .computed()
            .describe("Id of the registered API token."),
        Attribute::bool("enabled")
            .computed()
            .describe("Whether AI Search may use it."),
        Attribute::bool("legacy")
            .computed()
            .describe("Cloudflare's legacy registration flag."),
        Attribute::string("created_at")
            .computed()
            .describe("When it was registered."),
        Attribute::string("modified_at")
            .computed()
            .describe("When it last changed."),
    ]
}

#[async_trait]
impl DataSource<Configured> for AiSearchServiceTokens {
    fn type_name(&self) -> &'static str {
        "cfai_ai_search_service_tokens"
    }

    fn schema(&self) -> Schema {
        Schema::new("The service tokens registered with AI Search in an account, optionally filtered by name.")
            .attribute(
                Attribute::string("account_id")
                    .optional()
                    .computed()
                    .validate(ACCOUNT_ID)
                    .describe("The account; defaults to the provider's."),
            )
            .attribute(
                Attribute::string("name")
                    .optional()
                    .describe("Keep tokens whose name contains this text (case-insensitive)."),
            )
            .attribute(
                Attribute::nested("tokens", Nesting::List, token_attributes())
                    .computed()
                    .describe("The matching registrations, sorted by name."),
            )
    }

    async fn read(
        &self,
        data: &Configured,
        config: &Value,
        diags: &mut Diagnostics,
    ) -> Option<Value> {
        let mut wanted: ServiceTokensModel = capture_model(config, diags)?;
        let (client, account) = session(data, wanted.account_id.as_str(), diags)?;
        let mut all = match client.list_ai_search_tokens(&account).await {
            Ok(t) => t,
            Err(e) => return failed("Could not list the AI Search service tokens", &e, diags),
        };
        let filter = wanted.name.as_deref().map(str::to_lowercase);
        all.retain(|t| {
            filter
                .as_ref()
                .is_none_or(|w| t.name.to_lowercase().contains(w))
        });
        all.sort_by(|a, b| a.name.cmp(&b.name).then_with(|| a.id.cmp(&b.id)));
        wanted.tokens = Attr::Known(all.iter().map(TokenModel::from).collect());
        wanted.account_id = Attr::Known(account);
        to_state(&wanted, self.known_type(), diags)
    }

    fn check_model(&self) -> Result<(), String> {
        model::check::<ServiceTokensModel>(self.known_schema())
    }
}
