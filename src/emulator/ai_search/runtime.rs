//! AI Search behaviours that depend on time, as Cloudflare shows them: a
//! freshly minted token is refused (7012) until it has propagated; a
//! deleted instance keeps its token "in use" (7076) while it is torn down
//! asynchronously; a sync job within the cooldown of the previous one is
//! refused (7020).

use std::collections::HashMap;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::time::Instant;

#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AiSearchConfig {
    /// How long after minting a token its registration is refused with 7012.
    #[serde(default)]
    pub token_propagation_ms: u64,
    /// How long a deleted instance keeps its token in use.
    #[serde(default)]
    pub instance_teardown_ms: u64,
    /// Minimum time between two sync jobs of one instance.
    #[serde(default = "default_cooldown")]
    pub sync_cooldown_ms: u64,
    /// How long a sync job runs before it shows `ended_at`.
    #[serde(default)]
    pub sync_job_ms: u64,
}

fn default_cooldown() -> u64 {
    30_000
}

impl Default for AiSearchConfig {
    fn default() -> Self {
        AiSearchConfig {
            token_propagation_ms: 0,
            instance_teardown_ms: 0,
            sync_cooldown_ms: default_cooldown(),
            sync_job_ms: 0,
        }
    }
}

#[derive(Debug, Default)]
pub(crate) struct Runtime {
    pub(crate) config: AiSearchConfig,
    minted_at: HashMap<String, Instant>,
    /// (token id, "namespace/instance", in use until)
    tearing_down: Vec<(String, String, Instant)>,
    /// "namespace/instance" → its sync jobs, oldest first.
    jobs: HashMap<String, Vec<Job>>,
    /// "namespace/instance" → how many times its cache was purged.
    purges: HashMap<String, u64>,
}

/// A sync job: it runs for `sync_job_ms`, then has ended.
#[derive(Debug, Clone)]
pub(crate) struct Job {
    pub(crate) id: String,
    pub(crate) started_at: String,
    started: Instant,
    runs_for: Duration,
    /// Set when the job is first seen ended (the wall-clock end).
    ended_at: Option<String>,
    /// Unix seconds of the start, for log lines.
    started_unix: f64,
}

/// A job as `GET .../jobs/{job_id}` shows it, and its log lines.
pub(crate) struct JobView {
    pub(crate) job: serde_json::Value,
    pub(crate) logs: Vec<serde_json::Value>,
}

impl Runtime {
    pub(crate) fn minted(&mut self, token_id: &str) {
        self.minted_at.insert(token_id.to_string(), Instant::now());
    }

    /// Whether a token minted moments ago has not propagated yet.
    pub(crate) fn propagating(&self, token_id: &str) -> bool {
        let window = Duration::from_millis(self.config.token_propagation_ms);
        self.minted_at
            .get(token_id)
            .is_some_and(|t| t.elapsed() < window)
    }

    /// A deleted instance's jobs are forgotten (a new one with its id is new).
    pub(crate) fn forget_jobs(&mut self, instance: &str) {
        self.jobs.remove(instance);
    }

    pub(crate) fn instance_deleted(&mut self, token_id: &str, instance: &str) {
        let until = Instant::now() + Duration::from_millis(self.config.instance_teardown_ms);
        self.tearing_down
            .push((token_id.to_string(), instance.to_string(), until));
    }

    /// Instances being torn down that still hold the token.
    pub(crate) fn still_holding(&mut self, token_id: &str) -> Vec<String> {
        let now = Instant::now();
        self.tearing_down.retain(|(_, _, until)| *until > now);
        self.tearing_down
            .iter()
            .filter(|(t, _, _)| t == token_id)
            .map(|(_, i, _)| i.clone())
            .collect()
    }

    /// Starts a job unless the cooldown refuses it; its id.
    pub(crate) fn start_job(&mut self, instance: &str, now: String, unix: f64) -> Option<String> {
        let cooldown = Duration::from_millis(self.config.sync_cooldown_ms);
        let jobs = self.jobs.entry(instance.to_string()).or_default();
        if jobs.last().is_some_and(|j| j.started.elapsed() < cooldown) {
            return None;
        }
        let id = uuid::Uuid::new_v4().to_string();
        jobs.push(Job {
            id: id.clone(),
            started_at: now,
            started: Instant::now(),
            runs_for: Duration::from_millis(self.config.sync_job_ms),
            ended_at: None,
            started_unix: unix,
        });
        Some(id)
    }

    /// A job of `instance` as it stands now; `None` when there is none.
    /// The emulator's jobs end with `end_reason` "completed" (Cloudflare
    /// documents no values: the provider reports whatever it finds).
    pub(crate) fn job(&mut self, instance: &str, job_id: &str, now: String) -> Option<JobView> {
        let job = self
            .jobs
            .get_mut(instance)?
            .iter_mut()
            .find(|j| j.id == job_id)?;
        let elapsed = job.started.elapsed();
        if elapsed >= job.runs_for && job.ended_at.is_none() {
            job.ended_at = Some(now);
        }
        let mut shown = serde_json::json!({
            "id": job.id, "source": "user", "description": "", "started_at": job.started_at,
            "last_seen_at": job.ended_at.clone().unwrap_or_else(|| job.started_at.clone()),
        });
        let mut logs = vec![(0.0, "Sync started")];
        let fraction = if job.runs_for.is_zero() {
            1.0
        } else {
            elapsed.as_secs_f64() / job.runs_for.as_secs_f64()
        };
        let span = job.runs_for.as_secs_f64();
        if fraction >= 0.3 {
            logs.push((span * 0.3, "Listed the objects of the source bucket"));
        }
        if fraction >= 0.6 {
            logs.push((span * 0.6, "Indexing changed objects"));
        }
        if let Some(ended) = &job.ended_at {
            shown["ended_at"] = ended.clone().into();
            shown["end_reason"] = "completed".into();
            logs.push((span, "Sync completed"));
        }
        let logs = logs
            .into_iter()
            .enumerate()
            .map(|(i, (after, message))| {
                serde_json::json!({
                    "id": i + 1, "message": message, "message_type": 1,
                    "created_at": job.started_unix + after,
                })
            })
            .collect();
        Some(JobView { job: shown, logs })
    }

    pub(crate) fn purged(&mut self, instance: &str) {
        *self.purges.entry(instance.to_string()).or_default() += 1;
    }

    pub(crate) fn purges(&self, instance: &str) -> u64 {
        self.purges.get(instance).copied().unwrap_or(0)
    }

    pub(crate) fn jobs_started(&self, instance: &str) -> u64 {
        self.jobs.get(instance).map_or(0, |jobs| jobs.len() as u64)
    }
}
