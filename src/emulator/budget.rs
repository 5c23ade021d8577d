//! Cloudflare's per-token request budget as the API shows it: every answer
//! carries `Ratelimit: "default";r=<remaining>;t=<seconds to reset>`, and
//! once the budget of the current window is spent the API answers 429 with
//! `retry-after` until the window resets. Off unless configured; "another
//! client" spends from it with `spent`.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::time::Instant;

#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BudgetConfig {
    /// Requests per window.
    pub budget: u64,
    #[serde(default = "default_window")]
    pub window_secs: u64,
    /// Already spent in the current window (by another client).
    #[serde(default)]
    pub spent: u64,
}

fn default_window() -> u64 {
    300
}

#[derive(Debug, Default)]
pub(crate) struct Budget {
    config: Option<BudgetConfig>,
    used: u64,
    window_start: Option<Instant>,
    /// 429s answered because the budget was spent.
    pub(crate) rejected: u64,
}

/// The verdict for one request.
pub(crate) enum Verdict {
    /// No budget configured.
    Unlimited,
    Allowed {
        remaining: u64,
        reset: Duration,
    },
    Exhausted {
        reset: Duration,
    },
}

impl Budget {
    pub(crate) fn set(&mut self, config: BudgetConfig) {
        self.used = config.spent.min(config.budget);
        self.window_start = Some(Instant::now());
        self.config = Some(config);
    }

    pub(crate) fn take(&mut self, now: Instant) -> Verdict {
        let Some(config) = self.config else {
            return Verdict::Unlimited;
        };
        let window = Duration::from_secs(config.window_secs.max(1));
        let start = self.window_start.get_or_insert(now);
        if now >= *start + window {
            *start = now;
            self.used = 0;
        }
        let reset = (*start + window).saturating_duration_since(now);
        if self.used >= config.budget {
            self.rejected += 1;
            return Verdict::Exhausted { reset };
        }
        self.used += 1;
        Verdict::Allowed {
            remaining: config.budget - self.used,
            reset,
        }
    }
}

/// Seconds, rounded up, as the API writes them.
pub(crate) fn ceil_secs(d: Duration) -> u64 {
    d.as_secs() + u64::from(d.subsec_nanos() > 0)
}
