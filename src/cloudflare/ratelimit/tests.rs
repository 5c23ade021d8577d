//! In paused time: the sliding windows hold exactly, bursts are not paced,
//! and the server's budget header is obeyed.

use std::sync::Arc;

use super::*;

/// Sends `n` requests from `workers` tasks; each answers at once with the
/// header `server` computes (if any). Returns the grant times, sorted.
async fn run(
    limiter: Arc<RateLimiter>,
    workers: usize,
    n: usize,
    server: Option<Arc<Mutex<FakeServer>>>,
) -> Vec<Instant> {
    let mut handles = Vec::new();
    for w in 0..workers {
        let limiter = limiter.clone();
        let server = server.clone();
        let share = n / workers + usize::from(w < n % workers);
        handles.push(tokio::spawn(async move {
            let mut times = Vec::new();
            for _ in 0..share {
                let permit = limiter.acquire().await;
                times.push(Instant::now());
                if let Some(server) = &server {
                    let answer = server.lock().unwrap().request(Instant::now());
                    if let Some((r, t)) = answer {
                        limiter.observe(r, t);
                    } else {
                        panic!("the server answered 429");
                    }
                }
                drop(permit);
            }
            times
        }));
    }
    let mut times = Vec::new();
    for h in handles {
        times.extend(h.await.unwrap());
    }
    times.sort();
    times
}

/// The largest number of grants in any window of `width`.
fn max_in_window(times: &[Instant], width: Duration) -> usize {
    let mut lo = 0;
    let mut best = 0;
    for hi in 0..times.len() {
        while times[hi].duration_since(times[lo]) >= width {
            lo += 1;
        }
        best = best.max(hi - lo + 1);
    }
    best
}

/// A fixed-window budget like Cloudflare's, shared with "another client".
struct FakeServer {
    budget: u64,
    window: Duration,
    used: u64,
    window_start: Instant,
}

impl FakeServer {
    fn request(&mut self, now: Instant) -> Option<(u64, Duration)> {
        if now >= self.window_start + self.window {
            self.window_start = now;
            self.used = 0;
        }
        if self.used >= self.budget {
            return None;
        }
        self.used += 1;
        let reset = (self.window_start + self.window).duration_since(now);
        Some((self.budget - self.used, reset))
    }
}

#[tokio::test(start_paused = true)]
async fn no_sliding_second_holds_more_than_per_second() {
    let limiter = Arc::new(RateLimiter::new(100_000, 20));
    let times = run(limiter, 10, 200, None).await;
    assert_eq!(max_in_window(&times, SECOND), 20);
    // 200 at 20 per 1.1 s (a margin for arrival jitter), evenly spaced:
    // about 11 s, not less (the first second included).
    let took = times.last().unwrap().duration_since(times[0]);
    assert!(took >= Duration::from_millis(9500), "{took:?}");
    assert!(took <= Duration::from_millis(11_000), "{took:?}");
    let gaps = times.windows(2).map(|w| w[1] - w[0]).min().unwrap();
    assert!(gaps >= Duration::from_millis(50), "evenly spaced: {gaps:?}");
}

#[tokio::test(start_paused = true)]
async fn a_burst_goes_through_while_the_budget_lasts() {
    let limiter = Arc::new(RateLimiter::new(1200, 100));
    let start = Instant::now();
    let times = run(limiter, 20, 600, None).await;
    // Half the budget at the per-second cap: about 6.5 s, no 5-minute pacing.
    let took = times.last().unwrap().duration_since(start);
    assert!(took <= Duration::from_secs(7), "{took:?}");
}

#[tokio::test(start_paused = true)]
async fn no_five_minute_window_holds_more_than_the_budget() {
    let limiter = Arc::new(RateLimiter::new(1200, 100));
    let start = Instant::now();
    let times = run(limiter, 20, 3000, None).await;
    assert_eq!(times.len(), 3000);
    assert_eq!(max_in_window(&times, WINDOW), 1200);
    assert!(max_in_window(&times, SECOND) <= 100);
    // 1200 now, 1200 five minutes later, 600 five minutes after that.
    let total = times.last().unwrap().duration_since(start);
    assert!(total <= Duration::from_secs(615), "{total:?}");
    assert!(total >= Duration::from_secs(600), "{total:?}");
}

