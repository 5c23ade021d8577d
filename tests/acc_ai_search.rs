//! Acceptance tests for the AI Search resources, through the real terraform
//! against the emulator, checking the emulator's state after every step.

mod support;

use serde_json::json;
use support::{provider_block, require_terraform, BackgroundEmulator, Workspace, ACCOUNT};

fn setup() -> Option<(BackgroundEmulator, Workspace)> {
    let tf = require_terraform()?;
    Some((BackgroundEmulator::start(), Workspace::new(tf)))
}

fn namespaces(emu: &BackgroundEmulator) -> serde_json::Value {
    emu.get().dump()["namespaces"].clone()
}

fn block_on<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Runtime::new().unwrap().block_on(f)
}

#[test]
fn namespace_create_update_import_and_guarded_destroy() {
    let Some((emu, ws)) = setup() else { return };
    let base = emu.get().base_url.clone();
    let config = |description: &str| {
        format!(
            "{}\nresource \"cfai_ai_search_namespace\" \"docs\" {{\n  name        = \"docs\"\n  description = \"{description}\"\n}}\n",
            provider_block(&base)
        )
    };
    ws.write(&config("Product docs"));
    ws.apply();
    assert_eq!(namespaces(&emu)["docs"]["description"], "Product docs");
    let state = ws.resource("cfai_ai_search_namespace.docs");
    assert_eq!(state["account_id"], ACCOUNT);
    assert!(state["created_at"].is_string());
    ws.assert_plan_empty();

    // Description in place.
    ws.write(&config("All docs"));
    let (code, plan) = ws.plan_code();
    assert_eq!(code, 2);
    assert!(plan.contains("update in-place"), "{plan}");
    ws.apply();
    assert_eq!(namespaces(&emu)["docs"]["description"], "All docs");
    ws.assert_plan_empty();

    // Import into a fresh state.
    ws.ok(&["state", "rm", "cfai_ai_search_namespace.docs"]);
    ws.ok(&[
        "import",
        "cfai_ai_search_namespace.docs",
        &format!("{ACCOUNT}/docs"),
    ]);
    ws.assert_plan_empty();

    // `default` cannot be managed; a bad name fails at plan time.
    ws.write(&format!(
        "{}\nresource \"cfai_ai_search_namespace\" \"d\" {{\n  name = \"default\"\n}}\nresource \"cfai_ai_search_namespace\" \"bad\" {{\n  name = \"Bad-\"\n}}\n",
        provider_block(&base)
    ));
    let out = ws.fails(&["plan", "-no-color"]);
    assert!(out.contains("cannot be managed"), "{out}");
    assert!(out.contains("lowercase letters"), "{out}");

    // A namespace that still holds an instance is not destroyed; the error names it.
    ws.write(&config("All docs"));
    let client = support::fast_client(&base, 0);
    block_on(async {
        client
            .create_instance(
                ACCOUNT,
                Some("docs"),
                json!({"id": "kb", "type": "r2", "source": "bucket"})
                    .as_object()
                    .unwrap(),
            )
            .await
            .unwrap()
    });
    let out = ws.fails(&["destroy", "-auto-approve", "-no-color"]);
    assert!(
        out.contains("still holds these AI Search instances: kb"),
        "{out}"
    );
    assert!(
        namespaces(&emu).get("docs").is_some(),
        "nothing half-deleted"
    );
    block_on(async {
        client
            .delete_instance(ACCOUNT, Some("docs"), "kb")
            .await
            .unwrap()
    });
    ws.ok(&["destroy", "-auto-approve", "-no-color"]);
    assert!(namespaces(&emu).get("docs").is_none());
}

const REGISTER: &str = "POST /accounts/{account_id}/ai-search/tokens";
const REREGISTER: &str = "PUT /accounts/{account_id}/ai-search/tokens/{id}";

fn ai_tokens(emu: &BackgroundEmulator) -> serde_json::Map<String, serde_json::Value> {
    emu.get().dump()["ai_tokens"]
        .as_object()
        .cloned()
        .unwrap_or_default()
}

fn api_tokens(emu: &BackgroundEmulator) -> serde_json::Map<String, serde_json::Value> {
    emu.get().dump()["tokens"]
        .as_object()
        .cloned()
        .unwrap_or_default()
}

