//! `cfai_ai_search_purge_cache` (action, Terraform >= 1.14): purges an AI
//! Search instance's search cache
//! (`POST .../namespaces/{name}/instances/{id}/purge_cache`). It changes
//! no state.

use async_trait::async_trait;

use super::common::{session, ACCOUNT_ID, AI_SEARCH_NAME};
use crate::context::{api_error, Configured};
use crate::cty::Value;
use crate::framework::{Action, Attribute, Diagnostics, Progress, Schema};

pub struct AiSearchPurgeCache;

#[async_trait]
impl Action<Configured> for AiSearchPurgeCache {
    fn type_name(&self) -> &'static str {
        "cfai_ai_search_purge_cache"
    }

    // ------------------------------------------------------------------ schema

    fn schema(&self) -> Schema {
        Schema::new("Purges the search cache of an AI Search instance, so that the next searches are answered afresh. Changes no state.")
            .attribute(
                Attribute::string("account_id")
                    .optional()
                    .validate(ACCOUNT_ID)
                    .describe("The instance's account (32 hex). Defaults to the provider's."),
            )
            .attribute(
                Attribute::string("namespace")
                    .optional()
                    .validate(AI_SEARCH_NAME)
                    .describe("The instance's namespace. Default `default`."),
            )
            .attribute(
                Attribute::string("instance_id")
                    .required()
                    .validate(AI_SEARCH_NAME)
                    .describe("The instance whose cache to purge."),
            )
    }

    // ------------------------------------------------------------------ invoke

    async fn invoke(
        &self,
        data: &Configured,
        config: &Value,
        progress: &Progress,
        diags: &mut Diagnostics,
    ) {
        let Some((client, account)) = session(data, config.get("account_id").as_str(), diags)
        else {
            return;
        };
        let namespace = config.get("namespace").as_str().unwrap_or("default");
        let Some(id) = config.get("instance_id").as_str() else {
            return;
        };
        match client.purge_cache(&account, Some(namespace), id).await {
            Ok(()) => {
                progress
                    .say(format!("Purged the search cache of {namespace}/{id}"))
                    .await
            }
            Err(e) => diags.push(api_error("Could not purge the search cache", &e)),
        }
    }
}
