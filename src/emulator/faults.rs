//! Fault injection: latency, throttling and server errors before any state
//! change, and "commit, then drop the connection" — the ambiguous case a
//! client must not blindly retry.

use std::collections::VecDeque;
use std::time::Duration;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Fault {
    /// 429 with `retry-after: seconds`, nothing processed.
    TooManyRequests { retry_after: u64 },
    /// A JSON error envelope with this status, nothing processed.
    Status { status: u16 },
    /// An HTML error page (what a proxy in front of the API sends).
    HtmlStatus { status: u16 },
    /// Process the request, then close the connection without answering.
    DropAfterCommit,
    /// An AI Search style error with this status, code and machine message,
    /// nothing processed (e.g. `7012 ai_search_instance_invalid_token`).
    Error {
        status: u16,
        code: i64,
        message: String,
    },
}

/// Random faults at given rates, plus a queue of faults for the next requests.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaultConfig {
    #[serde(default)]
    pub latency_ms: u64,
    /// Delay after the request has been processed: the change is made,
    /// the answer is slow (a client that gives up meanwhile loses it).
    #[serde(default)]
    pub response_latency_ms: u64,
    #[serde(default)]
    pub rate_429: f64,
    #[serde(default = "default_retry_after")]
    pub retry_after: u64,
    #[serde(default)]
    pub rate_5xx: f64,
    #[serde(default = "default_5xx")]
    pub status_5xx: u16,
    #[serde(default)]
    pub rate_drop: f64,
    #[serde(default)]
    pub seed: u64,
    /// Only requests whose path contains this are faulted (all when empty).
    #[serde(default)]
    pub path_filter: String,
    /// Only requests with this method are faulted (all when empty).
    #[serde(default)]
    pub method: String,
    #[serde(default)]
    pub script: VecDeque<Fault>,
}

fn default_retry_after() -> u64 {
    1
}

fn default_5xx() -> u16 {
    503
}

pub struct FaultState {
    pub config: FaultConfig,
    rng: StdRng,
    pub injected: u64,
}

impl Default for FaultState {
    fn default() -> Self {
        FaultState {
            config: FaultConfig::default(),
            rng: StdRng::seed_from_u64(0),
            injected: 0,
        }
    }
}

impl FaultState {
    pub fn set(&mut self, config: FaultConfig) {
        self.rng = StdRng::seed_from_u64(config.seed);
        self.config = config;
    }

    /// Whether the filters (`path_filter`, `method`) select this request.
    fn selects(&self, method: &str, path: &str) -> bool {
        (self.config.path_filter.is_empty() || path.contains(&self.config.path_filter))
            && (self.config.method.is_empty() || self.config.method.eq_ignore_ascii_case(method))
    }

    /// For the requests the filters select.
    pub fn response_latency(&self, method: &str, path: &str) -> Duration {
        if self.selects(method, path) {
            Duration::from_millis(self.config.response_latency_ms)
        } else {
            Duration::ZERO
        }
    }

    /// For the requests the filters select.
    pub fn latency(&self, method: &str, path: &str) -> Duration {
        if self.selects(method, path) {
            Duration::from_millis(self.config.latency_ms)
        } else {
            Duration::ZERO
        }
    }

    pub fn next(&mut self, method: &str, path: &str) -> Option<Fault> {
        if !self.selects(method, path) {
            return None;
        }
        let fault = self.config.script.pop_front().or_else(|| {
            let c = &self.config;
            let (r429, r5xx, rdrop) = (c.rate_429, c.rate_5xx, c.rate_drop);
            if r429 > 0.0 && self.rng.random_bool(r429.min(1.0)) {
                Some(Fault::TooManyRequests {
                    retry_after: c.retry_after,
                })
            } else if r5xx > 0.0 && self.rng.random_bool(r5xx.min(1.0)) {
                Some(Fault::Status {
                    status: c.status_5xx,
                })
            } else if rdrop > 0.0 && self.rng.random_bool(rdrop.min(1.0)) {
                Some(Fault::DropAfterCommit)
            } else {
                None
            }
        });
        if fault.is_some() {
            self.injected += 1;
        }
        fault
    }
}