#[test]
fn bring_your_own_token_with_a_write_only_key() {
    let Some((emu, ws)) = setup() else { return };
    let base = emu.get().base_url.clone();
    let config = |version: u32, extra: &str| {
        format!(
            r#"{provider}
resource "cfai_account_api_token" "index" {{
  name     = "ai-search-index"
  policies = [{{ permission_groups = ["AI Search Index Engine", "Workers R2 Storage Write"], resources = {{ "com.cloudflare.api.account.{ACCOUNT}" = "*" }} }}]
}}

resource "cfai_ai_search_service_token" "svc" {{
  name                  = "docs-indexer"
  cf_api_id             = cfai_account_api_token.index.id
  cf_api_key_wo         = cfai_account_api_token.index.value
  cf_api_key_wo_version = {version}
  {extra}
}}
"#,
            provider = provider_block(&base)
        )
    };
    ws.write(&config(1, ""));
    ws.apply();
    let registrations = ai_tokens(&emu);
    assert_eq!(registrations.len(), 1);
    let registration = registrations.values().next().unwrap();
    assert_eq!(registration["legacy"], false, "legacy = false is sent");
    let token = ws.resource("cfai_account_api_token.index");
    let value = token["value"].as_str().unwrap().to_string();
    assert_eq!(registration["cf_api_id"], token["id"]);
    // The write-only key is nowhere in the state file (the token resource
    // itself keeps its value, by its own contract, once).
    let state_file = std::fs::read_to_string(ws.work_dir().join("terraform.tfstate")).unwrap();
    assert_eq!(
        state_file.matches(&value).count(),
        1,
        "only cfai_account_api_token.value holds it"
    );
    let svc = ws.resource("cfai_ai_search_service_token.svc");
    assert!(svc["cf_api_key_wo"].is_null());
    assert!(
        svc["permission_groups"].is_null(),
        "bring-your-own: no minted token"
    );
    ws.assert_plan_empty();

    // Bumping the version re-sends the key, in place.
    ws.write(&config(2, ""));
    ws.apply();
    assert_eq!(emu.get().count(REREGISTER), 1);
    assert_eq!(ai_tokens(&emu).len(), 1);
    ws.assert_plan_empty();

    // Both forms of the key: a plan-time error on the attribute.
    ws.write(&config(
        2,
        "cf_api_key = cfai_account_api_token.index.value",
    ));
    let out = ws.fails(&["plan", "-no-color"]);
    assert!(out.contains("cannot both be set"), "{out}");

    // The stored form, for clients without write-only support.
    let stored = format!(
        r#"{provider}
resource "cfai_account_api_token" "index" {{
  name     = "ai-search-index"
  policies = [{{ permission_groups = ["AI Search Index Engine", "Workers R2 Storage Write"], resources = {{ "com.cloudflare.api.account.{ACCOUNT}" = "*" }} }}]
}}

resource "cfai_ai_search_service_token" "svc" {{
  name       = "docs-indexer-2"
  cf_api_id  = cfai_account_api_token.index.id
  cf_api_key = cfai_account_api_token.index.value
}}
"#,
        provider = provider_block(&base)
    );
    ws.write(&stored);
    ws.apply();
    assert_eq!(
        ai_tokens(&emu).values().next().unwrap()["name"],
        "docs-indexer-2"
    );
    ws.assert_plan_empty();
    ws.ok(&["destroy", "-auto-approve", "-no-color"]);
    assert!(ai_tokens(&emu).is_empty());
    assert!(api_tokens(&emu).is_empty());
}

