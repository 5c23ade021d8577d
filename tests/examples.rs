//! Every example directory runs in place: `terraform fmt -check`,
//! `terraform validate`, then apply against the emulator, an empty plan,
//! and destroy, leaving nothing behind.

mod support;

use std::path::{Path, PathBuf};

use support::{require_terraform, BackgroundEmulator, Workspace, ACCOUNT, API_TOKEN};

fn example_dirs(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut has_tf = false;
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            example_dirs(&path, out);
        } else if path.extension().is_some_and(|e| e == "tf") {
            has_tf = true;
        }
    }
    if has_tf {
        out.push(dir.to_path_buf());
    }
}

/// `examples/<kind>` and its `expected` example directories, in order.
fn examples_of(kind: &str, expected: usize) -> (PathBuf, Vec<PathBuf>) {
    let examples = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("examples")
        .join(kind);
    let mut dirs = Vec::new();
    example_dirs(&examples, &mut dirs);
    dirs.sort();
    assert_eq!(dirs.len(), expected, "{dirs:?}");
    (examples, dirs)
}

fn copy_dir(from: &Path, to: &Path) {
    for entry in std::fs::read_dir(from).unwrap() {
        let path = entry.unwrap().path();
        if path.is_file() {
            std::fs::copy(&path, to.join(path.file_name().unwrap())).unwrap();
        }
    }
}

