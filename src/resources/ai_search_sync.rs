//! `cfai_ai_search_sync` (action, Terraform >= 1.14): starts a sync job of
//! an AI Search instance (`POST .../jobs`), riding out the 30-second
//! cooldown between jobs (7020) within `timeout`; with `wait`, follows the
//! job (`GET .../jobs/{job_id}` and its log) until it has ended, telling
//! each log line as progress. It changes no state.

use std::time::Duration;

use async_trait::async_trait;
use tokio::time::Instant;

use super::instance_action::{instance_arguments, Target};
use crate::cloudflare::ai_search::JOB_LOG_PAGE;
use crate::cloudflare::{ApiError, Client};
use crate::context::{api_error, Configured};
use crate::cty::Value;
use crate::framework::{Action, Attribute, Diagnostics, Progress, Schema, Validator};
use crate::validation::parse_go_duration;

pub struct AiSearchSync;

const SYNC_IN_COOLDOWN: i64 = 7020;
const DEFAULT_TIMEOUT: &str = "10m";
/// How often a running job is looked at.
const POLL: Duration = Duration::from_secs(1);

#[async_trait]
impl Action<Configured> for AiSearchSync {
    fn type_name(&self) -> &'static str {
        "cfai_ai_search_sync"
    }

    // ------------------------------------------------------------------ schema

    fn schema(&self) -> Schema {
        instance_arguments(
            Schema::new("Runs a sync job of an AI Search instance (re-indexes its source now), and by default waits for it to end, printing the job's log as it goes. Changes no state."),
            "The instance to sync.",
        )
            .attribute(
                Attribute::bool("wait")
                    .optional()
                    .describe("Whether to follow the job until it has ended (default true). False: the action ends once the job has started."),
            )
            .attribute(
                Attribute::string("timeout")
                    .optional()
                    .validate(Validator::Custom(duration))
                    .describe("How long to wait, in all, for the cooldown between jobs (30 s) and for the job to end: a duration such as `\"90s\"` or `\"10m\"`. Default `\"10m\"`. When it runs out the action fails, naming the job (which goes on in Cloudflare)."),
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
        let Some(target) = Target::of(data, config, diags) else {
            return;
        };
        let (namespace, id) = (target.namespace.as_str(), target.id.as_str());
        let timeout_text = config.get("timeout").as_str().unwrap_or(DEFAULT_TIMEOUT);
        let timeout = parse_go_duration(timeout_text).unwrap_or(Duration::from_secs(600));
        let deadline = Instant::now() + timeout;
        let instance = Instance {
            client: target.client,
            account: &target.account,
            namespace,
            id,
        };

        let job_id = match instance.start(progress, deadline).await {
            Ok(job_id) => job_id,
            Err(Refused::Api(e)) => {
                diags.push(api_error("Could not start the sync job", &e));
                return;
            }
            Err(Refused::Cooldown) => {
                diags.error(
                    "The sync job could not start in time",
                    format!("AI Search instance {namespace}/{id} was still in the cooldown between sync jobs (Cloudflare API error 7020) when the timeout of {timeout_text} ran out. Raise timeout, or run the action again later."),
                );
                return;
            }
        };
        progress
            .say(format!("Sync job {job_id} of {namespace}/{id} started"))
            .await;
        if config.get("wait").as_bool() == Some(false) {
            return;
        }
        match instance.follow(&job_id, progress, deadline).await {
            Ok(end_reason) => {
                progress
                    .say(format!("Sync job {job_id} ended: {end_reason}"))
                    .await;
            }
            Err(Some(e)) => diags.push(api_error(
                &format!("Could not follow sync job {job_id}"),
                &e,
            )),
            Err(None) => diags.error(
                "The sync job did not end in time",
                format!("Sync job {job_id} of AI Search instance {namespace}/{id} had not ended when the timeout of {timeout_text} ran out. It goes on in Cloudflare; raise timeout to wait longer, or set wait = false not to wait."),
            ),
        }
    }
}

/// Why a job could not start.
enum Refused {
    Api(ApiError),
    Cooldown,
}

struct Instance<'a> {
    client: &'a Client,
    account: &'a str,
    namespace: &'a str,
    id: &'a str,
}

impl Instance<'_> {
    /// Starts a job, waiting out the cooldown until `deadline`.
    async fn start(&self, progress: &Progress, deadline: Instant) -> Result<String, Refused> {
        let mut pause = Duration::from_secs(2);
        let mut told = false;
        loop {
            let started = self
                .client
                .start_sync_job(self.account, Some(self.namespace), self.id)
                .await;
            match started {
                Ok(job) => {
                    return Ok(job
                        .get("id")
                        .and_then(|v| v.as_str())
                        .unwrap_or_default()
                        .to_string())
                }
                Err(e) if e.errors.iter().any(|m| m.code == SYNC_IN_COOLDOWN) => {
                    let now = Instant::now();
                    if now >= deadline {
                        return Err(Refused::Cooldown);
                    }
                    if !told {
                        progress
                            .say("A sync job ran within the last 30 seconds (cooldown): waiting to start another")
                            .await;
                        told = true;
                    }
                    tokio::time::sleep(pause.min(deadline - now)).await;
                    pause = (pause * 2).min(Duration::from_secs(10));
                }
                Err(e) => return Err(Refused::Api(e)),
            }
        }
    }

    /// Follows the job until it has ended (its `end_reason`), telling its
    /// new log lines; `Err(None)` when `deadline` comes first.
    async fn follow(
        &self,
        job_id: &str,
        progress: &Progress,
        deadline: Instant,
    ) -> Result<String, Option<ApiError>> {
        let mut seen = 0u64;
        loop {
            // The job first: a job seen ended has all its log lines out.
            let job = self
                .client
                .get_job(self.account, Some(self.namespace), self.id, job_id)
                .await
                .map_err(Some)?;
            seen = self.tell_log(job_id, seen, progress).await.map_err(Some)?;
            if job.ended_at.is_some() {
                return Ok(job
                    .end_reason
                    .unwrap_or_else(|| "no end reason given".into()));
            }
            let now = Instant::now();
            if now >= deadline {
                return Err(None);
            }
            tokio::time::sleep(POLL.min(deadline - now)).await;
        }
    }

    /// Tells the log lines after the first `seen`; how many there are now.
    async fn tell_log(
        &self,
        job_id: &str,
        seen: u64,
        progress: &Progress,
    ) -> Result<u64, ApiError> {
        let mut seen = seen;
        loop {
            let page = seen / JOB_LOG_PAGE + 1;
            let lines = self
                .client
                .job_logs(self.account, Some(self.namespace), self.id, job_id, page)
                .await?;
            let got = lines.len() as u64;
            let skip = seen % JOB_LOG_PAGE;
            for line in lines.into_iter().skip(skip as usize) {
                progress.say(format!("{job_id}: {}", line.message)).await;
                seen += 1;
            }
            if got < JOB_LOG_PAGE {
                return Ok(seen);
            }
        }
    }
}

fn duration(value: &Value) -> Result<(), String> {
    match value.as_str() {
        Some(text) => parse_go_duration(text)
            .map(|_| ())
            .map_err(|e| format!("{e} (a duration such as \"90s\" or \"10m\")")),
        None => Ok(()),
    }
}
