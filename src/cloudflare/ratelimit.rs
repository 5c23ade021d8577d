//! One client-side limiter shared by every request of the provider process.
//!
//! Cloudflare allows 1200 requests per rolling 5 minutes per token and
//! locks the token out for 5 minutes when that is exceeded. Two token
//! buckets are combined:
//! - a per-second bucket (capacity and rate `per_second`) caps bursts;
//! - a 5-minute bucket of capacity `B` refilled at `(budget - B) / 300 s`,
//!   so any 5-minute window holds at most `B + (budget - B) = budget`
//!   requests. With `B` = a quarter of the budget, a few hundred requests
//!   go through at full speed and a long apply settles at 3/4 of the
//!   budget's average rate instead of hitting the lockout.
//!
//! Reservations are taken in arrival order under a mutex and slept outside
//! it, so concurrent callers are served fairly. A 429 from the server pauses
//! every caller until its `retry-after`.

use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

const WINDOW: Duration = Duration::from_secs(300);

#[derive(Debug)]
struct Bucket {
    capacity: f64,
    per_sec: f64,
    tokens: f64,
    updated: Instant,
}

impl Bucket {
    fn new(capacity: f64, per_sec: f64, now: Instant) -> Self {
        Bucket {
            capacity,
            per_sec,
            tokens: capacity,
            updated: now,
        }
    }

    /// Takes one token, possibly going into debt; returns when it is due.
    fn reserve(&mut self, now: Instant) -> Instant {
        let elapsed = now.saturating_duration_since(self.updated).as_secs_f64();
        self.tokens = (self.tokens + elapsed * self.per_sec).min(self.capacity);
        self.updated = now;
        self.tokens -= 1.0;
        if self.tokens >= 0.0 {
            now
        } else {
            now + Duration::from_secs_f64(-self.tokens / self.per_sec)
        }
    }
}

#[derive(Debug)]
struct State {
    second: Bucket,
    window: Bucket,
    paused_until: Option<Instant>,
}

#[derive(Debug)]
pub struct RateLimiter {
    state: Mutex<State>,
}

impl RateLimiter {
    pub fn new(per_5_minutes: u32, per_second: u32) -> Self {
        let now = Instant::now();
        let budget = per_5_minutes.max(1) as f64;
        let burst = (budget / 4.0).max(1.0);
        let refill = ((budget - burst).max(1.0)) / WINDOW.as_secs_f64();
        let per_second = per_second.max(1) as f64;
        RateLimiter {
            state: Mutex::new(State {
                second: Bucket::new(per_second, per_second, now),
                window: Bucket::new(burst, refill, now),
                paused_until: None,
            }),
        }
    }

    /// Waits for this request's turn.
    pub async fn acquire(&self) {
        let due = {
            let mut s = self.state.lock().unwrap_or_else(|p| p.into_inner());
            let now = Instant::now();
            let start = match s.paused_until {
                Some(until) if until > now => until,
                _ => now,
            };
            let a = s.second.reserve(start);
            let b = s.window.reserve(start);
            a.max(b)
        };
        tokio::time::sleep_until(due).await;
    }

    /// The server said 429: nobody sends before `retry_after` has passed.
    pub fn pause_for(&self, retry_after: Duration) {
        let mut s = self.state.lock().unwrap_or_else(|p| p.into_inner());
        let until = Instant::now() + retry_after;
        if s.paused_until.is_none_or(|p| p < until) {
            s.paused_until = Some(until);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;

    #[tokio::test(start_paused = true)]
    async fn a_burst_goes_at_full_speed() {
        let limiter = RateLimiter::new(1200, 50);
        let start = Instant::now();
        for _ in 0..300 {
            limiter.acquire().await;
        }
        // 300 requests at 50/s (first 50 immediately): just under 5 s.
        let took = start.elapsed();
        assert!(took <= Duration::from_secs(5), "burst took {took:?}");
    }

    #[tokio::test(start_paused = true)]
    async fn a_long_run_never_exceeds_the_rolling_budget() {
        let limiter = Arc::new(RateLimiter::new(1200, 50));
        let start = Instant::now();
        let mut handles = Vec::new();
        // 2000 requests from 20 concurrent workers.
        for _ in 0..20 {
            let limiter = limiter.clone();
            handles.push(tokio::spawn(async move {
                let mut times = Vec::new();
                for _ in 0..100 {
                    limiter.acquire().await;
                    times.push(Instant::now());
                }
                times
            }));
        }
        let mut times = Vec::new();
        for h in handles {
            times.extend(h.await.unwrap());
        }
        times.sort();
        assert_eq!(times.len(), 2000);
        // Any 5-minute window holds at most 1200.
        let mut lo = 0;
        for hi in 0..times.len() {
            while times[hi].duration_since(times[lo]) >= WINDOW {
                lo += 1;
            }
            assert!(hi - lo < 1200, "{} requests within 5 minutes", hi - lo + 1);
        }
        // And it still finishes in reasonable time (~9 minutes), without a lockout-sized stall.
        let total = times.last().unwrap().duration_since(start);
        assert!(total < Duration::from_secs(700), "took {total:?}");
        let max_gap = times.windows(2).map(|w| w[1] - w[0]).max().unwrap();
        assert!(max_gap < Duration::from_secs(2), "stalled for {max_gap:?}");
    }

    #[tokio::test(start_paused = true)]
    async fn a_429_pauses_everyone() {
        let limiter = RateLimiter::new(1200, 50);
        limiter.pause_for(Duration::from_secs(7));
        let start = Instant::now();
        limiter.acquire().await;
        assert!(start.elapsed() >= Duration::from_secs(7));
    }
}
