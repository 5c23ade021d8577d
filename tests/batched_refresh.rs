//! Batched refresh: refreshing many objects costs about N / page size
//! requests, and drift on one object among many is reported on exactly it.

mod support;

use std::collections::BTreeMap;

use support::{
    require_terraform, BackgroundEmulator, Workspace, ACCOUNT, API_TOKEN, PROVIDER_HEADER,
};

fn provider(base: &str) -> String {
    format!(
        "{PROVIDER_HEADER}\nprovider \"cfai\" {{\n  api_token  = \"{API_TOKEN}\"\n  account_id = \"{ACCOUNT}\"\n  base_url   = \"{base}\"\n  rate_limit_per_second = 1000\n}}\n"
    )
}

fn delta(before: &BTreeMap<String, u64>, after: &BTreeMap<String, u64>) -> BTreeMap<String, u64> {
    after
        .iter()
        .map(|(k, v)| (k.clone(), v - before.get(k).copied().unwrap_or(0)))
        .filter(|(_, v)| *v > 0)
        .collect()
}

#[test]
fn refreshing_120_tokens_takes_a_handful_of_requests_and_drift_stays_precise() {
    let Some(tf) = require_terraform() else {
        return;
    };
    let emu = BackgroundEmulator::start();
    let ws = Workspace::new(tf);
    ws.write(&format!(
        "{}\nresource \"cfai_account_api_token\" \"t\" {{\n  count    = 120\n  name     = \"t-${{count.index}}\"\n  policies = [{{ permission_groups = [\"Workers R2 Storage Read\"], resources = {{ \"com.cloudflare.api.account.{ACCOUNT}\" = \"*\" }} }}]\n}}\n",
        provider(&emu.get().base_url)
    ));
    let run = ws.run(&["apply", "-auto-approve", "-no-color", "-parallelism=20"]);
    assert!(run.ok, "{}", run.all());

    let before = emu.get().counts();
    ws.assert_plan_empty();
    let used = delta(&before, &emu.get().counts());
    let total: u64 = used.values().sum();
    assert!(
        total <= 6,
        "refreshing 120 tokens took {total} requests: {used:?}"
    );
    assert!(
        !used.contains_key("GET /accounts/{account_id}/tokens/{token_id}"),
        "{used:?}"
    );

    // One renamed, one deleted, out of band: exactly those two change.
    let state = ws.json(&["show", "-json"]);
    let id_of = |i: usize| {
        state["values"]["root_module"]["resources"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["index"] == i)
            .unwrap()["values"]["id"]
            .as_str()
            .unwrap()
            .to_string()
    };
    assert!(emu.get().rename_token(&id_of(7), "renamed"));
    assert!(emu.get().delete_token(&id_of(42)));
    let before = emu.get().counts();
    let (code, plan) = ws.plan_code();
    assert_eq!(code, 2);
    // A rename is invisible to answers that leave out the name.
    let renamed_seen = !support::sparse_answers();
    assert_eq!(
        plan.contains("cfai_account_api_token.t[7] will be updated in-place"),
        renamed_seen,
        "{plan}"
    );
    assert!(
        plan.contains("cfai_account_api_token.t[42] will be created"),
        "{plan}"
    );
    let summary = if renamed_seen {
        "Plan: 1 to add, 1 to change, 0 to destroy."
    } else {
        "Plan: 1 to add, 0 to change, 0 to destroy."
    };
    assert!(plan.contains(summary), "{plan}");
    let used = delta(&before, &emu.get().counts());
    assert_eq!(
        used.get("GET /accounts/{account_id}/tokens/{token_id}"),
        Some(&1),
        "the missing token is confirmed by one GET: {used:?}"
    );
}

#[test]
fn refreshing_instances_and_service_tokens_is_batched_too() {
    let Some(tf) = require_terraform() else {
        return;
    };
    let emu = BackgroundEmulator::start();
    let ws = Workspace::new(tf);
    ws.write(&format!(
        "{}\nresource \"cfai_ai_search_service_token\" \"s\" {{\n  count = 30\n  name  = \"s-${{count.index}}\"\n}}\nresource \"cfai_ai_search_instance\" \"i\" {{\n  count  = 30\n  id     = \"i-${{count.index}}\"\n  type   = \"r2\"\n  source = \"b\"\n}}\n",
        provider(&emu.get().base_url)
    ));
    let run = ws.run(&["apply", "-auto-approve", "-no-color", "-parallelism=20"]);
    assert!(run.ok, "{}", run.all());
    let before = emu.get().counts();
    ws.assert_plan_empty();
    let used = delta(&before, &emu.get().counts());
    let total: u64 = used.values().sum();
    // 30 service tokens (1 page of 100) and their 30 minted tokens' reads
    // are not needed; 30 instances in one namespace (1 page of 50).
    assert!(
        total <= 4,
        "refreshing 60 objects took {total} requests: {used:?}"
    );
}
