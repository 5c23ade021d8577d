//! The write-fault matrix: every write the provider makes, under every way
//! a write can go wrong, through the real terraform. For each cell the run
//! may fail, but afterwards, and again after the next apply (which must
//! converge to an empty plan), the API and the state agree: no orphan (an
//! object Cloudflare has and the state does not), no ghost (the reverse),
//! no dead secret (a token value in state that Cloudflare no longer takes).
//!
//! Faults: the answer lost after the API committed the write; a 503 before
//! it did anything; an answer slower than `request_timeout`; and Ctrl-C
//! (SIGINT to terraform's process group) while the write is in flight.
//!
//! `CFAI_WRITE_FAULTS=<substring>` runs only the cells whose name has it.

mod support;

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use cfai::emulator::{Fault, FaultConfig};
use serde_json::Value;
use support::{
    require_terraform, BackgroundEmulator, Workspace, ACCOUNT, API_TOKEN, PROVIDER_HEADER,
};

#[derive(Clone, Copy, Debug)]
enum Kind {
    Lost,
    Unavailable,
    Timeout,
    Interrupt,
}

const KINDS: [Kind; 4] = [
    Kind::Lost,
    Kind::Unavailable,
    Kind::Timeout,
    Kind::Interrupt,
];

/// One write: the configuration before it (`None`: nothing), the one that
/// makes it, and the request it sends (method, route for the emulator's
/// counts, a path fragment that only this write's requests contain).
struct Write {
    name: &'static str,
    before: Option<String>,
    after: String,
    method: &'static str,
    route: &'static str,
    path: String,
}

fn token(name: &str, trigger: &str) -> String {
    format!(
        r#"resource "cfai_account_api_token" "t" {{
  name              = "{name}"
  policies          = [{{ permission_groups = ["Workers R2 Storage Read"], resources = {{ "com.cloudflare.api.account.{ACCOUNT}" = "*" }} }}]
  rotation_triggers = {{ v = "{trigger}" }}
}}
"#
    )
}

fn service_token(name: &str) -> String {
    format!("resource \"cfai_ai_search_service_token\" \"s\" {{\n  name = \"{name}\"\n}}\n")
}

fn namespace(description: &str) -> String {
    format!(
        "resource \"cfai_ai_search_namespace\" \"n\" {{\n  name        = \"faults\"\n  description = \"{description}\"\n}}\n"
    )
}

fn instance(namespace: &str, max_results: u32) -> String {
    format!(
        "resource \"cfai_ai_search_instance\" \"i\" {{\n  id              = \"kb\"\n  namespace       = \"{namespace}\"\n  type            = \"r2\"\n  source          = \"bucket\"\n  max_num_results = {max_results}\n}}\n"
    )
}

fn run_token() -> String {
    format!(
        "{}\nresource \"terraform_data\" \"seen\" {{\n  input = length(data.cfai_permission_groups.via_run.groups)\n}}\n",
        support::run_token_config("BASE")
    )
}

