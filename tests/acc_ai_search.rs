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
