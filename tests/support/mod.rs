//! Drives the real `terraform` CLI against the real provider binary,
//! installed through `dev_overrides` in a temporary CLI configuration.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

pub const PROVIDER_BIN: &str = env!("CARGO_BIN_EXE_terraform-provider-cfai");

/// The client the acceptance tests drive: `CFAI_TEST_CLIENT` names one of
/// the matrix (`terraform-1.11`, `terraform-1.14`, `tofu-1.6`; the last two
/// installed by `scripts/install-clients.sh`), else `TF_ACC_TERRAFORM_PATH`,
/// then `PATH`, then `../shared/bin/terraform`.
pub fn terraform_path() -> Option<PathBuf> {
    let shared = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/bin/terraform");
    if let Some(name) = std::env::var_os("CFAI_TEST_CLIENT").filter(|p| !p.is_empty()) {
        let name = name.to_string_lossy().into_owned();
        let path = match name.as_str() {
            "terraform-1.11" => shared,
            "terraform-1.14" => clients_cache().join("terraform-1.14.9/terraform"),
            "tofu-1.6" => clients_cache().join("opentofu-1.6.2/tofu"),
            other => panic!(
                "CFAI_TEST_CLIENT={other}: expected terraform-1.11, terraform-1.14 or tofu-1.6"
            ),
        };
        assert!(
            path.is_file(),
            "CFAI_TEST_CLIENT={name}: {} is missing; run `bash scripts/install-clients.sh`",
            path.display()
        );
        return Some(path);
    }
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
    shared.is_file().then_some(shared)
}

/// Where `scripts/install-clients.sh` keeps the extra clients.
fn clients_cache() -> PathBuf {
    if let Some(dir) = std::env::var_os("CFAI_CLIENTS_CACHE").filter(|p| !p.is_empty()) {
        return PathBuf::from(dir);
    }
    let base = std::env::var_os("XDG_CACHE_HOME")
        .filter(|p| !p.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(std::env::var_os("HOME").unwrap_or_default()).join(".cache")
        });
    base.join("cfai-clients")
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
            skipped("!!! terraform not found (TF_ACC_TERRAFORM_PATH, PATH, ../shared/bin/terraform): acceptance test not run !!!");
            None
        }
    }
}

/// Which client, and which version, `terraform_path` gives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Client {
    pub opentofu: bool,
    pub version: (u32, u32, u32),
}

/// A client feature some tests need.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Feature {
    /// Provider-defined functions: Terraform 1.8, OpenTofu 1.7.
    Functions,
    /// Ephemeral resources: Terraform 1.10, OpenTofu 1.11.
    Ephemeral,
    /// Write-only arguments: Terraform 1.11, OpenTofu 1.11.
    WriteOnly,
    /// Resource identity (import by identity, identity in state):
    /// Terraform 1.12; no OpenTofu release this suite drives.
    Identity,
    /// List resources (`terraform query`) and generated configuration from
    /// them: Terraform 1.14; no OpenTofu release this suite drives.
    ListResources,
    /// Actions (`action` blocks, `action_trigger`, `apply -invoke`):
    /// Terraform 1.14; no OpenTofu release this suite drives.
    Actions,
}

impl Client {
    pub fn name(&self) -> String {
        let (a, b, c) = self.version;
        let product = if self.opentofu {
            "OpenTofu"
        } else {
            "Terraform"
        };
        format!("{product} {a}.{b}.{c}")
    }

    pub fn supports(&self, feature: Feature) -> bool {
        let since = match (feature, self.opentofu) {
            (Feature::Functions, false) => (1, 8),
            (Feature::Functions, true) => (1, 7),
            (Feature::Ephemeral, false) => (1, 10),
            (Feature::Ephemeral, true) => (1, 11),
            (Feature::WriteOnly, _) => (1, 11),
            (Feature::Identity, false) => (1, 12),
            (Feature::Identity, true) => (u32::MAX, 0),
            (Feature::ListResources, false) => (1, 14),
            (Feature::ListResources, true) => (u32::MAX, 0),
            (Feature::Actions, false) => (1, 14),
            (Feature::Actions, true) => (u32::MAX, 0),
        };
        (self.version.0, self.version.1) >= since
    }
}

/// The client under test (asked once, from its `version -json`).
pub fn client() -> Option<&'static Client> {
    static CLIENT: std::sync::OnceLock<Option<Client>> = std::sync::OnceLock::new();
    CLIENT
        .get_or_init(|| {
            let path = terraform_path()?;
            let out = Command::new(&path)
                .args(["version", "-json"])
                .env("CHECKPOINT_DISABLE", "1")
                .output()
                .ok()?;
            let text = String::from_utf8_lossy(&out.stdout);
            let json: serde_json::Value = serde_json::from_str(&text).ok()?;
            let version = json["terraform_version"].as_str()?;
            let mut parts = version
                .split(['.', '-'])
                .map(|p| p.parse::<u32>().unwrap_or(0));
            let version = (
                parts.next()?,
                parts.next().unwrap_or(0),
                parts.next().unwrap_or(0),
            );
            let opentofu = path
                .file_name()
                .is_some_and(|n| n.to_string_lossy().contains("tofu"))
                || text.contains("opentofu");
            Some(Client { opentofu, version })
        })
        .as_ref()
}

