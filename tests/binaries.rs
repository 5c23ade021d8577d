//! The binaries explain themselves.

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
