//! Reliability: interrupted applies orphan nothing, the limiter holds its
//! windows across the plan and apply processes and obeys the server's
//! budget, and API failures are fast and say what to do.

mod support;

use std::time::{Duration, Instant};

use cfai::cloudflare::{Auth, Client, ClientConfig, ErrorKind};
use cfai::emulator::{BudgetConfig, Fault, FaultConfig};
use cfai::secret::Secret;
use support::{
    provider_block, require_terraform, start_emulator, BackgroundEmulator, Workspace, ACCOUNT,
    API_TOKEN, PROVIDER_HEADER,
};

const CREATE: &str = "POST /accounts/{account_id}/tokens";

fn tokens_config(provider: &str, count: usize) -> String {
    format!(
        r#"{provider}
resource "cfai_account_api_token" "t" {{
  count    = {count}
  name     = "bulk-${{count.index}}"
  policies = [{{ permission_groups = ["Workers R2 Storage Read"], resources = {{ "com.cloudflare.api.account.{ACCOUNT}" = "*" }} }}]
}}
"#
    )
}

fn limited_provider(base_url: &str, per_second: u32, per_5_minutes: u32) -> String {
    format!(
        "{PROVIDER_HEADER}\nprovider \"cfai\" {{\n  api_token  = \"{API_TOKEN}\"\n  account_id = \"{ACCOUNT}\"\n  base_url   = \"{base_url}\"\n  rate_limit_per_second    = {per_second}\n  rate_limit_per_5_minutes = {per_5_minutes}\n}}\n"
    )
}

fn emulator_ids(emu: &BackgroundEmulator) -> std::collections::BTreeSet<String> {
    emu.get().dump()["tokens"]
        .as_object()
        .map(|m| m.keys().cloned().collect())
        .unwrap_or_default()
}