#[tokio::test(start_paused = true)]
async fn the_servers_budget_is_never_overrun() {
    // Another client has spent 960 of the server's 1000; the window resets
    // in 60 s. 150 requests must get no 429 (the fake server panics on one).
    let now = Instant::now();
    let server = Arc::new(Mutex::new(FakeServer {
        budget: 1000,
        window: Duration::from_secs(60),
        used: 960,
        window_start: now,
    }));
    let limiter = Arc::new(RateLimiter::new(1200, 100));
    let times = run(limiter, 10, 150, Some(server)).await;
    assert_eq!(times.len(), 150);
    let took = times.last().unwrap().duration_since(now);
    assert!(
        took >= Duration::from_secs(60),
        "it waited for the reset: {took:?}"
    );
    assert!(took <= Duration::from_secs(63), "and no longer: {took:?}");
}

#[tokio::test(start_paused = true)]
async fn a_429_pauses_everyone_and_huge_waits_do_not_overflow() {
    let limiter = RateLimiter::new(1200, 50);
    limiter.pause_for(Duration::from_secs(7));
    let start = Instant::now();
    drop(limiter.acquire().await);
    assert!(start.elapsed() >= Duration::from_secs(7));
    limiter.pause_for(Duration::from_secs(u64::MAX));
    limiter.observe(0, Duration::from_secs(u64::MAX));
}

#[test]
fn headers_parse() {
    assert_eq!(
        parse_ratelimit_header("\"default\";r=50;t=30"),
        Some((50, Duration::from_secs(30)))
    );
    assert_eq!(
        parse_ratelimit_header("\"burst\";r=5, \"default\";r=7;t=9"),
        Some((7, Duration::from_secs(9)))
    );
    assert_eq!(parse_ratelimit_header("\"default\";r=-1;t=30"), None);
    assert_eq!(parse_ratelimit_header(""), None);
    assert_eq!(parse_retry_after(" 12 "), Some(Duration::from_secs(12)));
    assert_eq!(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"), None);
    assert_eq!(
        parse_retry_after("18446744073709551615"),
        Some(Duration::from_secs(u64::MAX))
    );
}

#[tokio::test]
async fn the_journal_carries_send_times_to_the_next_process() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("journal.log");
    let first = RateLimiter::new(1200, 5).with_journal(path.clone());
    for _ in 0..5 {
        drop(first.acquire().await);
    }
    drop(first);
    // The next process may not send a sixth request in the same second.
    let start = Instant::now();
    let second = RateLimiter::new(1200, 5).with_journal(path.clone());
    drop(second.acquire().await);
    // The first process sent at 0, 0.2 … 0.8 s: the sixth goes 1.1 s after the first.
    assert!(
        start.elapsed() >= Duration::from_millis(250),
        "{:?}",
        start.elapsed()
    );
    let lines = std::fs::read_to_string(&path).unwrap().lines().count();
    assert_eq!(lines, 6);
    // A budget spent by earlier processes holds too.
    let third = RateLimiter::new(6, 100).with_journal(path.clone());
    third.history_loaded().await;
    let s = third.lock();
    assert_eq!(s.last_window.len(), 6);
}

#[tokio::test]
async fn journals_idle_for_a_whole_window_are_removed() {
    let dir = tempfile::tempdir().unwrap();
    let stale = dir.path().join("cfai-requests-0000000000000000.log");
    let fresh = dir.path().join("cfai-requests-1111111111111111.log");
    let unrelated = dir.path().join("other-0000.log");
    for p in [&stale, &fresh, &unrelated] {
        std::fs::write(p, "1\n").unwrap();
    }
    let old = std::time::SystemTime::now() - Duration::from_secs(301);
    for p in [&stale, &unrelated] {
        std::fs::File::options()
            .write(true)
            .open(p)
            .unwrap()
            .set_modified(old)
            .unwrap();
    }
    let ours = dir.path().join("cfai-requests-2222222222222222.log");
    let limiter = RateLimiter::new(1200, 100).with_journal(ours.clone());
    drop(limiter.acquire().await);
    drop(limiter);
    assert!(!stale.exists(), "idle for a whole window");
    assert!(fresh.exists() && unrelated.exists());
    assert_eq!(std::fs::read_to_string(&ours).unwrap().lines().count(), 1);
}
