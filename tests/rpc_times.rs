//! On demand, not in CI: how long the provider takes per RPC, in process
//! (the tfplugin6 service as Terraform reaches it, msgpack included; the
//! client's share, such as encoding the request and computing the proposed
//! new state, is not counted), for each managed resource: plan of a create, apply, read, plan of an update,
//! apply of it. The emulator runs in the same process, so apply and read
//! include its share; plans make no API call.
//!
//! `cargo test --release --test rpc_times -- --ignored --nocapture`
//! (`CFAI_RPC_ROUNDS` objects per resource, default 100, each destroyed
//! after its round; `CFAI_RPC_TYPES=a,b` for some resources only). Compare two builds by their figures from one machine,
//! run back to back.

#[path = "support/props.rs"]
mod props;
mod support;

use std::time::Duration;

use cfai::cty::Value;
use props::Plugin;
use support::{start_emulator, ACCOUNT, API_TOKEN};

/// Two configurations of object `i`: to create, then to update to.
type Configs<'a> = &'a dyn Fn(usize) -> (Value, Value);

fn env_number(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn median(mut times: Vec<Duration>) -> f64 {
    times.sort();
    times[times.len() / 2].as_secs_f64() * 1e6
}

struct Row {
    plan_create: Vec<Duration>,
    apply_create: Vec<Duration>,
    read: Vec<Duration>,
    plan_update: Vec<Duration>,
    apply_update: Vec<Duration>,
}

async fn measure(plugin: &Plugin, type_name: &str, rounds: usize, config: Configs<'_>) -> Row {
    let mut row = Row {
        plan_create: Vec::new(),
        apply_create: Vec::new(),
        read: Vec::new(),
        plan_update: Vec::new(),
        apply_update: Vec::new(),
    };
    for i in 0..rounds {
        let (a, b) = config(i);
        let planned = plugin
            .plan(type_name, &Value::Null, &a, &[])
            .await
            .expect("plan create");
        row.plan_create.push(plugin.last_rpc());
        let (state, private) = plugin
            .apply(type_name, &Value::Null, &planned, &a)
            .await
            .expect("create");
        row.apply_create.push(plugin.last_rpc());
        let (state, private) = plugin
            .read(type_name, &state, &private)
            .await
            .expect("read");
        row.read.push(plugin.last_rpc());
        let planned = plugin
            .plan(type_name, &state, &b, &private)
            .await
            .expect("plan update");
        row.plan_update.push(plugin.last_rpc());
        let (state, private) = plugin
            .apply(type_name, &state, &planned, &b)
            .await
            .expect("update");
        row.apply_update.push(plugin.last_rpc());
        // Gone again, so that every round sees an account of the same size.
        plugin.destroy(type_name, &state, &private).await;
    }
    row
}

/// The two configurations of object `i` of `type_name`: to create, then
/// to update to.
fn configs(plugin: &Plugin, type_name: &str, i: usize) -> (Value, Value) {
    let mut a = plugin.resources[type_name].empty_value();
    a.set("account_id", ACCOUNT.into());
    let mut b;
    match type_name {
        "cfai_account_api_token" => {
            let key = format!("com.cloudflare.api.account.{ACCOUNT}");
            a.set("name", Value::string(format!("t{i}")));
            a.set(
                "policies",
                Value::List(vec![Value::object([
                    ("effect", Value::Null),
                    (
                        "permission_groups",
                        Value::string_set(["Workers R2 Storage Write"]),
                    ),
                    ("permission_group_ids", Value::Null),
                    ("resources", Value::Map([(key, Value::string("*"))].into())),
                ])]),
            );
            b = a.clone();
            b.set("name", Value::string(format!("t{i}-renamed")));
        }
        "cfai_ai_search_namespace" => {
            a.set("name", Value::string(format!("ns{i}")));
            a.set("description", "first".into());
            b = a.clone();
            b.set("description", "second".into());
        }
        "cfai_ai_search_instance" => {
            a.set("id", Value::string(format!("kb{i}")));
            a.set("namespace", "docs".into());
            a.set("type", "r2".into());
            a.set("source", "docs-bucket".into());
            a.set("max_num_results", Value::number(20));
            b = a.clone();
            b.set("max_num_results", Value::number(30));
        }
        "cfai_ai_search_service_token" => {
            a.set("name", Value::string(format!("svc{i}")));
            b = a.clone();
            b.set("name", Value::string(format!("svc{i}-renamed")));
        }
        other => panic!("no configuration for {other}"),
    }
    (a, b)
}

const KINDS: [&str; 4] = [
    "cfai_account_api_token",
    "cfai_ai_search_namespace",
    "cfai_ai_search_instance",
    "cfai_ai_search_service_token",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a benchmark: run on demand"]
async fn rpc_times() {
    let rounds = env_number("CFAI_RPC_ROUNDS", 100);
    let emulator = start_emulator().await;
    let plugin = Plugin::configured(&emulator.base_url, ACCOUNT, API_TOKEN).await;
    let client = support::fast_client(&emulator.base_url, 0);
    client
        .create_namespace(ACCOUNT, "docs", None)
        .await
        .unwrap();
    println!("\nmedian µs per RPC over {rounds} objects each (in process, emulator included in apply and read)\n");
    println!(
        "| resource | plan (create) | apply (create) | read | plan (update) | apply (update) |"
    );
    println!("|---|---|---|---|---|---|");
    // `CFAI_RPC_TYPES=a,b` measures only those.
    let only = std::env::var("CFAI_RPC_TYPES").unwrap_or_default();
    for type_name in KINDS {
        if !only.is_empty() && !only.split(',').any(|t| t == type_name) {
            continue;
        }
        let config = |i| configs(&plugin, type_name, i);
        // A few objects first, so that first-use costs are not counted.
        measure(&plugin, type_name, 3, &|i| config(100_000 + i)).await;
        let row = measure(&plugin, type_name, rounds, &config).await;
        println!(
            "| {type_name} | {:.0} | {:.0} | {:.0} | {:.0} | {:.0} |",
            median(row.plan_create),
            median(row.apply_create),
            median(row.read),
            median(row.plan_update),
            median(row.apply_update),
        );
    }
}

/// For a profiler: `CFAI_PLAN_LOOPS` plans (default 20,000) of one object
/// of `CFAI_PLAN_TYPE` (default the account token): of its creation, or
/// with `CFAI_PLAN_UPDATE=1` of an update to it, and their mean in the
/// provider, e.g. under `perf record --call-graph dwarf`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a benchmark: run on demand"]
async fn plan_loop() {
    let loops = env_number("CFAI_PLAN_LOOPS", 20_000);
    let type_name =
        std::env::var("CFAI_PLAN_TYPE").unwrap_or_else(|_| "cfai_account_api_token".into());
    let update = std::env::var("CFAI_PLAN_UPDATE").is_ok_and(|v| v == "1");
    let emulator = start_emulator().await;
    let plugin = Plugin::configured(&emulator.base_url, ACCOUNT, API_TOKEN).await;
    support::fast_client(&emulator.base_url, 0)
        .create_namespace(ACCOUNT, "docs", None)
        .await
        .unwrap();
    let (a, b) = configs(&plugin, &type_name, 0);
    let (prior, private, config) = match update {
        false => (Value::Null, Vec::new(), a),
        true => {
            let planned = plugin
                .plan(&type_name, &Value::Null, &a, &[])
                .await
                .expect("plan");
            let (state, private) = plugin
                .apply(&type_name, &Value::Null, &planned, &a)
                .await
                .expect("create");
            (state, private, b)
        }
    };
    let mut in_provider = Duration::ZERO;
    for _ in 0..=loops {
        plugin
            .plan(&type_name, &prior, &config, &private)
            .await
            .expect("plan");
        in_provider += plugin.last_rpc();
    }
    let mean = in_provider.as_secs_f64() * 1e6 / (loops + 1) as f64;
    let what = if update { "an update" } else { "a create" };
    println!("\n{type_name}: {mean:.2} µs per plan of {what} over {loops}");
}
