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
    let version = env!("CARGO_PKG_VERSION");
    assert!(
        init.contains(&format!("v{version}")),
        "init shows the release's version {version}:\n{init}"
    );
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

/// One version everywhere: Cargo.toml, the binary's `--version`, the
/// newest dated section of the changelog (Keep a Changelog), and the
/// release assets (above).
#[test]
fn versions_and_changelog_agree() {
    let version = env!("CARGO_PKG_VERSION");
    let semver = regex::Regex::new(r"^\d+\.\d+\.\d+$").unwrap();
    assert!(
        semver.is_match(version),
        "{version} is not a semantic version"
    );
    let out = Command::new(PROVIDER_BIN)
        .arg("--version")
        .output()
        .unwrap();
    let printed = String::from_utf8_lossy(&out.stdout);
    assert!(printed.contains(version), "--version printed {printed:?}");
    let changelog = std::fs::read_to_string(root().join("CHANGELOG.md")).unwrap();
    assert!(
        changelog.contains("## [Unreleased]"),
        "an Unreleased section"
    );
    let dated = regex::Regex::new(r"(?m)^## \[(\d+\.\d+\.\d+)\] - (\d{4}-\d{2}-\d{2})$").unwrap();
    let releases: Vec<(String, String)> = dated
        .captures_iter(&changelog)
        .map(|c| (c[1].to_string(), c[2].to_string()))
        .collect();
    assert_eq!(
        releases.first().map(|(v, _)| v.as_str()),
        Some(version),
        "the newest release in CHANGELOG.md is Cargo.toml's version"
    );
    assert!(
        releases.iter().any(|(v, _)| v == "0.1.0"),
        "0.1.0 is described"
    );
    // Newest first, dates not going forward.
    for pair in releases.windows(2) {
        assert!(pair[0].1 >= pair[1].1, "{pair:?} out of order");
    }
    for (v, _) in &releases {
        let section = changelog.split(&format!("## [{v}]")).nth(1).unwrap();
        let body = section.split("\n## [").next().unwrap();
        assert!(body.contains("### "), "{v}: no Added/Changed/Fixed heading");
    }
}

/// `scripts/release.sh` refuses a version that is already released (its
/// tag exists) or that the changelog does not describe.
#[test]
fn release_refuses_a_released_or_undescribed_version() {
    let repo = tempfile::tempdir().unwrap();
    let dir = repo.path();
    std::fs::create_dir(dir.join("scripts")).unwrap();
    for file in [
        "scripts/release.sh",
        "scripts/platform.sh",
        "Cargo.toml",
        "CHANGELOG.md",
        "terraform-registry-manifest.json",
    ] {
        std::fs::copy(root().join(file), dir.join(file)).unwrap();
    }
    let git = |args: &[&str]| {
        let out = Command::new("git")
            .args(args)
            .current_dir(dir)
            .env("GIT_AUTHOR_NAME", "t")
            .env("GIT_AUTHOR_EMAIL", "t@example.com")
            .env("GIT_COMMITTER_NAME", "t")
            .env("GIT_COMMITTER_EMAIL", "t@example.com")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "git {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    git(&["init", "-q"]);
    git(&["add", "."]);
    git(&["commit", "-qm", "release"]);
    let release = || {
        let out_dir = tempfile::tempdir().unwrap();
        let out = Command::new("bash")
            .arg(dir.join("scripts/release.sh"))
            .arg(out_dir.path())
            .env("CFAI_BINARY", PROVIDER_BIN)
            .output()
            .unwrap();
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stderr).to_string(),
        )
    };
    let version = env!("CARGO_PKG_VERSION");
    assert!(release().0, "a new, described version is released");

    git(&["tag", &format!("v{version}")]);
    let (ok, err) = release();
    assert!(!ok && err.contains("already released"), "{err}");
    git(&["tag", "-d", &format!("v{version}")]);

    let changelog = std::fs::read_to_string(dir.join("CHANGELOG.md")).unwrap();
    std::fs::write(
        dir.join("CHANGELOG.md"),
        changelog.replace(&format!("## [{version}] - "), "## [Next] - "),
    )
    .unwrap();
    let (ok, err) = release();
    assert!(!ok && err.contains("CHANGELOG.md has no section"), "{err}");
}
