//! One client-side limiter shared by every request of the provider process.
//!
//! Cloudflare allows 1200 requests per rolling 5 minutes per token (shared
//! with the dashboard and every other client of the token) and locks the
//! token out for 5 minutes when that is exceeded; per IP it allows 200 per
//! second. The limiter keeps the send times of recent requests and grants
//! the next one at the earliest instant at which:
//! - no sliding one-second window holds more than `per_second` requests;
//! - no sliding 5-minute window holds more than the 5-minute budget (so a
//!   burst goes through at full speed while the budget lasts, and pacing
//!   starts only when the budget is spent);
//! - the server's own budget, read from its `Ratelimit` header
//!   (`"default";r=<remaining>;t=<seconds to reset>`), is not exhausted:
//!   another client may have spent most of it. Until the first header of
//!   the process arrives, one request at a time goes out to learn it.
//!
//! Reservations are taken in arrival order under a mutex and slept outside
//! it, so concurrent callers are served fairly. A 429 pauses every caller
//! until its `retry-after`.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

const SECOND: Duration = Duration::from_secs(1);
const WINDOW: Duration = Duration::from_secs(300);
/// Longer waits than this are not representable as an `Instant` on every
/// platform; nothing this long is ever waited for anyway.
const FAR: Duration = Duration::from_secs(365 * 24 * 3600);

/// What the server's `Ratelimit` header said, adjusted for what was sent since.
#[derive(Debug, Clone, Copy)]
struct ServerBudget {
    remaining: u64,
    reset_at: Instant,
}

#[derive(Debug)]
struct State {
    per_second: usize,
    budget: usize,
    /// Grant times, oldest first, at most `per_second` of them.
    last_second: VecDeque<Instant>,
    /// Grant times, oldest first, at most `budget` of them.
    last_window: VecDeque<Instant>,
    paused_until: Option<Instant>,
    server: Option<ServerBudget>,
    /// Granted but not yet answered.
    in_flight: u64,
    /// Whether any response has told us the server's budget yet.
    probed: bool,
    last_grant: Option<Instant>,
}

impl State {
    fn earliest(&self, now: Instant) -> Option<Instant> {
        let mut t = now;
        if let Some(p) = self.paused_until {
            t = t.max(p);
        }
        if let Some(last) = self.last_grant {
            t = t.max(last);
        }
        if self.last_second.len() >= self.per_second {
            let oldest = self.last_second[self.last_second.len() - self.per_second];
            t = t.max(oldest + SECOND);
        }
        if self.last_window.len() >= self.budget {
            let oldest = self.last_window[self.last_window.len() - self.budget];
            t = t.max(oldest + WINDOW);
        }
        if let Some(server) = self.server {
            if server.remaining == 0 && t < server.reset_at {
                t = server.reset_at;
            }
        } else if !self.probed && self.in_flight > 0 {
            // Learn the server's budget from the first answer before sending more.
            return None;
        }
        Some(t)
    }

    fn grant(&mut self, t: Instant) {
        push_bounded(&mut self.last_second, t, self.per_second);
        push_bounded(&mut self.last_window, t, self.budget);
        self.last_grant = Some(t);
        self.in_flight += 1;
        if let Some(server) = &mut self.server {
            if t >= server.reset_at {
                // The server's window has rolled over: learn it afresh.
                self.server = None;
                self.probed = false;
            } else {
                server.remaining = server.remaining.saturating_sub(1);
            }
        }
    }
}

fn push_bounded(times: &mut VecDeque<Instant>, t: Instant, max: usize) {
    times.push_back(t);
    while times.len() > max {
        times.pop_front();
    }
}

/// One request's place in the limiter: dropping it marks the request as
/// answered (or abandoned), so it no longer counts as in flight.
pub struct Permit<'a> {
    limiter: &'a RateLimiter,
}

impl Drop for Permit<'_> {
    fn drop(&mut self) {
        let mut s = self.limiter.lock();
        s.in_flight = s.in_flight.saturating_sub(1);
        // An answer came (with a budget header or without one: a server
        // that sends none is paced by the client's own limits alone).
        s.probed = true;
        drop(s);
        self.limiter.changed.notify_waiters();
    }
}

#[derive(Debug)]
pub struct RateLimiter {
    state: Mutex<State>,
    changed: tokio::sync::Notify,
}

impl RateLimiter {
    pub fn new(per_5_minutes: u32, per_second: u32) -> Self {
        RateLimiter {
            state: Mutex::new(State {
                per_second: per_second.max(1) as usize,
                budget: per_5_minutes.max(1) as usize,
                last_second: VecDeque::new(),
                last_window: VecDeque::new(),
                paused_until: None,
                server: None,
                in_flight: 0,
                probed: false,
                last_grant: None,
            }),
            changed: tokio::sync::Notify::new(),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Waits for this request's turn; the permit is held until its answer
    /// has been read (and [`RateLimiter::observe`] called with its header).
    pub async fn acquire(&self) -> Permit<'_> {
        loop {
            let notified = self.changed.notified();
            let due = {
                let mut s = self.lock();
                match s.earliest(Instant::now()) {
                    Some(t) => {
                        s.grant(t);
                        Some(t)
                    }
                    None => None,
                }
            };
            match due {
                Some(t) => {
                    tokio::time::sleep_until(t).await;
                    return Permit { limiter: self };
                }
                None => notified.await,
            }
        }
    }

    /// The server said 429: nobody sends before `retry_after` has passed.
    pub fn pause_for(&self, retry_after: Duration) {
        let mut s = self.lock();
        let until = Instant::now() + retry_after.min(FAR);
        if s.paused_until.is_none_or(|p| p < until) {
            s.paused_until = Some(until);
        }
    }

    /// A response's `Ratelimit` header: `remaining` requests until the
    /// server's window resets in `reset`. Requests still in flight may not
    /// have been counted yet, so they are taken off as well.
    pub fn observe(&self, remaining: u64, reset: Duration) {
        let mut s = self.lock();
        let others = s.in_flight.saturating_sub(1);
        s.server = Some(ServerBudget {
            remaining: remaining.saturating_sub(others),
            reset_at: Instant::now() + reset.min(FAR),
        });
        s.probed = true;
        drop(s);
        self.changed.notify_waiters();
    }
}

/// `"default";r=50;t=30` → (50, 30 s). Other policies in a list are
/// ignored; `None` for anything unreadable.
pub fn parse_ratelimit_header(value: &str) -> Option<(u64, Duration)> {
    value.split(',').find_map(|item| {
        let mut parts = item.trim().split(';');
        let _name = parts.next()?;
        let (mut r, mut t) = (None, None);
        for param in parts {
            let (k, v) = param.trim().split_once('=')?;
            let v = v.trim().parse::<u64>().ok()?;
            match k.trim() {
                "r" => r = Some(v),
                "t" => t = Some(Duration::from_secs(v)),
                _ => {}
            }
        }
        Some((r?, t?))
    })
}

/// `retry-after` in seconds; an HTTP date or garbage is `None`.
pub fn parse_retry_after(value: &str) -> Option<Duration> {
    value.trim().parse::<u64>().ok().map(Duration::from_secs)
}

#[cfg(test)]
mod tests;
