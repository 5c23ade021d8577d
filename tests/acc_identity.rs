//! Resource identity through the real terraform (>= 1.12): every managed
//! type stores its identity beside its state, and an `import` block by
//! identity gives exactly what an import by id gives, then plans empty.

mod support;

use serde_json::{json, Value};
use support::{client_supports, provider_block, require_terraform, BackgroundEmulator, Feature};
use support::{Workspace, ACCOUNT};

/// One object of every managed type.
fn objects(base: &str) -> String {
    format!(
        r#"{provider}
resource "cfai_account_api_token" "t" {{
  name     = "identity-account"
  policies = [{{ permission_groups = ["Workers R2 Storage Read"], resources = {{ "com.cloudflare.api.account.{ACCOUNT}" = "*" }} }}]
}}

resource "cfai_user_api_token" "u" {{
  name     = "identity-user"
  policies = [{{ permission_groups = ["Workers R2 Storage Read"], resources = {{ "com.cloudflare.api.account.{ACCOUNT}" = "*" }} }}]
}}

resource "cfai_ai_search_namespace" "ns" {{
  name = "identity-ns"
}}

resource "cfai_ai_search_service_token" "s" {{
  name = "identity-svc"
}}

resource "cfai_ai_search_instance" "i" {{
  id        = "identity-kb"
  namespace = cfai_ai_search_namespace.ns.name
  type      = "r2"
  source    = "docs-bucket"
  token_id  = cfai_ai_search_service_token.s.id
}}
"#,
        provider = provider_block(base)
    )
}

/// Address → (identity, values) from `terraform show -json`.
fn stored(ws: &Workspace) -> Vec<(String, Value, Value)> {
    let state = ws.json(&["show", "-json"]);
    state["values"]["root_module"]["resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["address"].as_str().unwrap().to_string(),
                r["identity"].clone(),
                r["values"].clone(),
            )
        })
        .collect()
}

#[test]
fn every_managed_type_has_an_identity_and_imports_by_it() {
    let Some(tf) = require_terraform() else {
        return;
    };
    if !client_supports(
        "every_managed_type_has_an_identity_and_imports_by_it",
        Feature::Identity,
    ) {
        return;
    }
    let emu = BackgroundEmulator::start();
    let ws = Workspace::new(tf);
    let base = emu.get().base_url.clone();
    ws.write(&objects(&base));
    ws.apply();
    ws.assert_plan_empty();

    let before = stored(&ws);
    assert_eq!(before.len(), 5);
    let values = |address: &str| {
        before
            .iter()
            .find(|(a, _, _)| a == address)
            .map(|(_, _, v)| v.clone())
            .unwrap()
    };
    let (t, u, ns, s, i) = (
        values("cfai_account_api_token.t"),
        values("cfai_user_api_token.u"),
        values("cfai_ai_search_namespace.ns"),
        values("cfai_ai_search_service_token.s"),
        values("cfai_ai_search_instance.i"),
    );
    let expected = [
        (
            "cfai_account_api_token.t",
            json!({"account_id": ACCOUNT, "id": t["id"]}),
        ),
        ("cfai_user_api_token.u", json!({"id": u["id"]})),
        (
            "cfai_ai_search_namespace.ns",
            json!({"account_id": ACCOUNT, "name": "identity-ns"}),
        ),
        (
            "cfai_ai_search_service_token.s",
            json!({"account_id": ACCOUNT, "id": s["id"]}),
        ),
        (
            "cfai_ai_search_instance.i",
            json!({"account_id": ACCOUNT, "namespace": "identity-ns", "id": "identity-kb"}),
        ),
    ];
    for (address, identity) in &expected {
        let (_, got, _) = before.iter().find(|(a, _, _)| a == address).unwrap();
        assert_eq!(got, identity, "{address}");
    }
    assert!(t["id"].is_string() && u["id"].is_string() && s["id"].is_string());
    assert_eq!(ns["name"], "identity-ns");
    assert_eq!(i["namespace"], "identity-ns");

    // Forget every object, then import each by its identity: the provider's
    // account is left out of one, as a user may.
    for (address, _) in &expected {
        ws.ok(&["state", "rm", address]);
    }
    let mut imports = String::new();
    for (address, identity) in &expected {
        let mut identity = identity.clone();
        if *address == "cfai_ai_search_namespace.ns" {
            identity.as_object_mut().unwrap().remove("account_id");
        }
        let fields: Vec<String> = identity
            .as_object()
            .unwrap()
            .iter()
            .map(|(k, v)| format!("    {k} = {v}"))
            .collect();
        imports.push_str(&format!(
            "import {{\n  to = {address}\n  identity = {{\n{}\n  }}\n}}\n",
            fields.join("\n")
        ));
    }
    // Managed service tokens, user tokens and account tokens are imported
    // without their values: rotation is not asked for here.
    ws.write(&format!("{}\n{imports}", objects(&base)));
    let before_writes = emu.writes();
    let (code, plan) = ws.plan_code();
    assert_eq!(code, 2, "{plan}");
    assert!(
        plan.contains("5 to import, 0 to add, 0 to change, 0 to destroy"),
        "{plan}"
    );
    ws.apply();
    assert_eq!(emu.writes(), before_writes, "importing wrote to the API");
    let by_identity = stored(&ws);
    for (address, identity, _) in &before {
        let (_, got, _) = by_identity.iter().find(|(a, _, _)| a == address).unwrap();
        assert_eq!(got, identity, "{address}: identity after import");
    }
    ws.assert_plan_empty();

    // The same objects imported by id: the very same states.
    ws.write(&objects(&base));
    let ids = [
        (
            "cfai_account_api_token.t",
            format!("{ACCOUNT}/{}", t["id"].as_str().unwrap()),
        ),
        (
            "cfai_user_api_token.u",
            u["id"].as_str().unwrap().to_string(),
        ),
        (
            "cfai_ai_search_namespace.ns",
            format!("{ACCOUNT}/identity-ns"),
        ),
        (
            "cfai_ai_search_service_token.s",
            format!("{ACCOUNT}/{}", s["id"].as_str().unwrap()),
        ),
        (
            "cfai_ai_search_instance.i",
            format!("{ACCOUNT}/identity-ns/identity-kb"),
        ),
    ];
    for (address, id) in &ids {
        ws.ok(&["state", "rm", address]);
        ws.ok(&["import", "-no-color", address, id]);
    }
    let by_id = stored(&ws);
    for (address, identity, values) in &by_identity {
        let (_, got_identity, got_values) = by_id.iter().find(|(a, _, _)| a == address).unwrap();
        assert_eq!(
            got_identity, identity,
            "{address}: identity by id and by identity"
        );
        assert_eq!(got_values, values, "{address}: state by id and by identity");
    }
    ws.assert_plan_empty();
    ws.ok(&["destroy", "-auto-approve", "-no-color"]);
}
