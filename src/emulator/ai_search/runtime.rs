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
        }
    }
}

#[derive(Debug, Default)]
pub(crate) struct Runtime {
    pub(crate) config: AiSearchConfig,
    minted_at: HashMap<String, Instant>,
    /// (token id, "namespace/instance", in use until)
    tearing_down: Vec<(String, String, Instant)>,
    /// "namespace/instance" → (jobs started, last start)
    jobs: HashMap<String, (u64, Instant)>,
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

    /// Starts a job unless the cooldown refuses it.
    pub(crate) fn start_job(&mut self, instance: &str) -> bool {
        let cooldown = Duration::from_millis(self.config.sync_cooldown_ms);
        let now = Instant::now();
        match self.jobs.get_mut(instance) {
            Some((_, last)) if now.duration_since(*last) < cooldown => false,
            Some((count, last)) => {
                *count += 1;
                *last = now;
                true
            }
            None => {
                self.jobs.insert(instance.to_string(), (1, now));
                true
            }
        }
    }

    pub(crate) fn jobs_started(&self, instance: &str) -> u64 {
        self.jobs.get(instance).map_or(0, |(n, _)| *n)
    }
}
