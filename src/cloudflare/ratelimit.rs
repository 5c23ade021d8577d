//! One client-side limiter shared by every request of the provider process.
//!
//! Cloudflare allows 1200 requests per rolling 5 minutes per token (shared
//! with the dashboard and every other client of the token) and locks the
//! token out for 5 minutes when that is exceeded; per IP it allows 200 per
//! second. The limiter keeps the send times of recent requests and grants
//! the next one at the earliest instant at which:
//! - no sliding one-second window holds more than `per_second` requests,
//!   which go out evenly spaced so that the server, too, sees no more;
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
//!
//! Terraform runs one provider process to plan and another to apply (and
//! users run several terraforms with one token), so the send times can be
//! kept in a journal file shared by the processes of one token and API:
//! each process starts from what the others sent in the last 5 minutes.

use std::collections::VecDeque;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tokio::time::Instant;

const SECOND: Duration = Duration::from_secs(1);
/// Requests granted a second apart can arrive closer together (a new
/// connection delays one more than another), so the one-second window is
/// kept a little wider than a second.
const ARRIVAL_SLACK: Duration = Duration::from_millis(100);
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
    journal: Option<JournalWriter>,
}

/// Appends send times to the journal from a thread of its own, so that no
/// request waits on the file system; lines queued meanwhile go in one
/// write. Dropping it writes what is queued before returning.
#[derive(Debug)]
struct JournalWriter {
    queue: Option<std::sync::mpsc::Sender<u128>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl JournalWriter {
    /// Starts the writer. It reads the journal first, hands the send times
    /// of the last window to `history` (the limiter waits for them before
    /// its first grant), removes journals nobody has written to for a whole
    /// window, and rewrites this one with the last `budget` times alone.
    fn start(
        path: PathBuf,
        budget: usize,
        history: tokio::sync::oneshot::Sender<Vec<Instant>>,
    ) -> Self {
        let (queue, queued) = std::sync::mpsc::channel::<u128>();
        let thread = std::thread::Builder::new()
            .name("cfai-request-journal".into())
            .spawn(move || {
                let mut times = read_journal(&path);
                times.sort();
                let kept: Vec<u128> = times
                    .iter()
                    .skip(times.len().saturating_sub(budget))
                    .map(|t| unix_millis(*t))
                    .collect();
                let _ = history.send(times);
                remove_stale_journals(&path);
                rewrite_journal(&path, &kept);
                while let Ok(first) = queued.recv() {
                    let mut lines = format!("{first}\n");
                    while let Ok(next) = queued.try_recv() {
                        lines.push_str(&format!("{next}\n"));
                    }
                    append_to_journal(&path, &lines);
                }
            })
            .ok();
        JournalWriter {
            queue: Some(queue),
            thread,
        }
    }

    fn record(&self, at: Instant) {
        if let Some(queue) = &self.queue {
            // A journal that cannot be written only loses sharing.
            let _ = queue.send(unix_millis(at));
        }
    }
}

impl Drop for JournalWriter {
    fn drop(&mut self) {
        self.queue.take();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl State {
    fn earliest(&self, now: Instant) -> Option<Instant> {
        let mut t = now;
        if let Some(p) = self.paused_until {
            t = t.max(p);
        }
        if let Some(last) = self.last_grant {
            // Evenly spaced within the second, not in a burst at its start.
            t = t.max(last + SECOND / self.per_second as u32);
        }
        if self.last_second.len() >= self.per_second {
            let oldest = self.last_second[self.last_second.len() - self.per_second];
            t = t.max(oldest + SECOND + ARRIVAL_SLACK);
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
        if let Some(journal) = &self.journal {
            journal.record(t);
        }
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
    /// Send times other processes journaled, on their way from the
    /// journal's thread; merged once, before the first grant.
    history: Mutex<Option<tokio::sync::oneshot::Receiver<Vec<Instant>>>>,
    history_merged: tokio::sync::OnceCell<()>,
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
                journal: None,
            }),
            changed: tokio::sync::Notify::new(),
            history: Mutex::new(None),
            history_merged: tokio::sync::OnceCell::new(),
        }
    }

