//! The binaries explain themselves.

mod support;

use std::process::Command;

const PROVIDER: &str = env!("CARGO_BIN_EXE_terraform-provider-cfai");
const EMULATOR: &str = env!("CARGO_BIN_EXE_cfai-emulator");

fn run(bin: &str, args: &[&str]) -> (bool, String) {
    let out = Command::new(bin).args(args).output().unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

#[test]
fn the_provider_says_what_it_is() {
    let (ok, help) = run(PROVIDER, &["--help"]);
    assert!(ok);
    for needle in [
        "Terraform starts this program",
        "--debug",
        "--version",
        "seed/cfai",
    ] {
        assert!(help.contains(needle), "{needle} missing from:\n{help}");
    }
    let (ok, version) = run(PROVIDER, &["--version"]);
    assert!(
        ok && version.contains(env!("CARGO_PKG_VERSION")),
        "{version}"
    );
}

#[test]
fn the_emulator_lists_its_options_defaults_and_admin_routes() {
    let (ok, help) = run(EMULATOR, &["--help"]);
    assert!(ok);
    for needle in [
        "--port N",
        "default 8787",
        "--token",
        "default dev-token",
        "--account-id",
        "--api-key",
        "--email",
        "--state-file",
        "--version",
        "/__admin/faults",
        "/__admin/ratelimit",
        "/__admin/ai-search",
        "/__admin/answers",
        "/__admin/state",
        "/__admin/counts",
        "/__admin/tokens/{id}",
    ] {
        assert!(help.contains(needle), "{needle} missing from:\n{help}");
    }
    let (ok, version) = run(EMULATOR, &["--version"]);
    assert!(
        ok && version.contains(env!("CARGO_PKG_VERSION")),
        "{version}"
    );
}

#[test]
fn a_busy_port_is_named_with_a_way_out() {
    let held = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = held.local_addr().unwrap().port().to_string();
    let (ok, text) = run(EMULATOR, &["--port", &port]);
    assert!(!ok);
    assert!(
        text.contains(&format!("port {port}")) && text.contains("--port 0"),
        "{text}"
    );
}

/// The README's recipe for running the emulator under a configuration of
/// one's own: the emulator binary with a state file, the three exported
/// variables, `terraform apply`; stopped and started again, it still holds
/// what was made. The README says exactly that.
#[test]
fn the_readmes_emulator_recipe_works() {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    for line in [
        "cargo run --release --bin cfai-emulator -- --state-file emulator.json",
        "export CLOUDFLARE_BASE_URL=http://127.0.0.1:8787/client/v4",
        "export CLOUDFLARE_API_TOKEN=dev-token",
        "export CLOUDFLARE_ACCOUNT_ID=0123456789abcdef0123456789abcdef",
    ] {
        assert!(
            readme.contains(line),
            "the README's emulator recipe lost {line:?}"
        );
    }
    let Some(tf) = support::require_terraform() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let state_file = dir.path().join("emulator.json");
    let start = || {
        let mut child = Command::new(EMULATOR)
            .args(["--port", "0", "--state-file"])
            .arg(&state_file)
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let mut first = String::new();
        std::io::BufRead::read_line(
            &mut std::io::BufReader::new(child.stdout.take().unwrap()),
            &mut first,
        )
        .unwrap();
        (child, first.trim().to_string())
    };
    let (mut emulator, base) = start();
    assert!(
        base.starts_with("http://127.0.0.1:") && base.ends_with("/client/v4"),
        "{base}"
    );
    let mut ws = support::Workspace::new(tf);
    ws.env("CLOUDFLARE_BASE_URL", &base)
        .env("CLOUDFLARE_API_TOKEN", "dev-token")
        .env("CLOUDFLARE_ACCOUNT_ID", "0123456789abcdef0123456789abcdef");
    ws.write(&format!(
        "{}\nprovider \"cfai\" {{}}\n\nresource \"cfai_ai_search_namespace\" \"mine\" {{\n  name = \"mine\"\n}}\n",
        support::PROVIDER_HEADER
    ));
    ws.apply();
    emulator.kill().unwrap();
    emulator.wait().unwrap();

    // Started again on its state file (on another port): nothing to do.
    let (mut emulator, base) = start();
    ws.env("CLOUDFLARE_BASE_URL", &base);
    ws.assert_plan_empty();
    emulator.kill().unwrap();
    emulator.wait().unwrap();
}