/// Says, past the test harness's output capture, that a test (or part of
/// one) did not run and why: a skip is never silent.
pub fn skipped(what: &str) {
    use std::io::Write;
    use std::os::fd::FromRawFd;
    // The harness captures `std::io::stderr()` too: write to descriptor 2
    // itself (borrowed, never closed).
    // SAFETY: descriptor 2 is open for the whole process; ManuallyDrop
    // keeps this File from closing it.
    let mut err = std::mem::ManuallyDrop::new(unsafe { std::fs::File::from_raw_fd(2) });
    let _ = writeln!(err, "SKIPPED {what}");
}

/// The cfai entry of `providers schema -json` (Terraform's registry
/// address, or OpenTofu's).
pub fn cfai_schema(schema: &serde_json::Value) -> serde_json::Value {
    schema["provider_schemas"]
        .as_object()
        .and_then(|m| m.iter().find(|(k, _)| k.ends_with("/seed/cfai")))
        .map(|(_, v)| v.clone())
        .expect("the cfai provider's schema")
}

/// Whether `test` can run on this client; if not, says so by name.
pub fn client_supports(test: &str, feature: Feature) -> bool {
    match client() {
        Some(c) if !c.supports(feature) => {
            skipped(&format!("{test}: {} has no {feature:?} support", c.name()));
            false
        }
        _ => true,
    }
}

