//! Acceptance tests for `cfai_account_api_token` and `cfai_permission_groups`:
//! the real terraform CLI, the real provider binary (dev_overrides), and the
//! emulator started here, in the style of terraform-provider-random's steps.

mod support;

use cfai::emulator::{Fault, FaultConfig};
use serde_json::Value;
use sha2::{Digest, Sha256};
use support::{provider_block, require_terraform, BackgroundEmulator, Workspace, ACCOUNT};

const R2_WRITE: &str = "bf7481a1826f439697cb59a20b22293e";
const AI_INDEX: &str = "9e9b428a0bcd46fd80e580b46a69963c";
const LOGS_READ_ACCOUNT: &str = "6a315a56f18441e59ed03352369ae956";

fn setup() -> Option<(BackgroundEmulator, Workspace)> {
    let tf = require_terraform()?;
    let emu = BackgroundEmulator::start();
    Some((emu, Workspace::new(tf)))
}

fn sha256_hex(s: &str) -> String {
    hex::encode(Sha256::digest(s.as_bytes()))
}

fn token_config(base_url: &str, body: &str) -> String {
    format!(
        "{}\nresource \"cfai_account_api_token\" \"t\" {{\n{body}\n}}\n",
        provider_block(base_url)
    )
}

const POLICIES: &str = r#"
  policies = [
    {
      permission_groups = ["Workers R2 Storage Write", "9e9b428a0bcd46fd80e580b46a69963c"]
      resources = { "com.cloudflare.api.account.0123456789abcdef0123456789abcdef" = "*" }
    },
    {
      effect            = "deny"
      permission_groups = ["Logs Read"]
      resources = {
        "com.cloudflare.api.account.0123456789abcdef0123456789abcdef" = "{ \"com.cloudflare.edge.r2.bucket.*\": \"*\",   \"com.cloudflare.api.account.fedcba9876543210fedcba9876543210\": \"*\" }"
      }
    },
  ]"#;

const POLICIES_REORDERED: &str = r#"
  policies = [
    {
      effect            = "deny"
      permission_groups = ["Logs Read"]
      resources = {
        "com.cloudflare.api.account.0123456789abcdef0123456789abcdef" = "{ \"com.cloudflare.edge.r2.bucket.*\": \"*\",   \"com.cloudflare.api.account.fedcba9876543210fedcba9876543210\": \"*\" }"
      }
    },
    {
      permission_groups = ["Workers R2 Storage Write", "9e9b428a0bcd46fd80e580b46a69963c"]
      resources = { "com.cloudflare.api.account.0123456789abcdef0123456789abcdef" = "*" }
    },
  ]"#;

fn puts(emu: &BackgroundEmulator) -> u64 {
    emu.get()
        .count("PUT /accounts/{account_id}/tokens/{token_id}")
}