fn state_ids(ws: &Workspace) -> std::collections::BTreeSet<String> {
    let state = ws.json(&["show", "-json"]);
    state["values"]["root_module"]["resources"]
        .as_array()
        .map(|rs| {
            rs.iter()
                .filter_map(|r| r["values"]["id"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// The largest number of arrivals in any window of `width`.
fn max_in_window(times: &[Duration], width: Duration) -> usize {
    let mut lo = 0;
    let mut best = 0;
    for hi in 0..times.len() {
        while times[hi] - times[lo] >= width {
            lo += 1;
        }
        best = best.max(hi - lo + 1);
    }
    best
}

// ------------------------------------------------------------- interrupts

/// Interrupts `terraform apply` of 40 tokens (100 ms of API latency, after
/// the API has made the change) once
/// `after` creates have reached the API; `group` signals terraform's whole
/// process group (providers included), as a terminal's Ctrl-C does.
fn interrupt_once(after: u64, group: bool) {
    let Some(tf) = require_terraform() else {
        return;
    };
    let emu = BackgroundEmulator::start();
    emu.get().set_faults(FaultConfig {
        response_latency_ms: 100,
        ..Default::default()
    });
    let ws = Workspace::new(tf);
    ws.write(&tokens_config(&provider_block(&emu.get().base_url), 40));
    let printed = ws.apply_interrupting(
        &["-parallelism=10"],
        || emu.get().count(CREATE) >= after,
        group,
    );
    assert!(!printed.contains("panic"), "{printed}");
    // No orphan (in Cloudflare, not in state), no ghost (in state, not in Cloudflare).
    let (api, state) = (emulator_ids(&emu), state_ids(&ws));
    assert_eq!(
        api, state,
        "interrupted after {after} creates (group: {group}): API and state differ\n{printed}"
    );
    // The next apply converges, and the plan after it is empty.
    emu.get().set_faults(FaultConfig::default());
    ws.apply();
    assert_eq!(emulator_ids(&emu).len(), 40);
    assert_eq!(emulator_ids(&emu), state_ids(&ws));
    ws.assert_plan_empty();
}

#[test]
fn an_early_interrupt_orphans_nothing() {
    interrupt_once(1, false);
}

#[test]
fn a_middle_interrupt_of_the_process_group_orphans_nothing() {
    interrupt_once(20, true);
}

#[test]
fn a_late_interrupt_orphans_nothing() {
    interrupt_once(35, false);
}

#[test]
fn a_late_interrupt_of_the_process_group_orphans_nothing() {
    interrupt_once(38, true);
}

// ------------------------------------------------------------------ limits

#[test]
fn a_large_parallel_apply_keeps_every_window() {
    let Some(tf) = require_terraform() else {
        return;
    };
    let emu = BackgroundEmulator::start();
    let ws = Workspace::new(tf);
    ws.write(&tokens_config(
        &limited_provider(&emu.get().base_url, 20, 300),
        150,
    ));
    let run = ws.run(&["apply", "-auto-approve", "-no-color", "-parallelism=50"]);
    assert!(run.ok, "apply failed:\n{}", run.all());
    assert_eq!(emulator_ids(&emu).len(), 150);
    // Plan and apply processes together.
    let arrivals = emu.get().arrivals();
    assert!(arrivals.len() >= 151, "{} requests", arrivals.len());
    let per_second = max_in_window(&arrivals, Duration::from_secs(1));
    assert!(per_second <= 20, "{per_second} requests in one second");
    let per_window = max_in_window(&arrivals, Duration::from_secs(300));
    assert!(per_window <= 300, "{per_window} requests in five minutes");
}

#[test]
fn a_budget_mostly_spent_by_another_client_draws_no_429() {
    let Some(tf) = require_terraform() else {
        return;
    };
    let emu = BackgroundEmulator::start();
    // 40 requests left in a window that resets in 15 s; the apply needs ~47.
    emu.get().set_budget(BudgetConfig {
        budget: 100,
        window_secs: 15,
        spent: 60,
    });
    let ws = Workspace::new(tf);
    ws.write(&tokens_config(&provider_block(&emu.get().base_url), 45));
    let started = Instant::now();
    let run = ws.run(&["apply", "-auto-approve", "-no-color", "-parallelism=10"]);
    assert!(run.ok, "apply failed:\n{}", run.all());
    assert_eq!(emulator_ids(&emu).len(), 45);
    assert_eq!(emu.get().budget_rejections(), 0, "the server answered 429");
    assert!(started.elapsed() < Duration::from_secs(40));
}

// --------------------------------------------------------------- failures

fn client(base_url: &str, tune: impl FnOnce(&mut ClientConfig)) -> Client {
    let mut config = ClientConfig::new(base_url, Some(Auth::Token(Secret::new(API_TOKEN))));
    tune(&mut config);
    Client::new(config).unwrap()
}

#[tokio::test]
async fn an_unreachable_api_fails_within_seconds_once_per_process() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let c = client(&format!("http://127.0.0.1:{port}/client/v4"), |_| {});
    let started = Instant::now();
    let first = c.list_tokens(ACCOUNT).await.unwrap_err();
    let took = started.elapsed();
    assert!(took < Duration::from_secs(6), "{took:?}");
    assert_eq!(first.kind, ErrorKind::Transport);
    assert!(first.to_string().contains("could not connect"), "{first}");
    let started = Instant::now();
    let second = c.get_token(ACCOUNT, "abc").await.unwrap_err();
    assert!(started.elapsed() < Duration::from_millis(200));
    assert!(second.to_string().contains("unreachable"), "{second}");
}

#[tokio::test]
async fn a_500_storm_on_a_get_is_retried_but_a_write_is_not_resent() {
    let emu = start_emulator().await;
    emu.set_faults(FaultConfig {
        rate_5xx: 1.0,
        status_5xx: 500,
        ..Default::default()
    });
    let c = client(&emu.base_url, |c| {
        c.backoff_base = Duration::from_millis(10);
        c.backoff_max = Duration::from_millis(40);
    });
    let started = Instant::now();
    let e = c.list_tokens(ACCOUNT).await.unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(2));
    assert_eq!(e.status, Some(500));
    assert_eq!(e.attempts, 5, "{e}");
    let request = cfai::cloudflare::models::TokenRequest {
        name: "x".into(),
        policies: Vec::new(),
        condition: None,
        not_before: None,
        expires_on: None,
        status: None,
    };
    let e = c.create_token(ACCOUNT, &request).await.unwrap_err();
    assert_eq!(
        e.attempts, 1,
        "a POST answered 500 may have been applied: {e}"
    );
}

#[tokio::test]
async fn a_huge_retry_after_fails_at_once_saying_when() {
    let emu = start_emulator().await;
    emu.set_faults(FaultConfig {
        script: [Fault::TooManyRequests {
            retry_after: u64::MAX / 2,
        }]
        .into(),
        ..Default::default()
    });
    let c = client(&emu.base_url, |_| {});
    let started = Instant::now();
    let e = c.list_tokens(ACCOUNT).await.unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(1));
    assert_eq!(e.kind, ErrorKind::RateLimited);
    assert!(e.to_string().contains("Try again after"), "{e}");
    // And the limiter was not broken by it.
    emu.set_faults(FaultConfig::default());
}

#[tokio::test]
async fn a_timeout_names_the_operation_and_the_setting() {
    let emu = start_emulator().await;
    emu.set_faults(FaultConfig {
        latency_ms: 3000,
        ..Default::default()
    });
    let c = client(&emu.base_url, |c| {
        c.request_timeout = Duration::from_millis(300);
        c.max_retries = 0;
    });
    let started = Instant::now();
    let e = c.list_tokens(ACCOUNT).await.unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(2));
    assert_eq!(e.kind, ErrorKind::Timeout);
    let shown = cfai::context::api_error("Could not list tokens", &e).detail;
    assert!(
        shown.contains(&format!("GET /accounts/{ACCOUNT}/tokens")),
        "{shown}"
    );
    assert!(shown.contains("request_timeout"), "{shown}");
}

#[test]
fn a_malformed_base_url_fails_validation_at_once() {
    let Some(tf) = require_terraform() else {
        return;
    };
    let ws = Workspace::new(tf);
    ws.write(&format!(
        "{PROVIDER_HEADER}\nprovider \"cfai\" {{\n  api_token  = \"x\"\n  account_id = \"{ACCOUNT}\"\n}}\ndata \"cfai_permission_groups\" \"all\" {{}}\n"
    ));
    let started = Instant::now();
    let run = ws.run_with(
        &["plan", "-no-color"],
        None,
        &[("CLOUDFLARE_BASE_URL", "not-a-url")],
    );
    assert!(!run.ok);
    assert!(run.all().contains("Invalid base URL"), "{}", run.all());
    assert!(run.all().contains("CLOUDFLARE_BASE_URL"), "{}", run.all());
    assert!(started.elapsed() < Duration::from_secs(10));
}

#[test]
fn an_unreachable_api_fails_a_refresh_of_many_quickly() {
    let Some(tf) = require_terraform() else {
        return;
    };
    let mut emu = BackgroundEmulator::start();
    let ws = Workspace::new(tf);
    ws.write(&tokens_config(&provider_block(&emu.get().base_url), 8));
    ws.apply();
    drop(emu.emulator.take());
    let started = Instant::now();
    let out = ws.fails(&["plan", "-no-color"]);
    let took = started.elapsed();
    assert!(took < Duration::from_secs(10), "{took:?}\n{out}");
    // One attempt to connect (within the connect budget); every resource's
    // error says why at once, without trying again.
    assert!(out.contains("could not connect"), "{out}");
    assert!(out.contains("unreachable"), "{out}");
    assert_eq!(
        out.matches("Error: Could not read the API token").count(),
        8,
        "{out}"
    );
}

#[test]
fn a_roll_made_elsewhere_is_reported() {
    let Some(tf) = require_terraform() else {
        return;
    };
    let emu = BackgroundEmulator::start();
    let ws = Workspace::new(tf);
    ws.write(&tokens_config(&provider_block(&emu.get().base_url), 1));
    ws.apply();
    let id = ws.resource("cfai_account_api_token.t[0]")["id"]
        .as_str()
        .unwrap()
        .to_string();
    let (code, text) = ws.plan_code();
    assert_eq!(code, 0);
    assert!(!text.contains("rolled outside"), "{text}");
    // Cloudflare keeps whole seconds: let modified_on move.
    std::thread::sleep(Duration::from_millis(1100));
    let rt = tokio::runtime::Runtime::new().unwrap();
    let base = emu.get().base_url.clone();
    rt.block_on(async move {
        support::fast_client(&base, 0)
            .roll_token(ACCOUNT, &id)
            .await
            .unwrap()
    });
    let (code, text) = ws.plan_code();
    assert_eq!(code, 0, "a roll changes no setting:\n{text}");
    assert!(
        text.contains("may have been rolled outside Terraform"),
        "{text}"
    );
    assert!(text.contains("rotation_triggers"), "{text}");
}

// ------------------------------------------------------------------ rolls

const ROLL: &str = "PUT /accounts/{account_id}/tokens/{token_id}/value";

fn rolled_tokens_config(provider: &str, trigger: &str) -> String {
    format!(
        r#"{provider}
resource "cfai_account_api_token" "t" {{
  count             = 20
  name              = "rolled-${{count.index}}"
  policies          = [{{ permission_groups = ["Workers R2 Storage Read"], resources = {{ "com.cloudflare.api.account.{ACCOUNT}" = "*" }} }}]
  rotation_triggers = {{ v = "{trigger}" }}
}}
"#
    )
}

/// 20 tokens applied with `rotation_triggers = { v = "1" }`, with the
/// provider block `provider` makes for the emulator's URL.
fn rolled_tokens(
    provider: impl Fn(&str) -> String,
) -> Option<(BackgroundEmulator, Workspace, String)> {
    let tf = require_terraform()?;
    let emu = BackgroundEmulator::start();
    let ws = Workspace::new(tf);
    let provider = provider(&emu.get().base_url);
    ws.write(&rolled_tokens_config(&provider, "1"));
    ws.apply();
    Some((emu, ws, provider))
}

/// Every token value in the state: (state value, the value Cloudflare
/// accepts). A value in state that is not the live one is dead.
fn values(emu: &BackgroundEmulator, ws: &Workspace) -> Vec<(Option<String>, String)> {
    let dump = emu.get().dump();
    let state = ws.json(&["show", "-json"]);
    state["values"]["root_module"]["resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let id = r["values"]["id"].as_str().unwrap();
            (
                r["values"]["value"].as_str().map(str::to_string),
                dump["tokens"][id]["value"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn no_dead_value(emu: &BackgroundEmulator, ws: &Workspace, what: &str) -> usize {
    let values = values(emu, ws);
    assert_eq!(values.len(), 20);
    let dead = values
        .iter()
        .filter(|(state, live)| state.as_ref().is_some_and(|s| s != live))
        .count();
    assert_eq!(
        dead, 0,
        "{what}: values in state that the API no longer accepts"
    );
    values.iter().filter(|(state, _)| state.is_none()).count()
}

/// Ctrl-C in the middle of an apply that rolls 20 tokens, with answers
/// held 300 ms: rolls in flight are seen through, rolls not yet sent are
/// not made; no value in state is dead, and the next apply converges.
#[test]
fn interrupting_an_apply_that_rolls_20_tokens_leaves_no_dead_value() {
    let Some((emu, ws, provider)) = rolled_tokens(provider_block) else {
        return;
    };
    emu.get().set_faults(FaultConfig {
        response_latency_ms: 300,
        path_filter: "/value".into(),
        ..Default::default()
    });
    ws.write(&rolled_tokens_config(&provider, "2"));
    let printed = ws.apply_interrupted(&["-parallelism=4"], || emu.get().count(ROLL) >= 6);
    assert!(!printed.contains("panic"), "{printed}");
    let rolled = emu.get().count(ROLL);
    assert!(
        rolled < 20,
        "the interrupt came too late to test anything ({rolled} rolls)"
    );
    no_dead_value(&emu, &ws, &format!("interrupted after {rolled} rolls"));
    emu.get().set_faults(FaultConfig::default());
    ws.apply();
    assert_eq!(no_dead_value(&emu, &ws, "after the next apply"), 0);
    ws.assert_plan_empty();
}

/// 30 % of roll answers lost after the API made the roll: each lost one is
/// rolled again (a second roll gives a fresh, live value).
#[test]
fn lost_roll_answers_are_rolled_again() {
    let Some((emu, ws, provider)) = rolled_tokens(provider_block) else {
        return;
    };
    emu.get().set_faults(FaultConfig {
        rate_drop: 0.3,
        seed: 7,
        path_filter: "/value".into(),
        method: "PUT".into(),
        ..Default::default()
    });
    ws.write(&rolled_tokens_config(&provider, "2"));
    ws.apply();
    assert!(
        emu.get().count(ROLL) > 20,
        "answers were lost and rolled again"
    );
    assert_eq!(no_dead_value(&emu, &ws, "after lost answers"), 0);
    emu.get().set_faults(FaultConfig::default());
    ws.assert_plan_empty();
}

/// Without retries, a roll whose answer is lost leaves no value at all (not
/// a dead one), says so, and the next apply rolls again.
#[test]
fn a_lost_roll_answer_without_retries_clears_the_value_and_rolls_next_time() {
    let without_retries = |base_url: &str| {
        format!(
            "{PROVIDER_HEADER}\nprovider \"cfai\" {{\n  api_token   = \"{API_TOKEN}\"\n  account_id  = \"{ACCOUNT}\"\n  base_url    = \"{base_url}\"\n  max_retries = 0\n}}\n"
        )
    };
    let Some((emu, ws, provider)) = rolled_tokens(without_retries) else {
        return;
    };
    emu.get().set_faults(FaultConfig {
        rate_drop: 1.0,
        path_filter: "/value".into(),
        method: "PUT".into(),
        ..Default::default()
    });
    ws.write(&rolled_tokens_config(&provider, "2"));
    let out = ws.fails(&["apply", "-auto-approve", "-no-color"]);
    assert!(
        out.contains("value is no longer known") && out.contains("rotation_triggers"),
        "{out}"
    );
    assert_eq!(no_dead_value(&emu, &ws, "after lost answers"), 20);
    emu.get().set_faults(FaultConfig::default());
    let (code, plan) = ws.plan_code();
    assert_eq!(code, 2, "the next plan rolls again:\n{plan}");
    ws.apply();
    assert_eq!(no_dead_value(&emu, &ws, "after the next apply"), 0);
    ws.assert_plan_empty();
}