    /// Shares send times with other processes through `path`: the ones
    /// they made in the last 5 minutes count here from the start.
    /// The file is read and written by a thread of its own, never by a
    /// request's task.
    pub fn with_journal(self, path: PathBuf) -> Self {
        let (send, receive) = tokio::sync::oneshot::channel();
        {
            let mut s = self.lock();
            let budget = s.budget;
            s.journal = Some(JournalWriter::start(path, budget, send));
        }
        *self.history.lock().unwrap_or_else(|p| p.into_inner()) = Some(receive);
        self
    }

    /// Waits, once, for the journal's send times and counts them.
    pub(crate) async fn history_loaded(&self) {
        self.history_merged
            .get_or_init(|| async {
                let pending = self
                    .history
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .take();
                let Some(pending) = pending else { return };
                let Ok(times) = pending.await else { return };
                let mut s = self.lock();
                let (per_second, budget) = (s.per_second, s.budget);
                for t in times {
                    push_bounded(&mut s.last_second, t, per_second);
                    push_bounded(&mut s.last_window, t, budget);
                }
            })
            .await;
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Waits for this request's turn; the permit is held until its answer
    /// has been read (and [`RateLimiter::observe`] called with its header).
    pub async fn acquire(&self) -> Permit<'_> {
        self.history_loaded().await;
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

fn unix_millis(at: Instant) -> u128 {
    let wall = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    let now = Instant::now();
    let wall_at = if at >= now {
        wall + (at - now)
    } else {
        wall.saturating_sub(now - at)
    };
    wall_at.as_millis()
}

fn append_to_journal(path: &Path, lines: &str) {
    // Whole lines, appended in one write: concurrent processes interleave
    // lines, never parts of them.
    let _ = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .and_then(|mut f| f.write_all(lines.as_bytes()));
}

/// Journals beside `path` with the same name up to its last `-` (other
/// tokens' and APIs') that nobody wrote to for a whole window hold nothing
/// that still counts: removed.
fn remove_stale_journals(path: &Path) {
    let (Some(dir), Some(name)) = (path.parent(), path.file_name().and_then(|n| n.to_str())) else {
        return;
    };
    let Some((prefix, _)) = name.rsplit_once('-') else {
        return;
    };
    let prefix = format!("{prefix}-");
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let other = entry.path();
        let is_journal = entry
            .file_name()
            .to_str()
            .is_some_and(|n| n.starts_with(&prefix) && n.ends_with(".log"));
        let idle = entry
            .metadata()
            .and_then(|m| m.modified())
            .ok()
            .and_then(|m| m.elapsed().ok())
            .is_some_and(|age| age > WINDOW);
        if is_journal && idle && other != path {
            let _ = std::fs::remove_file(&other);
        }
    }
}

/// The send times of the last 5 minutes, as instants of this process.
fn read_journal(path: &Path) -> Vec<Instant> {
    let Ok(text) = std::fs::read_to_string(path) else {
        return Vec::new();
    };
    let now = Instant::now();
    let wall = unix_millis(now);
    text.lines()
        .filter_map(|l| l.trim().parse::<u128>().ok())
        .filter_map(|ms| {
            let age = wall.saturating_sub(ms);
            let age = Duration::from_millis(u64::try_from(age).ok()?);
            let future = Duration::from_millis(u64::try_from(ms.saturating_sub(wall)).ok()?);
            if age >= WINDOW || future > SECOND {
                return None;
            }
            now.checked_sub(age).map(|t| t + future)
        })
        .collect()
}

fn rewrite_journal(path: &Path, kept: &[u128]) {
    let text: String = kept.iter().map(|ms| format!("{ms}\n")).collect();
    let tmp = path.with_extension(format!("tmp{}", std::process::id()));
    if std::fs::write(&tmp, text).is_ok() {
        let _ = std::fs::rename(&tmp, path);
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