#[test]
fn create_plan_empty_update_roll_import_destroy() {
    let Some((emu, ws)) = setup() else { return };
    let base = emu.get().base_url.clone();
    let v1 = format!(
        "  name = \"ci-app\"\n{POLICIES}\n  condition = {{ request_ip = {{ in = [\"10.0.0.1\", \"192.0.2.0/24\"] }} }}\n  expires_on = \"2099-01-01T01:00:00+01:00\"\n"
    );
    ws.write(&format!(
        "{}\noutput \"access_key_id\" {{ value = cfai_account_api_token.t.access_key_id }}\noutput \"secret_access_key\" {{\n  value     = cfai_account_api_token.t.secret_access_key\n  sensitive = true\n}}\n",
        token_config(&base, &v1)
    ));

    // The plan knows the resolved ids before anything exists.
    let plan_out = ws.run(&["plan", "-no-color", "-out=tfplan"]);
    assert!(plan_out.ok, "{}", plan_out.all());
    let planned = ws.json(&["show", "-json", "tfplan"]);
    let after = &planned["resource_changes"][0]["change"]["after"];
    assert_eq!(
        after["policies"][0]["permission_group_ids"],
        serde_json::json!([AI_INDEX, R2_WRITE])
    );
    assert_eq!(
        after["policies"][1]["permission_group_ids"],
        serde_json::json!([LOGS_READ_ACCOUNT])
    );
    ws.ok(&["apply", "-auto-approve", "-no-color", "tfplan"]);

    let t = ws.resource("cfai_account_api_token.t");
    let id = t["id"].as_str().unwrap().to_string();
    let value = t["value"].as_str().unwrap().to_string();
    assert_eq!(
        emu.get().token_value(&id).as_deref(),
        Some(value.as_str()),
        "value is the token's secret"
    );
    assert_eq!(t["secret_access_key"], sha256_hex(&value));
    assert_eq!(t["access_key_id"], id);
    assert_eq!(
        t["s3_endpoint"],
        format!("https://{ACCOUNT}.r2.cloudflarestorage.com")
    );
    if !support::sparse_answers() {
        assert_eq!(t["status"], "active");
    }
    // `terraform output -raw` hands the pair to an S3 client as is.
    assert_eq!(ws.ok(&["output", "-raw", "access_key_id"]), id);
    assert_eq!(
        ws.ok(&["output", "-raw", "secret_access_key"]),
        sha256_hex(&value)
    );
    let schema = ws.json(&["providers", "schema", "-json"]);
    let attrs = &support::cfai_schema(&schema)["resource_schemas"]["cfai_account_api_token"]
        ["block"]["attributes"];
    assert_eq!(attrs["value"]["sensitive"], true);
    assert_eq!(attrs["secret_access_key"]["sensitive"], true);

    // The API answered in another order, /32, UTC, re-serialised JSON: no diff.
    ws.assert_plan_empty();

    // Reordering policies: an update in the plan, but no API call.
    let puts_before = puts(&emu);
    ws.write(&token_config(
        &base,
        &v1.replace(POLICIES, POLICIES_REORDERED),
    ));
    assert_eq!(ws.plan_code().0, 2);
    ws.apply();
    assert_eq!(puts(&emu), puts_before, "a reorder must not call the API");
    ws.assert_plan_empty();

    // In-place update of name, condition, status, expiry: same id and value.
    let v2 = format!(
        "  name = \"ci-app-2\"\n{}\n  condition = {{ request_ip = {{ in = [\"10.0.0.2\"], not_in = [\"10.0.0.3/32\"] }} }}\n  not_before = \"2026-01-01T00:00:00Z\"\n  expires_on = \"2098-01-01T00:00:00Z\"\n  status = \"disabled\"\n",
        // One group fewer in the allow policy: a real policy change.
        POLICIES_REORDERED.replace(", \"9e9b428a0bcd46fd80e580b46a69963c\"", "")
    );
    ws.write(&token_config(&base, &v2));
    ws.apply();
    assert_eq!(puts(&emu), puts_before + 1, "one PUT of the whole token");
    let t2 = ws.resource("cfai_account_api_token.t");
    assert_eq!(t2["id"], id);
    assert_eq!(t2["value"], value.as_str());
    assert_eq!(t2["secret_access_key"], sha256_hex(&value));
    assert_eq!(t2["status"], "disabled");
    let dump = emu.get().dump();
    assert_eq!(dump["tokens"][&id]["token"]["name"], "ci-app-2");
    assert_eq!(
        dump["tokens"][&id]["token"]["not_before"],
        "2026-01-01T00:00:00Z"
    );
    let groups: Vec<&Value> = dump["tokens"][&id]["token"]["policies"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|p| p["permission_groups"].as_array().unwrap())
        .collect();
    assert_eq!(groups.len(), 2, "the AI Search group is gone: {groups:?}");
    assert_eq!(
        t2["policies"][1]["permission_group_ids"],
        serde_json::json!([R2_WRITE])
    );
    assert_eq!(dump["tokens"][&id]["token"]["status"], "disabled");
    ws.assert_plan_empty();

    // Import: by account/id, and the next plan is empty.
    ws.ok(&["state", "rm", "cfai_account_api_token.t"]);
    let import = ws.run(&[
        "import",
        "-no-color",
        "cfai_account_api_token.t",
        &format!("{ACCOUNT}/{id}"),
    ]);
    assert!(import.ok, "{}", import.all());
    assert!(
        import.all().contains("rotation_triggers"),
        "the import warning points at rotation_triggers:\n{}",
        import.all()
    );
    let imported = ws.resource("cfai_account_api_token.t");
    assert!(imported["value"].is_null() && imported["secret_access_key"].is_null());
    if !support::sparse_answers() {
        assert_eq!(imported["name"], "ci-app-2");
    }
    ws.assert_import_converges();
    // And by bare token id, with the provider's account.
    ws.ok(&["state", "rm", "cfai_account_api_token.t"]);
    ws.ok(&["import", "-no-color", "cfai_account_api_token.t", &id]);
    ws.assert_import_converges();

    // rotation_triggers rolls: same id, a new value and secret.
    ws.write(&token_config(
        &base,
        &format!("{v2}\n  rotation_triggers = {{ rotated = \"1\" }}\n"),
    ));
    let plan = ws.run(&["plan", "-no-color", "-out=roll.tfplan"]);
    assert!(plan.ok, "{}", plan.all());
    let change = &ws.json(&["show", "-json", "roll.tfplan"])["resource_changes"][0]["change"];
    assert_eq!(
        change["actions"],
        serde_json::json!(["update"]),
        "a roll is in place"
    );
    assert_eq!(
        change["after_unknown"]["value"], true,
        "the new value is unknown in the plan"
    );
    assert_eq!(change["after_unknown"]["secret_access_key"], true);
    assert!(
        change["after_unknown"].get("id").is_none() && change["after"]["id"] == id.as_str(),
        "the id stays"
    );
    ws.ok(&["apply", "-no-color", "roll.tfplan"]);
    let t3 = ws.resource("cfai_account_api_token.t");
    let new_value = t3["value"].as_str().unwrap();
    assert_eq!(t3["id"], id);
    assert_ne!(new_value, value);
    assert_eq!(emu.get().token_value(&id).as_deref(), Some(new_value));
    assert_eq!(t3["secret_access_key"], sha256_hex(new_value));
    ws.assert_plan_empty();

    // Destroy removes it.
    ws.ok(&["destroy", "-auto-approve", "-no-color"]);
    assert_eq!(emu.get().dump()["tokens"].as_object().unwrap().len(), 0);

    // A token already gone when Terraform deletes it (404) is a success.
    ws.apply();
    let id = ws.resource("cfai_account_api_token.t")["id"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(emu.get().delete_token(&id));
    ws.ok(&["destroy", "-auto-approve", "-no-color", "-refresh=false"]);
    assert!(ws.state_addresses().is_empty());
    assert_eq!(
        emu.get()
            .count("DELETE /accounts/{account_id}/tokens/{token_id}"),
        2
    );
}

#[test]
fn missing_credentials_fail_at_plan_only_when_needed() {
    let Some(tf) = require_terraform() else {
        return;
    };
    let ws = Workspace::new(tf);
    ws.write(&format!(
        "{}\nprovider \"cfai\" {{\n  account_id = \"{ACCOUNT}\"\n}}\nresource \"cfai_account_api_token\" \"t\" {{\n  name = \"x\"\n  policies = [{{ permission_groups = [\"Workers R2 Storage Read\"], resources = {{ \"com.cloudflare.api.account.{ACCOUNT}\" = \"*\" }} }}]\n}}\n",
        support::PROVIDER_HEADER
    ));
    let out = ws.fails(&["plan", "-no-color"]);
    assert!(
        out.contains("Missing Cloudflare credentials") && out.contains("CLOUDFLARE_API_TOKEN"),
        "{out}"
    );
}

#[test]
fn token_values_never_reach_the_logs() {
    let Some((emu, ws)) = setup() else { return };
    ws.write(&token_config(
        &emu.get().base_url,
        &format!("  name = \"logged\"\n{POLICIES}\n"),
    ));
    let run = ws.run_with(
        &["apply", "-auto-approve", "-no-color"],
        None,
        &[("TF_LOG", "trace")],
    );
    assert!(run.ok, "{}", run.all());
    let t = ws.resource("cfai_account_api_token.t");
    let value = t["value"].as_str().unwrap();
    let secret = t["secret_access_key"].as_str().unwrap();
    let ours: Vec<&str> = run
        .stderr
        .lines()
        .filter(|l| l.contains("provider.terraform-provider-cfai"))
        .collect();
    assert!(
        ours.iter()
            .any(|l| l.contains("Cloudflare response") && l.contains("<redacted>")),
        "TRACE shows responses, masked"
    );
    assert!(
        !ours.iter().any(|l| l.contains(value) || l.contains(secret)),
        "a secret reached a provider log line"
    );
    assert!(
        !ours.iter().any(|l| l.contains(support::API_TOKEN)),
        "the API token reached a provider log line"
    );
}

#[test]
fn drift_is_planned_not_hidden() {
    if support::skipped_under_sparse_answers(
        "drift_is_planned_not_hidden",
        "the changes it makes outside Terraform are in properties those answers leave out",
    ) {
        return;
    }
    let Some((emu, ws)) = setup() else { return };
    let base = emu.get().base_url.clone();
    ws.write(&token_config(
        &base,
        &format!("  name = \"drift\"\n{POLICIES}\n"),
    ));
    ws.apply();
    let id = ws.resource("cfai_account_api_token.t")["id"]
        .as_str()
        .unwrap()
        .to_string();

    // Renamed outside Terraform: an in-place update back.
    assert!(emu.get().rename_token(&id, "someone-else"));
    let (code, text) = ws.plan_code();
    assert_eq!(code, 2, "{text}");
    assert!(
        text.contains("~ name") && text.contains("someone-else"),
        "{text}"
    );
    assert!(text.contains("1 to change"), "{text}");
    ws.apply();
    assert_eq!(emu.get().dump()["tokens"][&id]["token"]["name"], "drift");

    // Expired outside Terraform (its expiry moved into the past): the
    // refresh shows it; the configuration has no expiry, so the plan
    // restores that in place, which revives the token (never replaced).
    assert!(emu.get().expire_token(&id));
    ws.ok(&["apply", "-refresh-only", "-auto-approve", "-no-color"]);
    assert_eq!(ws.resource("cfai_account_api_token.t")["status"], "expired");
    let (code, text) = ws.plan_code();
    assert_eq!(code, 2, "{text}");
    assert!(
        text.contains("has expired; this apply revives it") && text.contains("1 to change"),
        "a warning is expected:\n{text}"
    );
    ws.apply();
    assert_eq!(ws.resource("cfai_account_api_token.t")["status"], "active");
    assert_eq!(ws.resource("cfai_account_api_token.t")["id"], id.as_str());
    ws.assert_plan_empty();

    // Deleted outside Terraform: planned for creation.
    assert!(emu.get().delete_token(&id));
    let (code, text) = ws.plan_code();
    assert_eq!(code, 2, "{text}");
    assert!(text.contains("will be created"), "{text}");
    ws.apply();
    assert_ne!(ws.resource("cfai_account_api_token.t")["id"], id.as_str());
    ws.assert_plan_empty();
}

#[test]
fn plan_time_errors_name_the_attribute() {
    let Some((emu, ws)) = setup() else { return };
    let base = emu.get().base_url.clone();
    let acct = format!("com.cloudflare.api.account.{ACCOUNT}");
    let meant = format!("Did you mean \"{acct}\"");
    // (configuration, texts the diagnostic must contain, the source line it must point at)
    let cases = [
        (
            format!("  name = \"x\"\n  policies = [{{ permission_groups = [\"Workers R2 Storage Writ\"], resources = {{ \"{acct}\" = \"*\" }} }}]\n"),
            vec!["At policies[0].permission_groups", "Did you mean", "Workers R2 Storage Write (bf7481a1826f439697cb59a20b22293e"],
            "permission_groups = [\"Workers R2 Storage Writ\"]",
        ),
        (
            format!(
                "  name = \"x\"\n  policies = [{{ permission_groups = [\"Logs Read\"], resources = {{ \"{acct}\" = \"*\", \"com.cloudflare.api.account.zone.*\" = \"*\" }} }}]\n"
            ),
            vec!["At policies[0].permission_groups", "6a315a56f18441e59ed03352369ae956", "c4a30cd58c5d42619c86a3c36c441e2d", "com.cloudflare.api.account.zone"],
            "permission_groups = [\"Logs Read\"]",
        ),
        (
            format!("  name = \"x\"\n  policies = [{{ permission_groups = [\"{R2_WRITE}\"], resources = {{ \"{acct}\" = \"*\" }} }}]\n  condition = {{ request_ip = {{ in = [\"10.0.0.0/33\"] }} }}\n"),
            vec!["Invalid CIDR", "At condition.request_ip.in", "10.0.0.0/33"],
            "condition = {",
        ),
        (
            format!("  name = \"x\"\n  policies = [{{ permission_groups = [\"{R2_WRITE}\"], resources = {{ \"{acct}\" = \"*\" }} }}]\n  expires_on = \"next tuesday\"\n"),
            vec!["Invalid timestamp", "next tuesday"],
            "expires_on = \"next tuesday\"",
        ),
        // A new token born expired.
        (
            format!("  name = \"x\"\n  policies = [{{ permission_groups = [\"{R2_WRITE}\"], resources = {{ \"{acct}\" = \"*\" }} }}]\n  expires_on = \"2020-01-01T00:00:00Z\"\n"),
            vec!["Expiry in the past", "2020-01-01T00:00:00Z"],
            "expires_on = \"2020-01-01T00:00:00Z\"",
        ),
        // A misspelled resource key, and what was meant.
        (
            format!("  name = \"x\"\n  policies = [{{ permission_groups = [\"{R2_WRITE}\"], resources = {{ \"com.cloudflare.api.acount.{ACCOUNT}\" = \"*\" }} }}]\n"),
            vec!["Invalid resource key", &meant],
            "com.cloudflare.api.acount.",
        ),
        // An id that is not one.
        (
            format!("  name = \"x\"\n  policies = [{{ permission_groups = [\"{R2_WRITE}\"], resources = {{ \"com.cloudflare.edge.r2.bucket.{ACCOUNT}_mars_logs\" = \"*\" }} }}]\n"),
            vec!["Invalid resource key", "<account_id>_<jurisdiction>_<bucket>"],
            "_mars_logs",
        ),
        // An empty name: too short, said once.
        (
            format!("  name = \"\"\n  policies = [{{ permission_groups = [\"{R2_WRITE}\"], resources = {{ \"{acct}\" = \"*\" }} }}]\n"),
            vec!["Invalid length"],
            "name = \"\"",
        ),
    ];
    for (body, expected, line) in cases {
        ws.write(&token_config(&base, &body));
        let out = ws.run(&["plan", "-no-color", "-json"]);
        assert!(!out.ok, "plan should fail for:\n{body}");
        let errors: Vec<Value> = out
            .stdout
            .lines()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .filter(|v| v["type"] == "diagnostic" && v["diagnostic"]["severity"] == "error")
            .collect();
        assert_eq!(errors.len(), 1, "one error expected: {errors:#?}");
        let d = &errors[0]["diagnostic"];
        let text = format!(
            "{} {}",
            d["summary"],
            d["detail"].as_str().unwrap_or_default()
        );
        for needle in expected {
            assert!(text.contains(needle), "{needle:?} missing from:\n{text}");
        }
        let code = d["snippet"]["code"].as_str().unwrap_or_default();
        assert!(
            code.contains(line),
            "the error should point at {line:?}, not {code:?}"
        );
    }
    assert_eq!(
        emu.get().dump()["tokens"].as_object().unwrap().len(),
        0,
        "nothing was created"
    );
}

#[test]
fn names_are_fetched_once_per_provider_process() {
    let Some((emu, ws)) = setup() else { return };
    let base = emu.get().base_url.clone();
    let mut hcl = provider_block(&base);
    for i in 0..5 {
        hcl.push_str(&format!(
            "resource \"cfai_account_api_token\" \"t{i}\" {{\n  name = \"t{i}\"\n  policies = [{{ permission_groups = [\"Workers R2 Storage Read\"], resources = {{ \"com.cloudflare.api.account.{ACCOUNT}\" = \"*\" }} }}]\n}}\n"
        ));
    }
    hcl.push_str("data \"cfai_permission_groups\" \"all\" {}\n");
    ws.write(&hcl);
    let plan = ws.run(&["plan", "-no-color"]);
    assert!(plan.ok, "{}", plan.all());
    assert_eq!(
        emu.get()
            .count("GET /accounts/{account_id}/tokens/permission_groups"),
        1,
        "five resources and a data source in one plan: one fetch"
    );
}

#[test]
fn bucket_scoped_token_with_function_and_data_source() {
    let Some((emu, ws)) = setup() else { return };
    if !support::client_supports(
        "bucket_scoped_token_with_function_and_data_source",
        support::Feature::Functions,
    ) {
        return;
    }
    let base = emu.get().base_url.clone();
    ws.write(&format!(
        r#"{}
data "cfai_permission_groups" "bucket" {{
  scope = "com.cloudflare.edge.r2.bucket"
}}
resource "cfai_account_api_token" "bucket" {{
  name = "logs-writer"
  policies = [{{
    permission_groups = [data.cfai_permission_groups.bucket.ids["Workers R2 Storage Bucket Item Write"]]
    resources = {{ (provider::cfai::r2_bucket_resource("{ACCOUNT}", "logs", "eu")) = "*" }}
  }}]
}}
output "groups" {{ value = data.cfai_permission_groups.bucket.groups }}
"#,
        provider_block(&base)
    ));
    ws.apply();
    let token = ws.resource("cfai_account_api_token.bucket");
    let id = token["id"].as_str().unwrap();
    let stored = &emu.get().dump()["tokens"][id]["token"]["policies"][0];
    assert!(
        stored["resources"][format!("com.cloudflare.edge.r2.bucket.{ACCOUNT}_eu_logs")].is_string(),
        "{stored}"
    );
    assert_eq!(
        stored["permission_groups"][0]["id"],
        "2efd5506f9c8494dacb1fa10a3e7d5b6"
    );
    let groups = ws.json(&["output", "-json", "groups"]);
    assert_eq!(groups.as_array().unwrap().len(), 2, "{groups}");
    assert!(groups
        .as_array()
        .unwrap()
        .iter()
        .all(|g| g["scopes"][0] == "com.cloudflare.edge.r2.bucket"));
    ws.assert_plan_empty();
}

#[test]
fn retries_and_interrupted_applies_keep_state_and_api_in_agreement() {
    if support::skipped_under_sparse_answers(
        "retries_and_interrupted_applies_keep_state_and_api_in_agreement",
        "recovering a token whose creation answer was lost needs the listing's name, policies and issued_on, which those answers leave out",
    ) {
        return;
    }
    let Some((emu, ws)) = setup() else { return };
    let base = emu.get().base_url.clone();
    let mut hcl = provider_block(&base);
    for i in 0..3 {
        hcl.push_str(&format!(
            "resource \"cfai_account_api_token\" \"t{i}\" {{\n  name = \"t{i}\"\n  policies = [{{ permission_groups = [\"Workers R2 Storage Read\"], resources = {{ \"com.cloudflare.api.account.{ACCOUNT}\" = \"*\" }} }}]\n}}\n"
        ));
    }
    ws.write(&hcl);

    // 429 and 503 on the creates: absorbed by retries.
    emu.get().set_faults(FaultConfig {
        method: "POST".into(),
        script: [
            Fault::TooManyRequests { retry_after: 1 },
            Fault::Status { status: 503 },
        ]
        .into(),
        ..Default::default()
    });
    ws.apply();
    assert_eq!(emu.get().faults_injected(), 2);
    assert_eq!(ws.state_addresses().len(), 3);
    assert_eq!(emu.get().dump()["tokens"].as_object().unwrap().len(), 3);
    ws.assert_plan_empty();
    ws.ok(&["destroy", "-auto-approve", "-no-color"]);

    // One create keeps failing: the apply fails, but what exists is in the state.
    emu.get().set_faults(FaultConfig {
        method: "POST".into(),
        script: std::iter::repeat_n(Fault::Status { status: 503 }, 5).collect(),
        ..Default::default()
    });
    let run = ws.run(&["apply", "-auto-approve", "-no-color", "-parallelism=1"]);
    assert!(!run.ok, "one resource should have failed");
    let text = run.all().split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        text.contains("HTTP 503") && text.contains("after 5 attempts"),
        "{text}"
    );
    let in_state = ws.state_addresses().len();
    assert_eq!(in_state, 2);
    assert_eq!(
        emu.get().dump()["tokens"].as_object().unwrap().len(),
        in_state,
        "no orphan token"
    );
    ws.apply();
    assert_eq!(emu.get().dump()["tokens"].as_object().unwrap().len(), 3);
    ws.assert_plan_empty();
    ws.ok(&["destroy", "-auto-approve", "-no-color"]);

    // The answer to a create is lost after the token was made: it is found
    // again (and rolled for its value), not duplicated.
    emu.get().set_faults(FaultConfig {
        method: "POST".into(),
        script: [Fault::DropAfterCommit].into(),
        ..Default::default()
    });
    let out = ws.apply();
    assert!(out.contains("Recovered a token"), "{out}");
    let tokens = emu.get().dump()["tokens"].as_object().unwrap().clone();
    assert_eq!(tokens.len(), 3, "no duplicate token");
    for address in ws.state_addresses() {
        let t = ws.resource(&address);
        let id = t["id"].as_str().unwrap();
        assert_eq!(
            emu.get().token_value(id).as_deref(),
            t["value"].as_str(),
            "{address}: state and API agree on the value"
        );
    }
    ws.assert_plan_empty();
}

