//! Data source `cfai_ai_search_service_tokens`: the service tokens
//! registered with AI Search in an account, so a configuration can reuse
//! the one the dashboard registered.

use async_trait::async_trait;

use super::common::ACCOUNT_ID;
use crate::context::{api_error, Configured};
use crate::cty::Value;
use crate::framework::{mapping, Attribute, DataSource, Diagnostics, Nesting, Schema};

pub struct AiSearchServiceTokens;

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
        let account = data
            .account_id(config.get("account_id"))
            .map_err(|d| diags.push(d))
            .ok()?;
        let client = data.client().map_err(|d| diags.push(d)).ok()?;
        let mut all = match client.list_ai_search_tokens(&account).await {
            Ok(t) => t,
            Err(e) => {
                diags.push(api_error("Could not list the AI Search service tokens", &e));
                return None;
            }
        };
        let wanted = config.get("name").as_str().map(str::to_lowercase);
        all.retain(|t| {
            wanted
                .as_ref()
                .is_none_or(|w| t.name.to_lowercase().contains(w))
        });
        all.sort_by(|a, b| a.name.cmp(&b.name).then_with(|| a.id.cmp(&b.id)));
        let attrs = token_attributes();
        let mut tokens = Vec::with_capacity(all.len());
        for t in &all {
            let mut item = Value::object(attrs.iter().map(|a| (a.name.clone(), Value::Null)));
            let json = serde_json::to_value(t).unwrap_or_default();
            if let Err(e) = mapping::update_from_api(&attrs, &mut item, &json, &[]) {
                diags.error(
                    "Unexpected service token from the API",
                    format!("{}: {e}.", t.id),
                );
                return None;
            }
            tokens.push(item);
        }
        let mut state = config.clone();
        state.set("account_id", Value::string(account));
        state.set("tokens", Value::List(tokens));
        Some(state)
    }
}
