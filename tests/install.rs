//! Installing without dev_overrides, and the release layout.

mod support;

use std::path::Path;
use std::process::Command;

const PROVIDER_BIN: &str = env!("CARGO_BIN_EXE_terraform-provider-cfai");

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn install_into_the_local_mirror_then_a_plain_init_finds_it() {
    let Some(tf) = support::require_terraform() else {
        return;
    };
    let home = tempfile::tempdir().unwrap();
    let out = Command::new("bash")
        .arg(root().join("scripts/install-local.sh"))
        .env("HOME", home.path())
        .env("CFAI_BINARY", PROVIDER_BIN)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let work = home.path().join("work");
    std::fs::create_dir(&work).unwrap();
    std::fs::write(
        work.join("main.tf"),
        "terraform {\n  required_providers {\n    cfai = { source = \"seed/cfai\" }\n  }\n}\n\noutput \"endpoint\" {\n  value = provider::cfai::r2_s3_endpoint(\"0123456789abcdef0123456789abcdef\", \"default\")\n}\n",
    )
    .unwrap();
    let terraform = |args: &[&str]| {
        let out = Command::new(&tf)
            .args(args)
            .current_dir(&work)
            .env("HOME", home.path())
            .env_remove("TF_CLI_CONFIG_FILE")
            .env("TF_IN_AUTOMATION", "1")
            .env("CHECKPOINT_DISABLE", "1")
            .output()
            .unwrap();
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(out.status.success(), "terraform {args:?}:\n{text}");
        text
    };
    let init = terraform(&["init", "-no-color"]);
    assert!(init.contains("seed/cfai"), "{init}");
    let lock = std::fs::read_to_string(work.join(".terraform.lock.hcl")).unwrap();
    assert!(
        lock.contains("registry.terraform.io/seed/cfai") && lock.contains("h1:"),
        "{lock}"
    );
    let applied = terraform(&["apply", "-auto-approve", "-no-color"]);
    assert!(
        applied.contains("https://0123456789abcdef0123456789abcdef.r2.cloudflarestorage.com"),
        "{applied}"
    );
}

#[test]
fn release_writes_the_registry_layout() {
    let out_dir = tempfile::tempdir().unwrap();
    let out = Command::new("bash")
        .arg(root().join("scripts/release.sh"))
        .arg(out_dir.path())
        .env("CFAI_BINARY", PROVIDER_BIN)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let version = env!("CARGO_PKG_VERSION");
    let names: Vec<String> = std::fs::read_dir(out_dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    let zip = names
        .iter()
        .find(|n| {
            n.starts_with(&format!("terraform-provider-cfai_{version}_")) && n.ends_with(".zip")
        })
        .unwrap_or_else(|| panic!("no zip in {names:?}"));
    let manifest = format!("terraform-provider-cfai_{version}_manifest.json");
    let sums = std::fs::read_to_string(
        out_dir
            .path()
            .join(format!("terraform-provider-cfai_{version}_SHA256SUMS")),
    )
    .unwrap();
    for listed in [zip.as_str(), manifest.as_str()] {
        let line = sums
            .lines()
            .find(|l| l.ends_with(&format!("  {listed}")))
            .unwrap_or_else(|| panic!("{listed} not in SHA256SUMS:\n{sums}"));
        let bytes = std::fs::read(out_dir.path().join(listed)).unwrap();
        let digest = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&bytes));
        assert!(line.starts_with(&digest), "{line}");
    }
    let manifest_json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out_dir.path().join(&manifest)).unwrap()).unwrap();
    assert_eq!(
        manifest_json["metadata"]["protocol_versions"],
        serde_json::json!(["6.0"])
    );
    let root_manifest: serde_json::Value = serde_json::from_slice(
        &std::fs::read(root().join("terraform-registry-manifest.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(root_manifest, manifest_json);
    // The zip holds the binary under its versioned name.
    let listing = Command::new("python3")
        .args([
            "-c",
            "import sys,zipfile; print(zipfile.ZipFile(sys.argv[1]).namelist())",
        ])
        .arg(out_dir.path().join(zip))
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&listing.stdout)
        .contains(&format!("terraform-provider-cfai_v{version}")));
}
