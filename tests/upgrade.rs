//! On demand: state written by an earlier build of the provider (a previous
//! release, or the commit before a refactoring) plans empty under this one.
//!
//! `CFAI_PREVIOUS_PROVIDER=/path/to/old/terraform-provider-cfai \
//!   cargo test --test upgrade -- --ignored`
//!
//! Release 0.1.0's own state is kept as a fixture (`tests/fixtures/
//! upgrade-0.1.0/`: the emulator's world and the Terraform state 0.1.0
//! wrote for [`configuration`], named `terraform-state.json` so that the
//! repository's ignore rules for state files leave it in), so that every run checks the upgrade from
//! it without building 0.1.0. `write_the_release_fixture` (ignored) wrote
//! it, with `CFAI_PREVIOUS_PROVIDER` naming the 0.1.0 binary.
//!
//! Applies every managed type and reads every data source with the earlier
//! binary, then plans with this one: no change, no API write; a refresh-only
//! apply and a plan after it are empty too.

mod support;

use std::path::PathBuf;

use support::{provider_block, require_terraform, BackgroundEmulator, Workspace, ACCOUNT};

/// One object of every managed type and every data source.
fn configuration(base: &str) -> String {
    format!(
        r#"{provider}
resource "cfai_account_api_token" "app" {{
  name = "app"
  policies = [{{
    permission_groups = ["Workers R2 Storage Write"]
    resources = {{ "com.cloudflare.api.account.{ACCOUNT}" = "*" }}
  }}]
  condition = {{ request_ip = {{ in = ["10.0.0.1"] }} }}
  expires_on = "2099-01-01T00:00:00Z"
}}
resource "cfai_ai_search_namespace" "docs" {{
  name        = "docs"
  description = "upgrade"
}}
resource "cfai_ai_search_service_token" "svc" {{
  name = "svc"
}}
resource "cfai_ai_search_instance" "kb" {{
  id              = "kb"
  namespace       = cfai_ai_search_namespace.docs.name
  type            = "r2"
  source          = "docs-bucket"
  token_id        = cfai_ai_search_service_token.svc.id
  max_num_results = 20
  paused          = true
  index_method    = {{ keyword = true, vector = true }}
}}
data "cfai_permission_groups" "r2" {{
  name = "R2"
}}
data "cfai_ai_search_service_tokens" "all" {{
  depends_on = [cfai_ai_search_service_token.svc]
}}
data "cfai_ai_search_instance" "kb" {{
  id        = cfai_ai_search_instance.kb.id
  namespace = cfai_ai_search_namespace.docs.name
}}
"#,
        provider = provider_block(base)
    )
}

#[test]
#[ignore = "needs an earlier provider binary: CFAI_PREVIOUS_PROVIDER"]
fn state_from_an_earlier_build_plans_empty() {
    let previous = PathBuf::from(
        std::env::var("CFAI_PREVIOUS_PROVIDER")
            .expect("CFAI_PREVIOUS_PROVIDER: the earlier terraform-provider-cfai binary"),
    );
    let Some(tf) = require_terraform() else {
        panic!("this test needs terraform");
    };
    let old_dir = tempfile::tempdir().unwrap();
    std::fs::copy(&previous, old_dir.path().join("terraform-provider-cfai")).unwrap();
    let emu = BackgroundEmulator::start();
    let ws = Workspace::new(tf);
    let base = emu.get().base_url.clone();
    ws.write(&configuration(&base));
    ws.use_provider_dir(old_dir.path());
    ws.apply();
    ws.assert_plan_empty();
    // This build, on the earlier build's state.
    ws.use_provider_dir(
        std::path::Path::new(support::PROVIDER_BIN)
            .parent()
            .unwrap(),
    );
    let before = emu.writes();
    ws.assert_plan_empty();
    ws.ok(&["apply", "-refresh-only", "-auto-approve", "-no-color"]);
    ws.assert_plan_empty();
    assert_eq!(
        emu.writes(),
        before,
        "planning and refreshing wrote nothing"
    );
    ws.ok(&["destroy", "-auto-approve", "-no-color"]);
}

const FIXTURE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/upgrade-0.1.0");

/// Writes the fixture: `configuration` applied by the binary
/// `CFAI_PREVIOUS_PROVIDER` (0.1.0) against an emulator keeping its world
/// in the fixture directory.
#[test]
#[ignore = "writes tests/fixtures/upgrade-0.1.0 with CFAI_PREVIOUS_PROVIDER (the 0.1.0 binary)"]
fn write_the_release_fixture() {
    let previous = PathBuf::from(
        std::env::var("CFAI_PREVIOUS_PROVIDER")
            .expect("CFAI_PREVIOUS_PROVIDER: the 0.1.0 terraform-provider-cfai binary"),
    );
    let tf = require_terraform().expect("terraform");
    let old_dir = tempfile::tempdir().unwrap();
    std::fs::copy(&previous, old_dir.path().join("terraform-provider-cfai")).unwrap();
    std::fs::create_dir_all(FIXTURE).unwrap();
    let world = PathBuf::from(FIXTURE).join("world.json");
    let _ = std::fs::remove_file(&world);
    let emu = BackgroundEmulator::start_with(Some(world));
    let ws = Workspace::new(tf);
    ws.use_provider_dir(old_dir.path());
    ws.write(&configuration(&emu.get().base_url));
    ws.apply();
    ws.assert_plan_empty();
    std::fs::copy(
        ws.work_dir().join("terraform.tfstate"),
        PathBuf::from(FIXTURE).join("terraform-state.json"),
    )
    .unwrap();
}

/// The state release 0.1.0 wrote, and the objects it made, plan empty
/// under this build: no change, no API write; refresh-only changes nothing.
#[test]
fn state_from_release_0_1_0_plans_empty() {
    let Some(tf) = require_terraform() else {
        return;
    };
    let scratch = tempfile::tempdir().unwrap();
    let world = scratch.path().join("world.json");
    std::fs::copy(PathBuf::from(FIXTURE).join("world.json"), &world).unwrap();
    let emu = BackgroundEmulator::start_with(Some(world));
    let ws = Workspace::new(tf);
    ws.write(&configuration(&emu.get().base_url));
    std::fs::copy(
        PathBuf::from(FIXTURE).join("terraform-state.json"),
        ws.work_dir().join("terraform.tfstate"),
    )
    .unwrap();
    let state: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(ws.work_dir().join("terraform.tfstate")).unwrap(),
    )
    .unwrap();
    assert_eq!(
        state["resources"].as_array().map(Vec::len),
        Some(7),
        "the fixture's state"
    );
    let before = emu.writes();
    ws.assert_plan_empty();
    ws.ok(&["apply", "-refresh-only", "-auto-approve", "-no-color"]);
    ws.assert_plan_empty();
    assert_eq!(
        emu.writes(),
        before,
        "planning and refreshing wrote nothing"
    );
    ws.ok(&["destroy", "-auto-approve", "-no-color"]);
}