fn writes() -> Vec<Write> {
    let tokens = format!("/accounts/{ACCOUNT}/tokens");
    let ai_tokens = format!("/accounts/{ACCOUNT}/ai-search/tokens");
    let namespaces = format!("/accounts/{ACCOUNT}/ai-search/namespaces/faults");
    let instances = "/instances".to_string();
    let w = |name, before: Option<String>, after: String, method, route, path: &String| Write {
        name,
        before,
        after,
        method,
        route,
        path: path.clone(),
    };
    vec![
        w(
            "token create",
            None,
            token("a", "1"),
            "POST",
            "/accounts/{account_id}/tokens",
            &tokens,
        ),
        w(
            "token update",
            Some(token("a", "1")),
            token("b", "1"),
            "PUT",
            "/accounts/{account_id}/tokens/{token_id}",
            &format!("{tokens}/"),
        ),
        w(
            "token roll",
            Some(token("a", "1")),
            token("a", "2"),
            "PUT",
            "/accounts/{account_id}/tokens/{token_id}/value",
            &"/value".to_string(),
        ),
        w(
            "token delete",
            Some(token("a", "1")),
            String::new(),
            "DELETE",
            "/accounts/{account_id}/tokens/{token_id}",
            &format!("{tokens}/"),
        ),
        w(
            "service token mint",
            None,
            service_token("s"),
            "POST",
            "/accounts/{account_id}/tokens",
            &tokens,
        ),
        w(
            "service token register",
            None,
            service_token("s"),
            "POST",
            "/accounts/{account_id}/ai-search/tokens",
            &ai_tokens,
        ),
        w(
            "service token rename",
            Some(service_token("s")),
            service_token("renamed"),
            "PUT",
            "/accounts/{account_id}/ai-search/tokens/{id}",
            &format!("{ai_tokens}/"),
        ),
        w(
            "service token delete",
            Some(service_token("s")),
            String::new(),
            "DELETE",
            "/accounts/{account_id}/ai-search/tokens/{id}",
            &format!("{ai_tokens}/"),
        ),
        w(
            "namespace create",
            None,
            namespace("one"),
            "POST",
            "/accounts/{account_id}/ai-search/namespaces",
            &format!("/accounts/{ACCOUNT}/ai-search/namespaces"),
        ),
        w(
            "namespace update",
            Some(namespace("one")),
            namespace("two"),
            "PUT",
            "/accounts/{account_id}/ai-search/namespaces/{name}",
            &namespaces,
        ),
        w(
            "namespace delete",
            Some(namespace("one")),
            String::new(),
            "DELETE",
            "/accounts/{account_id}/ai-search/namespaces/{name}",
            &namespaces,
        ),
        w(
            "instance create",
            None,
            instance("docs", 10),
            "POST",
            "/accounts/{account_id}/ai-search/namespaces/{name}/instances",
            &instances,
        ),
        w(
            "instance update",
            Some(instance("docs", 10)),
            instance("docs", 20),
            "PUT",
            "/accounts/{account_id}/ai-search/namespaces/{name}/instances/{id}",
            &instances,
        ),
        w(
            "instance move",
            Some(instance("docs", 10)),
            instance("other", 10),
            "PATCH",
            "/accounts/{account_id}/ai-search/namespaces/{name}/instances/{id}",
            &instances,
        ),
        w(
            "instance delete",
            Some(instance("docs", 10)),
            String::new(),
            "DELETE",
            "/accounts/{account_id}/ai-search/namespaces/{name}/instances/{id}",
            &instances,
        ),
        w(
            "ephemeral open",
            None,
            run_token(),
            "POST",
            "/accounts/{account_id}/tokens",
            &tokens,
        ),
        w(
            "ephemeral close",
            None,
            run_token(),
            "DELETE",
            "/accounts/{account_id}/tokens/{token_id}",
            &format!("{tokens}/"),
        ),
    ]
}

fn provider(base_url: &str) -> String {
    // One retry, a short timeout: every cell ends within seconds.
    format!(
        "{PROVIDER_HEADER}\nprovider \"cfai\" {{\n  api_token       = \"{API_TOKEN}\"\n  account_id      = \"{ACCOUNT}\"\n  base_url        = \"{base_url}\"\n  max_retries     = 1\n  request_timeout = \"1s\"\n}}\n"
    )
}

fn fault(kind: Kind, write: &Write) -> FaultConfig {
    let only = |config: FaultConfig| FaultConfig {
        method: write.method.into(),
        path_filter: write.path.clone(),
        ..config
    };
    match kind {
        Kind::Lost => only(FaultConfig {
            script: [Fault::DropAfterCommit].into(),
            ..Default::default()
        }),
        Kind::Unavailable => only(FaultConfig {
            script: [Fault::Status { status: 503 }, Fault::Status { status: 503 }].into(),
            ..Default::default()
        }),
        // Made, then answered after the client gave up; every retry too.
        Kind::Timeout => only(FaultConfig {
            response_latency_ms: 1500,
            ..Default::default()
        }),
        Kind::Interrupt => only(FaultConfig {
            response_latency_ms: 700,
            ..Default::default()
        }),
    }
}

/// What the state holds, as the API would name it.
#[derive(Debug, Default, PartialEq)]
struct Objects {
    tokens: BTreeSet<String>,
    ai_tokens: BTreeSet<String>,
    namespaces: BTreeSet<String>,
    instances: BTreeSet<String>,
}

