//! Drives the real `terraform` CLI against the real provider binary,
//! installed through `dev_overrides` in a temporary CLI configuration.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

pub const PROVIDER_BIN: &str = env!("CARGO_BIN_EXE_terraform-provider-cfai");

/// `TF_ACC_TERRAFORM_PATH`, then `PATH`, then `../shared/bin/terraform`.
pub fn terraform_path() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("TF_ACC_TERRAFORM_PATH").filter(|p| !p.is_empty()) {
        return Some(PathBuf::from(p));
    }
    if let Some(path) = std::env::var_os("PATH") {
        for dir in std::env::split_paths(&path) {
            let candidate = dir.join("terraform");
            if candidate.is_file() {
                return Some(candidate);
            }
        }
    }
    let shared = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/bin/terraform");
    shared.is_file().then_some(shared)
}

/// The terraform binary, or `None` (loudly) outside CI. In CI a missing
/// terraform fails the test: an acceptance suite that skips proves nothing.
pub fn require_terraform() -> Option<PathBuf> {
    match terraform_path() {
        Some(p) => Some(p),
        None if std::env::var_os("CI").is_some() => {
            panic!("terraform not found (TF_ACC_TERRAFORM_PATH, PATH, ../shared/bin/terraform): acceptance tests cannot run")
        }
        None => {
            eprintln!("\n!!! SKIPPED: terraform not found (TF_ACC_TERRAFORM_PATH, PATH, ../shared/bin/terraform) !!!\n");
            None
        }
    }
}

pub struct Workspace {
    pub dir: tempfile::TempDir,
    terraform: PathBuf,
    env: Vec<(String, String)>,
}

pub struct Run {
    pub ok: bool,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn all(&self) -> String {
        format!("{}\n{}", self.stdout, self.stderr)
    }
}

impl Workspace {
    pub fn new(terraform: PathBuf) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let provider_dir = Path::new(PROVIDER_BIN).parent().expect("binary dir");
        let cli_config = dir.path().join("cli.tfrc");
        std::fs::write(
            &cli_config,
            format!(
                "provider_installation {{\n  dev_overrides {{\n    \"seed/cfai\" = \"{}\"\n  }}\n  direct {{}}\n}}\n",
                provider_dir.display()
            ),
        )
        .expect("write CLI config");
        std::fs::create_dir(dir.path().join("work")).expect("work dir");
        let env = vec![
            (
                "TF_CLI_CONFIG_FILE".to_string(),
                cli_config.display().to_string(),
            ),
            ("TF_IN_AUTOMATION".to_string(), "1".to_string()),
            ("TF_INPUT".to_string(), "0".to_string()),
            ("CHECKPOINT_DISABLE".to_string(), "1".to_string()),
        ];
        Workspace {
            dir,
            terraform,
            env,
        }
    }

    pub fn work_dir(&self) -> PathBuf {
        self.dir.path().join("work")
    }

    pub fn env(&mut self, key: &str, value: &str) -> &mut Self {
        self.env.push((key.to_string(), value.to_string()));
        self
    }

    pub fn write(&self, hcl: &str) {
        std::fs::write(self.work_dir().join("main.tf"), hcl).expect("write main.tf");
    }

    pub fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(&self.terraform);
        cmd.args(args).current_dir(self.work_dir());
        for var in [
            "CLOUDFLARE_API_TOKEN",
            "CLOUDFLARE_API_KEY",
            "CLOUDFLARE_EMAIL",
            "CLOUDFLARE_ACCOUNT_ID",
            "CLOUDFLARE_BASE_URL",
            "TF_LOG",
            "TF_LOG_PROVIDER",
            "TF_LOG_PATH",
            "TF_REATTACH_PROVIDERS",
        ] {
            cmd.env_remove(var);
        }
        for (k, v) in &self.env {
            cmd.env(k, v);
        }
        cmd
    }

    pub fn run_with(&self, args: &[&str], stdin: Option<&str>, extra_env: &[(&str, &str)]) -> Run {
        let mut cmd = self.command(args);
        for (k, v) in extra_env {
            cmd.env(k, v);
        }
        cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
        cmd.stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        });
        let mut child = cmd.spawn().expect("start terraform");
        if let Some(input) = stdin {
            use std::io::Write;
            let mut pipe = child.stdin.take().expect("stdin");
            pipe.write_all(input.as_bytes()).expect("write stdin");
        }
        let Output {
            status,
            stdout,
            stderr,
        } = child.wait_with_output().expect("terraform output");
        Run {
            ok: status.success(),
            stdout: String::from_utf8_lossy(&stdout).into_owned(),
            stderr: String::from_utf8_lossy(&stderr).into_owned(),
        }
    }

    pub fn run(&self, args: &[&str]) -> Run {
        self.run_with(args, None, &[])
    }

    /// Runs and asserts success, returning stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        let run = self.run(args);
        assert!(run.ok, "terraform {args:?} failed:\n{}", run.all());
        run.stdout
    }

    /// Runs and asserts failure, returning everything it printed.
    pub fn fails(&self, args: &[&str]) -> String {
        let run = self.run(args);
        assert!(
            !run.ok,
            "terraform {args:?} should have failed:\n{}",
            run.all()
        );
        run.all()
    }

    pub fn json(&self, args: &[&str]) -> serde_json::Value {
        let out = self.ok(args);
        serde_json::from_str(&out)
            .unwrap_or_else(|e| panic!("terraform {args:?} printed no JSON ({e}):\n{out}"))
    }
}

