//! `cfai_ai_search_purge_cache` (action, Terraform >= 1.14): purges an AI
//! Search instance's search cache
//! (`POST .../namespaces/{name}/instances/{id}/purge_cache`). It changes
//! no state.

use async_trait::async_trait;

use super::instance_action::{instance_arguments, Target};
use crate::context::{api_error, Configured};
use crate::cty::Value;
use crate::framework::{Action, Diagnostics, Progress, Schema};

pub struct AiSearchPurgeCache;

#[async_trait]
impl Action<Configured> for AiSearchPurgeCache {
    fn type_name(&self) -> &'static str {
        "cfai_ai_search_purge_cache"
    }

    // ------------------------------------------------------------------ schema

    fn schema(&self) -> Schema {
        instance_arguments(
            Schema::new("Purges the search cache of an AI Search instance, so that the next searches are answered afresh. Changes no state."),
            "The instance whose cache to purge.",
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
        let Some(Target {
            client,
            account,
            namespace,
            id,
        }) = Target::of(data, config, diags)
        else {
            return;
        };
        match client.purge_cache(&account, Some(&namespace), &id).await {
            Ok(()) => {
                progress
                    .say(format!("Purged the search cache of {namespace}/{id}"))
                    .await
            }
            Err(e) => diags.push(api_error("Could not purge the search cache", &e)),
        }
    }
}