fn in_state(ws: &Workspace) -> (Objects, Vec<(String, String)>) {
    let state = ws.json(&["show", "-json"]);
    let mut objects = Objects::default();
    let mut values = Vec::new();
    let resources = state["values"]["root_module"]["resources"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    for r in resources {
        let v = &r["values"];
        let s = |k: &str| v[k].as_str().unwrap_or_default().to_string();
        match r["type"].as_str().unwrap_or_default() {
            "cfai_account_api_token" => {
                objects.tokens.insert(s("id"));
                if let Some(value) = v["value"].as_str() {
                    values.push((s("id"), value.to_string()));
                }
            }
            "cfai_ai_search_service_token" => {
                objects.ai_tokens.insert(s("id"));
                objects.tokens.insert(s("cf_api_id"));
            }
            "cfai_ai_search_namespace" => {
                objects.namespaces.insert(s("name"));
            }
            "cfai_ai_search_instance" => {
                objects
                    .instances
                    .insert(format!("{}/{}", s("namespace"), s("id")));
            }
            _ => {}
        }
    }
    (objects, values)
}

fn in_api(emu: &BackgroundEmulator) -> Objects {
    let dump = emu.get().dump();
    let keys = |v: &Value| -> BTreeSet<String> {
        v.as_object()
            .map(|m| m.keys().cloned().collect())
            .unwrap_or_default()
    };
    let mut namespaces = keys(&dump["namespaces"]);
    // Made by the test, not by the configuration.
    for fixed in ["default", "docs", "other"] {
        namespaces.remove(fixed);
    }
    let mut instances = BTreeSet::new();
    if let Some(by_ns) = dump["instances"].as_object() {
        for (ns, items) in by_ns {
            for id in keys(items) {
                instances.insert(format!("{ns}/{id}"));
            }
        }
    }
    Objects {
        tokens: keys(&dump["tokens"]),
        ai_tokens: keys(&dump["ai_tokens"]),
        namespaces,
        instances,
    }
}

fn agree(emu: &BackgroundEmulator, ws: &Workspace, what: &str) {
    let (state, values) = in_state(ws);
    let api = in_api(emu);
    assert_eq!(api, state, "{what}: API (left) and state (right) differ");
    let dump = emu.get().dump();
    for (id, value) in values {
        assert_eq!(
            dump["tokens"][&id]["value"].as_str(),
            Some(value.as_str()),
            "{what}: token {id} has a dead value in state"
        );
    }
}

fn cell(tf: &std::path::Path, write: &Write, kind: Kind) {
    let what = format!("{} / {kind:?}", write.name);
    let emu = BackgroundEmulator::start();
    let api = support::fast_client(&emu.get().base_url, 0);
    let rt = tokio::runtime::Runtime::new().unwrap();
    for ns in ["docs", "other"] {
        rt.block_on(api.create_namespace(ACCOUNT, ns, None))
            .unwrap();
    }
    let ws = Workspace::new(tf.to_path_buf());
    let base = emu.get().base_url.clone();
    let config = |body: &str| format!("{}\n{}", provider(&base), body.replace("BASE", &base));
    if let Some(before) = &write.before {
        ws.write(&config(before));
        ws.apply();
    }
    ws.write(&config(&write.after));
    let written = format!("{} {}", write.method, write.route);
    let (before, injected) = (emu.get().count(&written), emu.get().faults_injected());
    emu.get().set_faults(fault(kind, write));
    let printed = match kind {
        Kind::Interrupt => {
            let sent = |n: u64| n > before;
            let printed = ws.apply_interrupted(&[], || {
                let reached = sent(emu.get().count(&written));
                if reached {
                    // The write has reached the API and waits for its answer.
                    std::thread::sleep(Duration::from_millis(100));
                }
                reached
            });
            printed
        }
        _ => ws.run(&["apply", "-auto-approve", "-no-color"]).all(),
    };
    emu.get().set_faults(FaultConfig::default());
    assert!(
        emu.get().count(&written) > before || emu.get().faults_injected() > injected,
        "{what}: the write was never sent\n{printed}"
    );
    assert!(!printed.contains("panic"), "{what}\n{printed}");
    assert!(
        !printed.contains("bug in the provider") && !printed.contains("inconsistent result"),
        "{what}\n{printed}"
    );
    agree(&emu, &ws, &format!("{what}, after the run\n{printed}"));
    ws.apply();
    agree(&emu, &ws, &format!("{what}, after the next apply"));
    ws.assert_plan_empty();
    ws.ok(&["destroy", "-auto-approve", "-no-color"]);
    assert_eq!(
        in_api(&emu),
        Objects::default(),
        "{what}: left behind after destroy"
    );
}

#[test]
fn every_write_under_every_fault_leaves_api_and_state_in_agreement() {
    let Some(tf) = require_terraform() else {
        return;
    };
    if !support::client_supports(
        "every_write_under_every_fault_leaves_api_and_state_in_agreement",
        support::Feature::Ephemeral,
    ) {
        return;
    }
    let only = std::env::var("CFAI_WRITE_FAULTS").unwrap_or_default();
    let started = Instant::now();
    let mut cells = 0;
    let mut failed = Vec::new();
    for write in writes() {
        for kind in KINDS {
            let name = format!("{} / {kind:?}", write.name);
            if !name.contains(&only) {
                continue;
            }
            cells += 1;
            // Every cell runs; the failures are listed together.
            let run =
                std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| cell(&tf, &write, kind)));
            if run.is_err() {
                failed.push(name);
            }
        }
    }
    eprintln!(
        "{cells} write-fault cells in {:?}, {} failed",
        started.elapsed(),
        failed.len()
    );
    assert!(failed.is_empty(), "failed cells: {failed:#?}");
}