#[test]
fn examples_are_formatted() {
    let Some(tf) = require_terraform() else {
        return;
    };
    let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
    let out = std::process::Command::new(tf)
        .args(["fmt", "-check", "-recursive", "-diff"])
        .arg(&examples)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "terraform fmt -check failed (run terraform fmt -recursive examples):\n{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

#[test]
fn every_example_directory_validates_applies_and_destroys_in_place() {
    let Some(tf) = require_terraform() else {
        return;
    };
    let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
    let mut dirs = Vec::new();
    example_dirs(&examples, &mut dirs);
    // List resources are queried, actions invoked (below), with
    // Terraform 1.14.
    dirs.retain(|d| {
        !d.starts_with(examples.join("list-resources")) && !d.starts_with(examples.join("actions"))
    });
    dirs.sort();
    assert!(dirs.len() >= 15, "{dirs:?}");
    for dir in dirs {
        let name = dir.strip_prefix(&examples).unwrap().display().to_string();
        let emu = BackgroundEmulator::start();
        let client = support::fast_client(&emu.get().base_url, 0);
        if name == "data-sources/cfai_ai_search_instance" {
            // The instance the data source reads.
            let body =
                serde_json::json!({"id": "docs-search", "type": "r2", "source": "docs-bucket"});
            tokio::runtime::Runtime::new().unwrap().block_on(async {
                client
                    .create_instance(ACCOUNT, None, body.as_object().unwrap())
                    .await
                    .unwrap()
            });
        }
        let mut ws = Workspace::new(tf.clone());
        // As a user would: credentials and account from the environment.
        ws.env("CLOUDFLARE_API_TOKEN", API_TOKEN)
            .env("CLOUDFLARE_ACCOUNT_ID", ACCOUNT)
            .env("CLOUDFLARE_BASE_URL", &emu.get().base_url)
            .env("TF_VAR_account_id", ACCOUNT);
        copy_dir(&dir, &ws.work_dir());
        let validated = ws.run(&["validate", "-no-color"]);
        assert!(
            validated.ok,
            "{name}: terraform validate:\n{}",
            validated.all()
        );
        let applied = ws.run(&["apply", "-auto-approve", "-no-color"]);
        assert!(applied.ok, "{name}: apply:\n{}", applied.all());
        ws.assert_plan_empty();
        let destroyed = ws.run(&["destroy", "-auto-approve", "-no-color"]);
        assert!(destroyed.ok, "{name}: destroy:\n{}", destroyed.all());
        if name == "seed-flow" {
            // The guide's flow mints user tokens only.
            assert_eq!(
                emu.get().count("POST /accounts/{account_id}/tokens"),
                0,
                "{name}: an account token was created"
            );
            assert_eq!(emu.get().count("POST /user/tokens"), 2, "{name}");
        }
        let dump = emu.get().dump();
        assert_eq!(
            dump["tokens"].as_object().unwrap().len(),
            0,
            "{name}: tokens left"
        );
        assert_eq!(
            dump["ai_tokens"].as_object().unwrap().len(),
            0,
            "{name}: service tokens left"
        );
        eprintln!("example {name}: applied, planned empty, destroyed");
    }
}

/// Every list-resource example runs in place with `terraform query`
/// (Terraform 1.14 and later) against an emulator holding one object of
/// each type, and finds it.
#[test]
fn every_list_resource_example_queries_in_place() {
    let Some(tf) = require_terraform() else {
        return;
    };
    if !support::client_supports(
        "every_list_resource_example_queries_in_place",
        support::Feature::ListResources,
    ) {
        return;
    }
    let (examples, dirs) = examples_of("list-resources", 5);
    let emu = BackgroundEmulator::start();
    let mut seed = Workspace::new(tf.clone());
    seed.env("CLOUDFLARE_API_TOKEN", API_TOKEN)
        .env("CLOUDFLARE_ACCOUNT_ID", ACCOUNT)
        .env("CLOUDFLARE_BASE_URL", &emu.get().base_url);
    seed.write(&format!(
        r#"{header}
provider "cfai" {{}}

resource "cfai_account_api_token" "deploy" {{
  name     = "deploy-ci"
  policies = [{{ permission_groups = ["Workers R2 Storage Read"], resources = {{ "com.cloudflare.api.account.{ACCOUNT}" = "*" }} }}]
}}

resource "cfai_user_api_token" "mine" {{
  name     = "mine"
  policies = [{{ permission_groups = ["Workers R2 Storage Read"], resources = {{ "com.cloudflare.api.account.{ACCOUNT}" = "*" }} }}]
}}

resource "cfai_ai_search_namespace" "docs" {{
  name = "docs"
}}

resource "cfai_ai_search_service_token" "svc" {{
  name = "search"
}}

resource "cfai_ai_search_instance" "kb" {{
  id        = "kb"
  namespace = cfai_ai_search_namespace.docs.name
  type      = "r2"
  source    = "docs-bucket"
  token_id  = cfai_ai_search_service_token.svc.id
}}
"#,
        header = support::PROVIDER_HEADER
    ));
    seed.apply();
    for dir in dirs {
        let name = dir.strip_prefix(&examples).unwrap().display().to_string();
        let mut ws = Workspace::new(tf.clone());
        ws.env("CLOUDFLARE_API_TOKEN", API_TOKEN)
            .env("CLOUDFLARE_ACCOUNT_ID", ACCOUNT)
            .env("CLOUDFLARE_BASE_URL", &emu.get().base_url)
            .env("TF_VAR_account_id", ACCOUNT);
        copy_dir(&dir, &ws.work_dir());
        std::fs::write(ws.work_dir().join("provider.tf"), "provider \"cfai\" {}\n").unwrap();
        let out = ws.ok(&["query", "-no-color"]);
        let found = out.lines().filter(|l| l.starts_with("list.")).count();
        assert!(found >= 1, "{name}: nothing found:\n{out}");
        eprintln!("example list-resources/{name}: {found} found");
    }
}

/// Every action example applies in place (Terraform 1.14 and later), its
/// action runs by `-invoke`, the plan after is empty, and destroy leaves
/// nothing behind.
#[test]
fn every_action_example_applies_and_invokes_in_place() {
    let Some(tf) = require_terraform() else {
        return;
    };
    if !support::client_supports(
        "every_action_example_applies_and_invokes_in_place",
        support::Feature::Actions,
    ) {
        return;
    }
    let (_, dirs) = examples_of("actions", 2);
    for dir in dirs {
        let name = dir.file_name().unwrap().to_string_lossy().to_string();
        let emu = BackgroundEmulator::start();
        emu.get().set_ai_search(cfai::emulator::AiSearchConfig {
            sync_cooldown_ms: 0,
            ..Default::default()
        });
        let mut ws = Workspace::new(tf.clone());
        ws.env("CLOUDFLARE_API_TOKEN", API_TOKEN)
            .env("CLOUDFLARE_ACCOUNT_ID", ACCOUNT)
            .env("CLOUDFLARE_BASE_URL", &emu.get().base_url);
        copy_dir(&dir, &ws.work_dir());
        std::fs::write(ws.work_dir().join("provider.tf"), "provider \"cfai\" {}\n").unwrap();
        ws.ok(&["validate", "-no-color"]);
        ws.apply();
        let action = std::fs::read_to_string(dir.join("action.tf"))
            .unwrap()
            .lines()
            .find_map(|l| {
                let rest = l.strip_prefix("action \"")?;
                let (kind, rest) = rest.split_once("\" \"")?;
                Some(format!("action.{kind}.{}", rest.split('"').next()?))
            })
            .expect("an action block");
        let invoked = ws.ok(&[
            "apply",
            "-auto-approve",
            "-no-color",
            &format!("-invoke={action}"),
        ]);
        assert!(invoked.contains("Actions: 1 invoked"), "{name}: {invoked}");
        ws.assert_plan_empty();
        ws.ok(&["destroy", "-auto-approve", "-no-color"]);
        let dump = emu.get().dump();
        assert_eq!(
            dump["ai_tokens"].as_object().unwrap().len(),
            0,
            "{name}: service tokens left"
        );
        eprintln!("example actions/{name}: applied, invoked, planned empty, destroyed");
    }
}
