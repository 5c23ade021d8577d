//! Data source `cfai_ai_search_instance`: one instance by id (and
//! namespace), every attribute of the resource plus indexing `stats`.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use super::ai_search_instance_fields::{computed, settings, with_instance_settings};
use super::common::{
    cached_schema, capture_model, failed, from_answer, session, to_state, ACCOUNT_ID,
    AI_SEARCH_NAME,
};
use crate::context::Configured;
use crate::cty::{Number, Value};
use crate::framework::model::{self, Attr};
use crate::framework::{Attribute, DataSource, Diagnostics, Nesting, Schema, Sent, Validator};

pub struct AiSearchInstanceData;

cached_schema!(AiSearchInstanceData, DataSource);

with_instance_settings! {
    #[derive(Serialize, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct InstanceDataModel {
        account_id: Attr<String>,
        id: String,
        namespace: Attr<String>,
        r#type: Attr<String>,
        source: Attr<String>,
        token_id: Attr<String>,
        embedding_model: Attr<String>,
        status: Attr<String>,
        engine_version: Attr<Number>,
        public_endpoint_id: Attr<String>,
        created_at: Attr<String>,
        modified_at: Attr<String>,
        stats: Attr<Stats>,
    }
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Stats {
    completed: Attr<Number>,
    queued: Attr<Number>,
    running: Attr<Number>,
    error: Attr<Number>,
    skipped: Attr<Number>,
}

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
    .into_iter()
    .map(|a| a.api(Sent::Never))
    .collect()
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
        let mut wanted: InstanceDataModel = capture_model(config, diags)?;
        let (client, account) = session(data, wanted.account_id.as_str(), diags)?;
        let ns = wanted.namespace.as_str().unwrap_or("default").to_string();
        let (ns, id) = (ns.as_str(), wanted.id.clone());
        let id = id.as_str();
        let instance = match client.get_instance(&account, Some(ns), id).await {
            Ok(i) => i,
            Err(e) => {
                return failed(
                    &format!("Could not read AI Search instance {ns}/{id}"),
                    &e,
                    diags,
                )
            }
        };
        let progress = match client.instance_stats(&account, Some(ns), id).await {
            Ok(s) => s,
            Err(e) => return failed("Could not read the instance's stats", &e, diags),
        };
        // A count the answer leaves out (or does not give as a number) is null.
        let count = |name: &str| {
            progress
                .get(name)
                .filter(|v| v.is_number())
                .and_then(|v| Number::parse(&v.to_string()))
                .into()
        };
        wanted.stats = Attr::Known(Stats {
            completed: count("completed"),
            queued: count("queued"),
            running: count("running"),
            error: count("error"),
            skipped: count("skipped"),
        });
        wanted.account_id = Attr::Known(account);
        wanted.namespace = Attr::Known(ns.to_string());
        let base = to_state(&wanted, self.known_type(), diags)?;
        let object = format!("instance {id}");
        from_answer(
            self.known_schema(),
            &base,
            &instance,
            ("instance", &object),
            diags,
        )
    }

    fn check_model(&self) -> Result<(), String> {
        model::check::<InstanceDataModel>(self.known_schema())
    }
}