pub const ACCOUNT: &str = "0123456789abcdef0123456789abcdef";
/// A second account the emulator's credentials can reach.
pub const OTHER_ACCOUNT: &str = "fedcba9876543210fedcba9876543210";

pub const PROVIDER_HEADER: &str = r#"
terraform {
  required_providers {
    cfai = { source = "seed/cfai" }
  }
}
"#;

pub const API_TOKEN: &str = "emulator-test-token";

pub fn emulator_config() -> cfai::emulator::EmulatorConfig {
    cfai::emulator::EmulatorConfig {
        account_id: ACCOUNT.to_string(),
        other_accounts: vec![OTHER_ACCOUNT.to_string()],
        api_token: API_TOKEN.to_string(),
        api_key: Some(("global-key".to_string(), "me@example.com".to_string())),
        state_file: None,
    }
}

pub async fn start_emulator() -> cfai::emulator::Emulator {
    cfai::emulator::Emulator::start(emulator_config(), "127.0.0.1:0".parse().unwrap())
        .await
        .expect("emulator")
}

/// An emulator served from its own runtime, for tests that block on terraform.
pub struct BackgroundEmulator {
    pub emulator: Option<cfai::emulator::Emulator>,
    runtime: Option<tokio::runtime::Runtime>,
}

impl BackgroundEmulator {
    pub fn start() -> Self {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let emulator = runtime.block_on(start_emulator());
        BackgroundEmulator {
            emulator: Some(emulator),
            runtime: Some(runtime),
        }
    }

    pub fn get(&self) -> &cfai::emulator::Emulator {
        self.emulator.as_ref().unwrap()
    }
}

impl Drop for BackgroundEmulator {
    fn drop(&mut self) {
        drop(self.emulator.take());
        if let Some(rt) = self.runtime.take() {
            rt.shutdown_background();
        }
    }
}

pub fn fast_client(base_url: &str, max_retries: u32) -> cfai::cloudflare::Client {
    let mut config = cfai::cloudflare::ClientConfig::new(
        base_url,
        Some(cfai::cloudflare::Auth::Token(cfai::secret::Secret::new(
            API_TOKEN,
        ))),
    );
    config.max_retries = max_retries;
    config.backoff_base = std::time::Duration::from_millis(5);
    config.backoff_max = std::time::Duration::from_millis(50);
    config.request_timeout = std::time::Duration::from_secs(5);
    cfai::cloudflare::Client::new(config).unwrap()
}

/// The provider block pointing at an emulator.
pub fn provider_block(base_url: &str) -> String {
    format!(
        "{PROVIDER_HEADER}\nprovider \"cfai\" {{\n  api_token  = \"{API_TOKEN}\"\n  account_id = \"{ACCOUNT}\"\n  base_url   = \"{base_url}\"\n}}\n"
    )
}

impl Workspace {
    /// `terraform plan -detailed-exitcode`: 0 no changes, 2 changes.
    pub fn plan_code(&self) -> (i32, String) {
        let mut cmd = self.command(&["plan", "-no-color", "-detailed-exitcode"]);
        let out = cmd.output().expect("terraform plan");
        let text = format!(
            "{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        (out.status.code().unwrap_or(-1), text)
    }

    pub fn assert_plan_empty(&self) {
        let (code, text) = self.plan_code();
        assert_eq!(code, 0, "expected an empty plan:\n{text}");
    }

    pub fn apply(&self) -> String {
        let run = self.run(&["apply", "-auto-approve", "-no-color", "-parallelism=4"]);
        assert!(run.ok, "apply failed:\n{}", run.all());
        run.all()
    }

    /// Attribute values of one resource from `terraform show -json`.
    pub fn resource(&self, address: &str) -> serde_json::Value {
        let state = self.json(&["show", "-json"]);
        let resources = state["values"]["root_module"]["resources"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        resources
            .into_iter()
            .find(|r| r["address"] == address)
            .map(|r| r["values"].clone())
            .unwrap_or_else(|| panic!("{address} is not in the state: {state}"))
    }

    pub fn state_addresses(&self) -> Vec<String> {
        let state = self.json(&["show", "-json"]);
        state["values"]["root_module"]["resources"]
            .as_array()
            .map(|rs| {
                rs.iter()
                    .filter_map(|r| r["address"].as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default()
    }
}