#[test]
fn account_id_known_only_at_apply() {
    let Some((emu, ws)) = setup() else { return };
    ws.write(&format!(
        r#"{}
resource "terraform_data" "account" {{
  input = "{ACCOUNT}"
}}
resource "cfai_account_api_token" "t" {{
  account_id = terraform_data.account.output
  name       = "late-account"
  policies = [{{
    permission_groups = ["Logs Read"]
    resources         = {{ "com.cloudflare.api.account.{ACCOUNT}" = "*" }}
  }}]
}}
"#,
        provider_block(&emu.get().base_url)
    ));
    let plan = ws.run(&["plan", "-no-color", "-out=late.tfplan"]);
    assert!(plan.ok, "{}", plan.all());
    let change = &ws.json(&["show", "-json", "late.tfplan"])["resource_changes"];
    let token = change
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["type"] == "cfai_account_api_token")
        .unwrap();
    assert_eq!(token["change"]["after_unknown"]["s3_endpoint"], true);
    ws.ok(&["apply", "-no-color", "late.tfplan"]);
    let t = ws.resource("cfai_account_api_token.t");
    assert_eq!(
        t["policies"][0]["permission_group_ids"],
        serde_json::json!([LOGS_READ_ACCOUNT]),
        "resolved at apply by scope"
    );
    assert_eq!(
        t["s3_endpoint"],
        format!("https://{ACCOUNT}.r2.cloudflarestorage.com")
    );
    ws.assert_plan_empty();
}

