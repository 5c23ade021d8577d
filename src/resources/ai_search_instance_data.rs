//! Data source `cfai_ai_search_instance`: one instance by id (and
//! namespace), every attribute of the resource plus indexing `stats`.

use async_trait::async_trait;

use super::ai_search_instance_fields::{computed, settings};
use super::common::{ACCOUNT_ID, AI_SEARCH_NAME};
use crate::context::{api_error, Configured};
use crate::cty::Value;
use crate::framework::{mapping, Attribute, DataSource, Diagnostics, Nesting, Schema, Validator};

pub struct AiSearchInstanceData;

fn identity() -> Vec<Attribute> {
    vec![
        Attribute::string("type")
            .computed()
            .describe("`r2` or `web-crawler`."),
        Attribute::string("source")
            .computed()
            .describe("The R2 bucket, or the crawled domain."),
        Attribute::string("token_id")
            .computed()
            .describe("The service token the instance reads its source with."),
        Attribute::string("embedding_model")
            .computed()
            .describe("The embedding model."),
        Attribute::string("status")
            .computed()
            .describe("What Cloudflare reports of the instance."),
        Attribute::number("engine_version")
            .computed()
            .describe("The AI Search engine version."),
        Attribute::string("public_endpoint_id")
            .computed()
            .describe("The id in the public endpoint's host name."),
        Attribute::string("created_at")
            .computed()
            .describe("When the instance was created."),
        Attribute::string("modified_at")
            .computed()
            .describe("When the instance was last changed."),
    ]
}

fn stats() -> Vec<Attribute> {
    ["completed", "queued", "running", "error", "skipped"]
        .into_iter()
        .map(|n| {
            Attribute::number(n)
                .computed()
                .describe(&format!("Items {n} (indexing progress)."))
        })
        .collect()
}

#[async_trait]
impl DataSource<Configured> for AiSearchInstanceData {
    fn type_name(&self) -> &'static str {
        "cfai_ai_search_instance"
    }

    fn schema(&self) -> Schema {
        let mut schema = Schema::new("An AI Search instance, with its indexing progress.")
            .attribute(
                Attribute::string("account_id")
                    .optional()
                    .computed()
                    .validate(ACCOUNT_ID)
                    .describe("The account; defaults to the provider's."),
            )
            .attribute(
                Attribute::string("id")
                    .required()
                    .validate(Validator::Length { min: 1, max: 64 })
                    .validate(AI_SEARCH_NAME)
                    .describe("The instance id."),
            )
            .attribute(
                Attribute::string("namespace")
                    .optional()
                    .computed()
                    .validate(AI_SEARCH_NAME)
                    .describe("The namespace; default `default`."),
            );
        for attr in identity().into_iter().chain(computed(settings())) {
            schema = schema.attribute(attr);
        }
        schema.attribute(
            Attribute::nested("stats", Nesting::Single, stats())
                .computed()
                .describe(
                    "Indexing progress: items completed, queued, running, in error and skipped.",
                ),
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
        let ns = config
            .get("namespace")
            .as_str()
            .unwrap_or("default")
            .to_string();
        let id = config.get("id").as_str()?.to_string();
        let instance = match client.get_instance(&account, Some(&ns), &id).await {
            Ok(i) => i,
            Err(e) => {
                diags.push(api_error(
                    &format!("Could not read AI Search instance {ns}/{id}"),
                    &e,
                ));
                return None;
            }
        };
        let progress = match client.instance_stats(&account, Some(&ns), &id).await {
            Ok(s) => s,
            Err(e) => {
                diags.push(api_error("Could not read the instance's stats", &e));
                return None;
            }
        };
        let schema = self.schema();
        let mut state = config.clone();
        state.set("account_id", Value::string(account));
        state.set("namespace", Value::string(ns));
        let json = serde_json::to_value(&instance).unwrap_or_default();
        let mut stats_value = Value::object(stats().iter().map(|a| (a.name.clone(), Value::Null)));
        let mapped = mapping::update_from_api(
            &schema.attributes,
            &mut state,
            &json,
            &["account_id", "namespace", "id", "stats"],
        )
        .and_then(|()| {
            mapping::update_from_api(
                &stats(),
                &mut stats_value,
                &serde_json::Value::Object(progress),
                &[],
            )
        });
        if let Err(e) = mapped {
            diags.error("Unexpected instance from the API", format!("{id}: {e}."));
            return None;
        }
        state.set("stats", stats_value);
        Some(state)
    }
}