#[test]
fn managed_token_mints_registers_renames_and_cleans_up() {
    let Some((emu, ws)) = setup() else { return };
    let base = emu.get().base_url.clone();
    // A freshly minted token is refused for 1.5 s (propagation).
    emu.get().set_ai_search(cfai::emulator::AiSearchConfig {
        token_propagation_ms: 1500,
        ..Default::default()
    });
    let config = |name: &str| {
        format!(
            "{}\nresource \"cfai_ai_search_service_token\" \"svc\" {{\n  name = \"{name}\"\n}}\n",
            provider_block(&base)
        )
    };
    ws.write(&config("managed"));
    ws.apply();
    assert!(emu.get().count(REGISTER) >= 2, "7012 was retried");
    let (registrations, tokens) = (ai_tokens(&emu), api_tokens(&emu));
    assert_eq!((registrations.len(), tokens.len()), (1, 1));
    let registration = registrations.values().next().unwrap();
    let (minted_id, minted) = tokens.iter().next().unwrap();
    assert_eq!(registration["cf_api_id"], minted_id.as_str());
    assert_eq!(registration["legacy"], false);
    let groups: Vec<_> = minted["token"]["policies"][0]["permission_groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        groups.len(),
        2,
        "AI Search Index Engine and Workers R2 Storage Write"
    );
    assert_eq!(
        minted["token"]["policies"][0]["resources"],
        json!({ format!("com.cloudflare.api.account.{ACCOUNT}"): "*" })
    );
    let value = minted["value"].as_str().unwrap().to_string();
    let state_file = std::fs::read_to_string(ws.work_dir().join("terraform.tfstate")).unwrap();
    assert!(!state_file.contains(&value), "no secret in state");
    ws.assert_plan_empty();

    // Rename: the minted token is rolled and re-registered, in place.
    ws.write(&config("managed-renamed"));
    ws.apply();
    assert_eq!(emu.get().count(REREGISTER), 1);
    let tokens = api_tokens(&emu);
    assert_eq!(tokens.len(), 1);
    assert_ne!(
        tokens[minted_id]["value"], value,
        "rolled for the new registration"
    );
    assert_eq!(
        ai_tokens(&emu).values().next().unwrap()["name"],
        "managed-renamed"
    );
    ws.assert_plan_empty();

    // Import recognises the minted token: the plan after it is empty.
    let id = ws.resource("cfai_ai_search_service_token.svc")["id"]
        .as_str()
        .unwrap()
        .to_string();
    ws.ok(&["state", "rm", "cfai_ai_search_service_token.svc"]);
    ws.ok(&[
        "import",
        "cfai_ai_search_service_token.svc",
        &format!("{ACCOUNT}/{id}"),
    ]);
    ws.assert_plan_empty();

    // Destroy: the registration, then the minted token.
    ws.ok(&["destroy", "-auto-approve", "-no-color"]);
    assert!(ai_tokens(&emu).is_empty());
    assert!(api_tokens(&emu).is_empty());
}

#[test]
fn a_registration_that_keeps_failing_orphans_no_minted_token() {
    let Some((emu, ws)) = setup() else { return };
    let base = emu.get().base_url.clone();
    emu.get().set_ai_search(cfai::emulator::AiSearchConfig {
        token_propagation_ms: 60_000,
        ..Default::default()
    });
    ws.write(&format!(
        "{}\nresource \"cfai_ai_search_service_token\" \"svc\" {{\n  name = \"never\"\n  timeouts {{\n    create = \"2s\"\n  }}\n}}\n",
        provider_block(&base)
    ));
    let started = std::time::Instant::now();
    let out = ws.fails(&["apply", "-auto-approve", "-no-color"]);
    assert!(started.elapsed() < std::time::Duration::from_secs(15));
    assert!(out.contains("7012"), "{out}");
    assert!(ai_tokens(&emu).is_empty());
    assert!(api_tokens(&emu).is_empty(), "the minted token was deleted");
}

#[test]
fn a_token_still_used_by_an_unmanaged_instance_is_not_half_deleted() {
    let Some((emu, ws)) = setup() else { return };
    let base = emu.get().base_url.clone();
    emu.get().set_ai_search(cfai::emulator::AiSearchConfig {
        instance_teardown_ms: 1500,
        ..Default::default()
    });
    ws.write(&format!(
        "{}\nresource \"cfai_ai_search_service_token\" \"svc\" {{\n  name = \"shared\"\n  timeouts {{\n    delete = \"2s\"\n  }}\n}}\n",
        provider_block(&base)
    ));
    ws.apply();
    let id = ws.resource("cfai_ai_search_service_token.svc")["id"]
        .as_str()
        .unwrap()
        .to_string();
    let client = support::fast_client(&base, 0);
    let body = json!({"id": "outsider", "type": "r2", "source": "bucket", "token_id": id});
    block_on(async {
        client
            .create_instance(ACCOUNT, None, body.as_object().unwrap())
            .await
            .unwrap()
    });
    let out = ws.fails(&["destroy", "-auto-approve", "-no-color"]);
    assert!(
        out.contains("default/outsider"),
        "the error names the instance:\n{out}"
    );
    assert_eq!(ai_tokens(&emu).len(), 1, "the registration is in place");
    assert_eq!(api_tokens(&emu).len(), 1, "and so is its minted token");

    // Once the instance is gone (torn down 1.5 s later), destroy succeeds.
    block_on(async {
        client
            .delete_instance(ACCOUNT, None, "outsider")
            .await
            .unwrap()
    });
    ws.write(&format!(
        "{}\nresource \"cfai_ai_search_service_token\" \"svc\" {{\n  name = \"shared\"\n  timeouts {{\n    delete = \"20s\"\n  }}\n}}\n",
        provider_block(&base)
    ));
    ws.apply();
    ws.ok(&["destroy", "-auto-approve", "-no-color"]);
    assert!(ai_tokens(&emu).is_empty());
    assert!(api_tokens(&emu).is_empty());
}