/// `dev_overrides` pointing Terraform at the provider binary in `provider_dir`.
fn write_cli_config(workspace: &Path, provider_dir: &Path) {
    std::fs::write(
        workspace.join("cli.tfrc"),
        format!(
            "provider_installation {{\n  dev_overrides {{\n    \"seed/cfai\" = \"{}\"\n  }}\n  direct {{}}\n}}\n",
            provider_dir.display()
        ),
    )
    .expect("write CLI config");
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
        write_cli_config(dir.path(), provider_dir);
        std::fs::create_dir(dir.path().join("work")).expect("work dir");
        let env = vec![
            (
                "TF_CLI_CONFIG_FILE".to_string(),
                dir.path().join("cli.tfrc").display().to_string(),
            ),
            ("TF_IN_AUTOMATION".to_string(), "1".to_string()),
            ("TF_INPUT".to_string(), "0".to_string()),
            ("CHECKPOINT_DISABLE".to_string(), "1".to_string()),
            // The rate limiter's shared send times: one workspace's runs
            // share them, unrelated tests (a reused port) do not.
            (
                "CFAI_REQUEST_JOURNAL_DIR".to_string(),
                dir.path().display().to_string(),
            ),
        ];
        Workspace {
            dir,
            terraform,
            env,
        }
    }

    /// From now on, Terraform runs the provider binary in `provider_dir`
    /// (another build, e.g. a previous release).
    pub fn use_provider_dir(&self, provider_dir: &Path) {
        write_cli_config(self.dir.path(), provider_dir);
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

/// Whether this run's emulators leave out what the contract marks optional
/// (`CFAI_EMULATOR_ANSWERS=sparse`): a change made outside Terraform to a
/// property no answer mentions cannot be seen, and a value the API does
/// not return is null.
pub fn sparse_answers() -> bool {
    std::env::var("CFAI_EMULATOR_ANSWERS").is_ok_and(|m| m == "sparse" || m.contains("\"omit\""))
}

/// Whether every optional property is left out (`sparse`), not one chosen
/// property of one operation.
pub fn all_sparse_answers() -> bool {
    std::env::var("CFAI_EMULATOR_ANSWERS").is_ok_and(|m| m == "sparse")
}

/// Whether `test` cannot apply to sparse answers, because what it checks
/// lies in a property they leave out (a change made outside Terraform that
/// no answer mentions); says so by name when it skips.
pub fn skipped_under_sparse_answers(test: &str, because: &str) -> bool {
    let skip = sparse_answers();
    if skip {
        skipped(&format!("{test} under sparse answers: {because}"));
    }
    skip
}

/// An emulator on a free port. `CFAI_EMULATOR_ANSWERS=extended` makes it
/// answer as a newer Cloudflare might (unknown properties, an unlisted
/// instance status), `sparse` as one that leaves out every property the
/// contract marks optional: the same tests must pass against both.
pub async fn start_emulator() -> cfai::emulator::Emulator {
    start_emulator_with(None).await
}

pub async fn start_emulator_with(state_file: Option<PathBuf>) -> cfai::emulator::Emulator {
    let config = cfai::emulator::EmulatorConfig {
        state_file,
        ..emulator_config()
    };
    let emulator = cfai::emulator::Emulator::start(config, "127.0.0.1:0".parse().unwrap())
        .await
        .expect("emulator");
    if let Some(mode) = std::env::var("CFAI_EMULATOR_ANSWERS")
        .ok()
        .filter(|m| !m.is_empty())
    {
        // A word (`extended`, `sparse`) or the admin route's JSON body
        // (`{"mode": "omit", ...}`).
        let mode = if mode.starts_with('{') {
            serde_json::from_str(&mode).unwrap_or_else(|e| panic!("CFAI_EMULATOR_ANSWERS: {e}"))
        } else {
            mode.parse()
                .unwrap_or_else(|e| panic!("CFAI_EMULATOR_ANSWERS: {e}"))
        };
        emulator.set_answers(mode);
    }
    emulator
}

/// An emulator served from its own runtime, for tests that block on terraform.
pub struct BackgroundEmulator {
    pub emulator: Option<cfai::emulator::Emulator>,
    runtime: Option<tokio::runtime::Runtime>,
}

impl BackgroundEmulator {
    pub fn start() -> Self {
        Self::start_with(None)
    }

    /// An emulator keeping its world in `state_file` (loaded from it when
    /// it exists).
    pub fn start_with(state_file: Option<PathBuf>) -> Self {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let emulator = runtime.block_on(start_emulator_with(state_file));
        BackgroundEmulator {
            emulator: Some(emulator),
            runtime: Some(runtime),
        }
    }

    pub fn get(&self) -> &cfai::emulator::Emulator {
        self.emulator.as_ref().unwrap()
    }
}

/// The API writes (every request but a GET) the emulator has answered.
pub fn api_writes(emulator: &cfai::emulator::Emulator) -> u64 {
    emulator
        .counts()
        .iter()
        .filter(|(route, _)| !route.starts_with("GET ") && !route.contains("__admin"))
        .map(|(_, n)| n)
        .sum()
}

impl BackgroundEmulator {
    /// See [`api_writes`].
    pub fn writes(&self) -> u64 {
        api_writes(self.get())
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

    /// Right after an import: the plan is empty, except where the API's
    /// answer left out what the configuration sets (sparse answers), which
    /// the import stores as null. Then one apply sends it, and the plan
    /// after that is empty.
    pub fn assert_import_converges(&self) {
        if sparse_answers() {
            self.apply();
        }
        self.assert_plan_empty();
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

impl Workspace {
    /// `terraform apply` (with `args` after it), interrupted as a
    /// terminal's Ctrl-C would (SIGINT to terraform's whole process group,
    /// providers included) once `ready` holds, or after 60 s. Returns what
    /// terraform printed.
    pub fn apply_interrupted(&self, args: &[&str], ready: impl Fn() -> bool) -> String {
        self.apply_interrupting(args, ready, true)
    }

    /// As [`Workspace::apply_interrupted`]; `group: false` signals terraform
    /// alone (the providers then hear of it from terraform).
    pub fn apply_interrupting(
        &self,
        args: &[&str],
        ready: impl Fn() -> bool,
        group: bool,
    ) -> String {
        let mut all = vec!["apply", "-auto-approve", "-no-color"];
        all.extend_from_slice(args);
        let mut cmd = self.command(&all);
        cmd.stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .stdin(Stdio::null());
        std::os::unix::process::CommandExt::process_group(&mut cmd, 0);
        let child = cmd.spawn().expect("start terraform");
        let pid = child.id().to_string();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
        while !ready() && std::time::Instant::now() < deadline {
            std::thread::sleep(std::time::Duration::from_millis(2));
        }
        let target = if group { format!("-{pid}") } else { pid };
        let killed = Command::new("kill")
            .args(["-INT", "--", &target])
            .status()
            .expect("kill");
        assert!(killed.success());
        let out = child.wait_with_output().expect("terraform exits");
        format!(
            "{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    }
}

/// An ephemeral run token (read-only, 30 minutes), a second provider
/// configured with it, and a data source read through that provider.
pub fn run_token_config(base_url: &str) -> String {
    format!(
        r#"ephemeral "cfai_account_api_token" "run" {{
  name     = "run-token"
  policies = [{{ permission_groups = ["Account API Tokens Read"], resources = {{ "com.cloudflare.api.account.{ACCOUNT}" = "*" }} }}]
  ttl      = "30m"
}}

provider "cfai" {{
  alias      = "run"
  api_token  = ephemeral.cfai_account_api_token.run.value
  account_id = "{ACCOUNT}"
  base_url   = "{base_url}"
}}

data "cfai_permission_groups" "via_run" {{
  provider = cfai.run
  name     = "R2"
}}
"#
    )
}
