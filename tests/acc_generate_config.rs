//! `import` blocks with `terraform plan -generate-config-out` through the
//! real terraform: for every managed type, both service-token modes
//! included, the generated file validates, applies as imports only with no
//! API write, and the next plan is empty. Terraform 1.14 asks the provider
//! for the configuration (GenerateResourceConfig); earlier clients write
//! it from the state and schema, and both must give a file that works.

mod support;

use support::{provider_block, require_terraform, BackgroundEmulator, Workspace, ACCOUNT};

fn seed(base: &str) -> String {
    format!(
        r#"{provider}
resource "cfai_account_api_token" "deploy" {{
  name     = "deploy"
  policies = [{{ permission_groups = ["Workers R2 Storage Read"], resources = {{ "com.cloudflare.api.account.{ACCOUNT}" = "*" }} }}]
}}

resource "cfai_user_api_token" "mine" {{
  name     = "mine"
  policies = [{{ permission_groups = ["Workers R2 Storage Read"], resources = {{ "com.cloudflare.api.account.{ACCOUNT}" = "*" }} }}]
}}

resource "cfai_ai_search_namespace" "docs" {{
  name        = "docs"
  description = "manuals"
}}

resource "cfai_ai_search_service_token" "managed" {{
  name = "managed"
}}

resource "cfai_ai_search_service_token" "managed_by_user" {{
  name              = "managed-by-user"
  token_owner       = "user"
  permission_groups = ["AI Search Index Engine", "Workers R2 Storage Write", "Workers R2 Storage Read"]
}}

resource "cfai_account_api_token" "reader" {{
  name     = "reader"
  policies = [{{ permission_groups = ["AI Search Index Engine", "Workers R2 Storage Write"], resources = {{ "com.cloudflare.api.account.{ACCOUNT}" = "*" }} }}]
}}

resource "cfai_ai_search_service_token" "byo" {{
  name       = "byo"
  cf_api_id  = cfai_account_api_token.reader.id
  cf_api_key = cfai_account_api_token.reader.value
}}

resource "cfai_ai_search_instance" "kb" {{
  id        = "kb"
  namespace = cfai_ai_search_namespace.docs.name
  type      = "r2"
  source    = "docs-bucket"
  token_id  = cfai_ai_search_service_token.managed.id
  chunk_size = 512
}}
"#,
        provider = provider_block(base)
    )
}

#[test]
fn generated_configuration_imports_every_type_as_is() {
    let Some(tf) = require_terraform() else {
        return;
    };
    if support::client().is_some_and(|c| c.opentofu && c.version < (1, 7, 0)) {
        support::skipped(
            "generated_configuration_imports_every_type_as_is: OpenTofu 1.6 writes list-nested attributes without their null members, then refuses its own file (\"attribute permission_group_ids is required\")",
        );
        return;
    }
    let emu = BackgroundEmulator::start();
    let base = emu.get().base_url.clone();
    let seeded = Workspace::new(tf.clone());
    seeded.write(&seed(&base));
    seeded.apply();
    let id = |address: &str, attr: &str| {
        seeded.resource(address)[attr]
            .as_str()
            .unwrap_or_else(|| panic!("{address}.{attr}"))
            .to_string()
    };
    let imports = [
        (
            "cfai_account_api_token.deploy",
            format!("{ACCOUNT}/{}", id("cfai_account_api_token.deploy", "id")),
        ),
        (
            "cfai_user_api_token.mine",
            id("cfai_user_api_token.mine", "id"),
        ),
        ("cfai_ai_search_namespace.docs", format!("{ACCOUNT}/docs")),
        (
            "cfai_ai_search_service_token.managed",
            format!(
                "{ACCOUNT}/{}",
                id("cfai_ai_search_service_token.managed", "id")
            ),
        ),
        (
            "cfai_ai_search_service_token.managed_by_user",
            format!(
                "{ACCOUNT}/{}",
                id("cfai_ai_search_service_token.managed_by_user", "id")
            ),
        ),
        (
            "cfai_ai_search_service_token.byo",
            format!("{ACCOUNT}/{}", id("cfai_ai_search_service_token.byo", "id")),
        ),
        ("cfai_ai_search_instance.kb", format!("{ACCOUNT}/docs/kb")),
    ];
    let blocks: String = imports
        .iter()
        .map(|(to, id)| format!("import {{\n  to = {to}\n  id = \"{id}\"\n}}\n"))
        .collect();

    // A workspace that has only the import blocks.
    let ws = Workspace::new(tf);
    ws.write(&format!("{}\n{blocks}", provider_block(&base)));
    let out = ws.ok(&["plan", "-no-color", "-generate-config-out=generated.tf"]);
    assert!(out.contains("7 to import"), "{out}");
    let generated_path = ws.work_dir().join("generated.tf");
    let generated = std::fs::read_to_string(&generated_path).unwrap();
    assert!(
        generated.contains("\"Workers R2 Storage Read\""),
        "permission groups by name:\n{generated}"
    );
    ws.ok(&["validate", "-no-color"]);
    let (code, plan) = ws.plan_code();
    assert_eq!(code, 2, "{plan}");
    assert!(
        plan.contains("7 to import, 0 to add, 0 to change, 0 to destroy"),
        "the generated file plans as imports only:\n{plan}\n{generated}"
    );
    let before = emu.writes();
    ws.apply();
    assert_eq!(emu.writes(), before, "importing wrote to the API");
    ws.assert_plan_empty();
    assert_eq!(
        ws.resource("cfai_ai_search_service_token.managed_by_user")["token_owner"],
        "user",
        "the user-owned minted token stays managed"
    );
    assert_eq!(
        ws.resource("cfai_ai_search_service_token.managed")["cf_api_id"],
        seeded.resource("cfai_ai_search_service_token.managed")["cf_api_id"],
    );

    // The bring-your-own registration has no key in the file: fine until a
    // change has to send it, and then the plan names what to add.
    let renamed = generated.replacen("\"byo\"\n", "\"byo-renamed\"\n", 1);
    assert_ne!(
        renamed, generated,
        "the byo registration's name:\n{generated}"
    );
    std::fs::write(&generated_path, &renamed).unwrap();
    let out = ws.fails(&["plan", "-no-color"]);
    assert!(
        out.contains("Missing token value") && out.contains("cf_api_key_wo"),
        "{out}"
    );
    assert_eq!(
        out.matches("Error: ").count(),
        1,
        "one problem, one message:\n{out}"
    );
    let key = seeded.resource("cfai_account_api_token.reader")["value"]
        .as_str()
        .unwrap()
        .to_string();
    let byo_start = renamed.find("\"byo-renamed\"").unwrap();
    let key_line = renamed[..byo_start]
        .rfind("cf_api_key ")
        .filter(|at| renamed[*at..byo_start].find('}').is_none())
        .expect("cf_api_key in the byo block");
    let line_end = key_line + renamed[key_line..].find('\n').unwrap();
    let with_key = format!(
        "{}cf_api_key = \"{key}\"{}",
        &renamed[..key_line],
        &renamed[line_end..]
    );
    std::fs::write(&generated_path, with_key).unwrap();
    ws.apply();
    ws.assert_plan_empty();
    let names: Vec<String> = emu.get().dump()["ai_tokens"]
        .as_object()
        .map(|m| {
            m.values()
                .filter_map(|t| t["name"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    assert!(names.contains(&"byo-renamed".to_string()), "{names:?}");
}
