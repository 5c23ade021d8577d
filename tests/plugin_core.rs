//! Issue 2 through the real terraform CLI (AutoMTLS on, as Terraform
//! starts plugins): schema, validation paths, functions, logs.

mod support;

use support::{require_terraform, Workspace, ACCOUNT, PROVIDER_HEADER};

fn workspace() -> Option<Workspace> {
    require_terraform().map(Workspace::new)
}

#[test]
fn schema_is_served_with_descriptions_and_functions() {
    let Some(ws) = workspace() else { return };
    ws.write(&format!("{PROVIDER_HEADER}\nprovider \"cfai\" {{}}\n"));
    let schema = ws.json(&["providers", "schema", "-json"]);
    let provider = support::cfai_schema(&schema);
    let attrs = provider["provider"]["block"]["attributes"]
        .as_object()
        .expect("provider attributes");
    for name in [
        "api_token",
        "api_key",
        "email",
        "account_id",
        "base_url",
        "max_retries",
        "rate_limit_per_5_minutes",
        "rate_limit_per_second",
        "request_timeout",
    ] {
        let attr = &attrs[name];
        assert!(
            attr["optional"].as_bool().unwrap_or(false),
            "{name} should be optional: {attr}"
        );
        assert!(
            attr["description"].as_str().is_some_and(|d| d.len() > 10),
            "{name} needs a description: {attr}"
        );
    }
    assert_eq!(attrs["api_token"]["sensitive"], true);
    assert_eq!(attrs["api_key"]["sensitive"], true);
    assert_eq!(attrs["max_retries"]["type"], "number");
    if !support::client_supports(
        "schema_is_served_with_descriptions_and_functions (its functions)",
        support::Feature::Functions,
    ) {
        return;
    }
    let functions = provider["functions"]
        .as_object()
        .expect("functions in the schema");
    for f in [
        "r2_bucket_resource",
        "r2_s3_endpoint",
        "s3_secret_access_key",
    ] {
        assert!(
            functions.contains_key(f),
            "missing function {f}: {functions:?}"
        );
    }
    assert_eq!(
        functions["r2_bucket_resource"]["parameters"]
            .as_array()
            .unwrap()
            .len(),
        3
    );
}

/// The 1-based line of main.tf where `attribute` is set.
fn line_of(ws: &Workspace, attribute: &str) -> usize {
    let text = std::fs::read_to_string(ws.work_dir().join("main.tf")).unwrap();
    1 + text
        .lines()
        .position(|l| l.trim_start().starts_with(attribute))
        .expect("attribute in main.tf")
}

#[test]
fn validate_reports_the_attribute_path() {
    let Some(ws) = workspace() else { return };
    ws.write(&format!(
        r#"{PROVIDER_HEADER}
provider "cfai" {{
  api_token = "t"
  api_key   = "k"
  email     = "me@example.com"
  request_timeout = "thirty seconds"
}}
data "cfai_permission_groups" "all" {{}}
"#
    ));
    let out = ws.run(&["validate", "-json", "-no-color"]);
    assert!(!out.ok, "validate should fail:\n{}", out.all());
    let report: serde_json::Value =
        serde_json::from_str(&out.stdout).expect("validate -json output");
    let diags = report["diagnostics"].as_array().expect("diagnostics");
    let conflict = diags
        .iter()
        .find(|d| d["summary"] == "Conflicting attributes")
        .unwrap_or_else(|| panic!("no conflict diagnostic: {report}"));
    // Terraform maps our attribute path to the line of that attribute.
    assert_eq!(
        conflict["range"]["start"]["line"],
        line_of(&ws, "api_key"),
        "{conflict}"
    );
    assert!(
        conflict["snippet"]["code"]
            .as_str()
            .unwrap()
            .contains("api_key"),
        "{conflict}"
    );
    let timeout = diags
        .iter()
        .find(|d| {
            d["summary"] == "Invalid value"
                && d["detail"]
                    .as_str()
                    .is_some_and(|t| t.contains("request_timeout"))
        })
        .unwrap_or_else(|| panic!("no timeout diagnostic: {report}"));
    assert_eq!(
        timeout["range"]["start"]["line"],
        line_of(&ws, "request_timeout"),
        "{timeout}"
    );
}

