//! On demand, not in CI: how long the provider takes per RPC, in process
//! (the tfplugin6 service as Terraform reaches it, msgpack included), for
//! each managed resource: plan of a create, apply, read, plan of an update,
//! apply of it. The emulator runs in the same process, so apply and read
//! include its share; plans make no API call.
//!
//! `cargo test --release --test rpc_times -- --ignored --nocapture`
//! (`CFAI_RPC_ROUNDS` objects per resource, default 100, each destroyed
//! after its round). Compare two builds by their figures from one machine,
//! run back to back.

#[path = "support/props.rs"]
mod props;
mod support;

use std::time::{Duration, Instant};

use cfai::cty::Value;
use props::Plugin;
use support::{start_emulator, ACCOUNT, API_TOKEN};

/// Two configurations of object `i`: to create, then to update to.
type Configs<'a> = &'a dyn Fn(usize) -> (Value, Value);

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

async fn time<T>(times: &mut Vec<Duration>, work: impl std::future::Future<Output = T>) -> T {
    let start = Instant::now();
    let out = work.await;
    times.push(start.elapsed());
    out
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
        let planned = time(
            &mut row.plan_create,
            plugin.plan(type_name, &Value::Null, &a, &[]),
        )
        .await
        .expect("plan create");
        let (state, private) = time(
            &mut row.apply_create,
            plugin.apply(type_name, &Value::Null, &planned, &a),
        )
        .await
        .expect("create");
        let (state, private) = time(&mut row.read, plugin.read(type_name, &state, &private))
            .await
            .expect("read");
        let planned = time(
            &mut row.plan_update,
            plugin.plan(type_name, &state, &b, &private),
        )
        .await
        .expect("plan update");
        let (state, private) = time(
            &mut row.apply_update,
            plugin.apply(type_name, &state, &planned, &b),
        )
        .await
        .expect("update");
        // Gone again, so that every round sees an account of the same size.
        plugin.destroy(type_name, &state, &private).await;
    }
    row
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a benchmark: run on demand"]
async fn rpc_times() {
    let rounds: usize = std::env::var("CFAI_RPC_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100);
    let emulator = start_emulator().await;
    let plugin = Plugin::configured(&emulator.base_url, ACCOUNT, API_TOKEN).await;
    let client = support::fast_client(&emulator.base_url, 0);
    client
        .create_namespace(ACCOUNT, "docs", None)
        .await
        .unwrap();
    let key = format!("com.cloudflare.api.account.{ACCOUNT}");

    let token = |i: usize| {
        let mut a = plugin.resources["cfai_account_api_token"].empty_value();
        a.set("account_id", ACCOUNT.into());
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
                (
                    "resources",
                    Value::Map([(key.clone(), Value::string("*"))].into()),
                ),
            ])]),
        );
        let mut b = a.clone();
        b.set("name", Value::string(format!("t{i}-renamed")));
        (a, b)
    };
    let namespace = |i: usize| {
        let mut a = plugin.resources["cfai_ai_search_namespace"].empty_value();
        a.set("account_id", ACCOUNT.into());
        a.set("name", Value::string(format!("ns{i}")));
        a.set("description", "first".into());
        let mut b = a.clone();
        b.set("description", "second".into());
        (a, b)
    };
    let instance = |i: usize| {
        let mut a = plugin.resources["cfai_ai_search_instance"].empty_value();
        a.set("account_id", ACCOUNT.into());
        a.set("id", Value::string(format!("kb{i}")));
        a.set("namespace", "docs".into());
        a.set("type", "r2".into());
        a.set("source", "docs-bucket".into());
        a.set("max_num_results", Value::number(20));
        let mut b = a.clone();
        b.set("max_num_results", Value::number(30));
        (a, b)
    };
    let service = |i: usize| {
        let mut a = plugin.resources["cfai_ai_search_service_token"].empty_value();
        a.set("account_id", ACCOUNT.into());
        a.set("name", Value::string(format!("svc{i}")));
        let mut b = a.clone();
        b.set("name", Value::string(format!("svc{i}-renamed")));
        (a, b)
    };
    println!("\nmedian µs per RPC over {rounds} objects each (in process, emulator included in apply and read)\n");
    println!(
        "| resource | plan (create) | apply (create) | read | plan (update) | apply (update) |"
    );
    println!("|---|---|---|---|---|---|");
    let kinds: [(&str, Configs<'_>); 4] = [
        ("cfai_account_api_token", &token),
        ("cfai_ai_search_namespace", &namespace),
        ("cfai_ai_search_instance", &instance),
        ("cfai_ai_search_service_token", &service),
    ];
    for (type_name, config) in kinds {
        // A few objects first, so that first-use costs are not counted.
        measure(&plugin, type_name, 3, &|i| config(100_000 + i)).await;
        let row = measure(&plugin, type_name, rounds, config).await;
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
