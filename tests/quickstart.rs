//! The README's quickstart, as a newcomer runs it: a fresh clone, the one
//! command, then the teardown command.

mod support;

use std::path::Path;
use std::process::Command;

/// The one-line code blocks of the README section whose heading contains
/// `heading`, in order.
fn readme_commands(heading: &str) -> Vec<String> {
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap();
    let section = readme
        .split("\n## ")
        .find(|s| s.lines().next().unwrap_or("").contains(heading))
        .unwrap_or_else(|| panic!("no README heading with {heading}"));
    section
        .split("```")
        .skip(1)
        .step_by(2)
        .map(|block| {
            let lines: Vec<&str> = block
                .lines()
                .skip(1)
                .filter(|l| !l.trim().is_empty())
                .collect();
            assert_eq!(lines.len(), 1, "one command per block: {lines:?}");
            lines[0].to_string()
        })
        .collect()
}

#[test]
fn quickstart_from_a_fresh_clone_and_teardown() {
    let Some(tf) = support::require_terraform() else {
        return;
    };
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let tmp = tempfile::tempdir().unwrap();
    let clone = tmp.path().join("clone");
    let status = Command::new("git")
        .args(["clone", "-q"])
        .arg(root)
        .arg(&clone)
        .status()
        .unwrap();
    assert!(status.success());
    let target = std::env::var("CARGO_TARGET_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|_| root.join("target"));
    let run = |command: &str| {
        let out = Command::new("bash")
            .args(["-c", command])
            .current_dir(&clone)
            .env("CARGO_TARGET_DIR", &target)
            .env("TF_ACC_TERRAFORM_PATH", &tf)
            .env_remove("TF_CLI_CONFIG_FILE")
            .output()
            .unwrap();
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(out.status.success(), "{command}:\n{text}");
        text
    };
    let commands = readme_commands("Quickstart");
    let (up_command, down_command) = (&commands[0], &commands[1]);
    assert!(down_command.contains("down"), "{commands:?}");
    let started = std::time::Instant::now();
    let up = run(up_command);
    eprintln!(
        "quickstart took {:?} (build cache: {})",
        started.elapsed(),
        target.display()
    );
    for step in 1..=6 {
        assert!(
            up.contains(&format!("==> [{step}/6]")),
            "progress step {step}:\n{up}"
        );
    }
    assert!(up.contains("secret_access_key = <sensitive>"), "{up}");
    assert!(
        up.contains("ai_search_instance = \"quickstart-docs\""),
        "{up}"
    );
    assert!(
        up.contains("terraform output -raw secret_access_key"),
        "{up}"
    );
    assert!(up.contains("No changes."), "{up}");
    assert!(up.contains("bash scripts/quickstart.sh down"), "{up}");
    let down = run(down_command);
    assert!(
        down.contains("Destroy complete! Resources: 3 destroyed."),
        "{down}"
    );
    assert!(down.contains("the emulator now holds 0 objects"), "{down}");
    assert!(!clone.join(".quickstart").exists());
}

#[test]
fn without_terraform_the_quickstart_says_what_to_install() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    // A PATH with cargo but no terraform.
    let cargo_dir = Path::new(env!("CARGO")).parent().unwrap().to_path_buf();
    let out = Command::new("bash")
        .arg(root.join("scripts/quickstart.sh"))
        .env("PATH", format!("{}:/usr/bin:/bin", cargo_dir.display()))
        .env_remove("TF_ACC_TERRAFORM_PATH")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stderr);
    if std::path::Path::new("/usr/bin/terraform").exists()
        || std::path::Path::new("/bin/terraform").exists()
    {
        eprintln!(
            "terraform is installed system-wide here: the missing-terraform path cannot be shown"
        );
        return;
    }
    assert!(!out.status.success());
    assert!(text.contains("Install Terraform"), "{text}");
    assert!(!root.join(".quickstart").exists(), "nothing was started");
}