#[test]
fn changing_the_account_replaces_the_token() {
    let Some((emu, ws)) = setup() else { return };
    let base = emu.get().base_url.clone();
    let body = |account: &str| {
        format!(
            "  account_id = \"{account}\"\n  name = \"moving\"\n  policies = [{{ permission_groups = [\"Workers R2 Storage Read\"], resources = {{ \"com.cloudflare.api.account.{account}\" = \"*\" }} }}]\n"
        )
    };
    ws.write(&token_config(&base, &body(ACCOUNT)));
    ws.apply();
    let old_id = ws.resource("cfai_account_api_token.t")["id"]
        .as_str()
        .unwrap()
        .to_string();

    ws.write(&token_config(&base, &body(support::OTHER_ACCOUNT)));
    let (code, text) = ws.plan_code();
    assert_eq!(code, 2, "{text}");
    assert!(
        text.contains("must be replaced") && text.contains("forces replacement"),
        "{text}"
    );
    ws.apply();
    let t = ws.resource("cfai_account_api_token.t");
    assert_ne!(t["id"], old_id.as_str());
    assert_eq!(t["account_id"], support::OTHER_ACCOUNT);
    assert_eq!(
        t["s3_endpoint"],
        format!(
            "https://{}.r2.cloudflarestorage.com",
            support::OTHER_ACCOUNT
        )
    );
    let tokens = emu.get().dump()["tokens"].as_object().unwrap().clone();
    assert_eq!(tokens.len(), 1, "the old token was deleted");
    assert_eq!(
        tokens[t["id"].as_str().unwrap()]["account"],
        support::OTHER_ACCOUNT
    );
    ws.assert_plan_empty();
}