#[test]
fn functions_evaluate_in_outputs_and_console() {
    let Some(ws) = workspace() else { return };
    if !support::client_supports(
        "functions_evaluate_in_outputs_and_console",
        support::Feature::Functions,
    ) {
        return;
    }
    ws.write(&format!(
        r#"{PROVIDER_HEADER}
output "bucket" {{
  value = provider::cfai::r2_bucket_resource("{ACCOUNT}", "logs", "eu")
}}
output "endpoint_default" {{
  value = provider::cfai::r2_s3_endpoint("{ACCOUNT}", "default")
}}
output "endpoint_eu" {{
  value = provider::cfai::r2_s3_endpoint("{ACCOUNT}", "eu")
}}
output "secret" {{
  value = provider::cfai::s3_secret_access_key("abc")
}}
"#
    ));
    ws.ok(&["apply", "-auto-approve", "-no-color"]);
    let outputs = ws.json(&["output", "-json"]);
    assert_eq!(
        outputs["bucket"]["value"],
        format!("com.cloudflare.edge.r2.bucket.{ACCOUNT}_eu_logs")
    );
    assert_eq!(
        outputs["endpoint_default"]["value"],
        format!("https://{ACCOUNT}.r2.cloudflarestorage.com")
    );
    assert_eq!(
        outputs["endpoint_eu"]["value"],
        format!("https://{ACCOUNT}.eu.r2.cloudflarestorage.com")
    );
    assert_eq!(
        outputs["secret"]["value"],
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    );

    let console = ws.run_with(
        &["console"],
        Some(&format!(
            "provider::cfai::r2_s3_endpoint(\"{ACCOUNT}\", \"fedramp\")\n"
        )),
        &[],
    );
    assert!(console.ok, "{}", console.all());
    assert!(
        console.stdout.contains(&format!(
            "https://{ACCOUNT}.fedramp.r2.cloudflarestorage.com"
        )),
        "{}",
        console.all()
    );
}

#[test]
fn function_errors_name_the_argument() {
    let Some(ws) = workspace() else { return };
    if !support::client_supports(
        "function_errors_name_the_argument",
        support::Feature::Functions,
    ) {
        return;
    }
    ws.write(&format!(
        "{PROVIDER_HEADER}\noutput \"x\" {{\n  value = provider::cfai::r2_bucket_resource(\"{ACCOUNT}\", \"logs\", \"mars\")\n}}\n"
    ));
    let out = ws.fails(&["plan", "-no-color"]);
    assert!(out.contains("unknown R2 jurisdiction \"mars\""), "{out}");
    assert!(
        out.contains("\"jurisdiction\" parameter"),
        "the error should name the parameter:\n{out}"
    );
}

#[test]
fn debug_logs_reach_terraform_at_their_level_without_secrets() {
    let Some(ws) = workspace() else { return };
    let secret = "cfat-supersecret-token-value-0123456789";
    let emu = support::BackgroundEmulator::start();
    ws.write(&format!(
        "{PROVIDER_HEADER}\nprovider \"cfai\" {{\n  api_token = \"{secret}\"\n  account_id = \"{ACCOUNT}\"\n  base_url = \"{}\"\n}}\ndata \"cfai_permission_groups\" \"r2\" {{\n  name = \"R2\"\n}}\n",
        emu.get().base_url
    ));
    // The emulator refuses this token: the request (with its Authorization
    // header) is made and the failure logged, all without the secret.
    let run = ws.run_with(&["plan", "-no-color"], None, &[("TF_LOG", "trace")]);
    assert!(
        !run.ok && run.all().contains("Authentication error"),
        "{}",
        run.all()
    );
    let ours: Vec<&str> = run
        .stderr
        .lines()
        .filter(|l| l.contains("provider.terraform-provider-cfai:"))
        .collect();
    assert!(
        ours.iter()
            .any(|l| l.contains("[INFO]") && l.contains("configuring the cfai provider")),
        "no INFO line from the provider:\n{}",
        ours.join("\n")
    );
    assert!(
        ours.iter().any(|l| l.contains("[DEBUG]")
            && l.contains("provider configured")
            && l.contains("@module=cfai.provider")),
        "no DEBUG line from the provider:\n{}",
        ours.join("\n")
    );
    // Our lines are parsed as JSON by Terraform: none may fall back to raw text.
    assert!(
        !ours.iter().any(|l| l.contains("\"@level\"")),
        "a line was not parsed as hclog JSON:\n{}",
        ours.join("\n")
    );
    assert!(
        !ours.iter().any(|l| l.contains(secret)),
        "the token leaked into a provider log line"
    );
}
