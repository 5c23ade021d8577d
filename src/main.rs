//! The plugin binary Terraform starts.

use std::io::Write;
use std::process::ExitCode;

use cfai::provider::{CfaiProvider, PROVIDER_ADDRESS};
use cfai::transport::{self, handshake::PluginEnv, Mode};

const HELP: &str = concat!(
    "terraform-provider-cfai ",
    env!("CARGO_PKG_VERSION"),
    r#": the Terraform (and OpenTofu) provider for Cloudflare account API
tokens, their R2 S3 credentials, and AI Search (source "seed/cfai").

Terraform starts this program itself: install it (dev_overrides, or the
local plugin mirror) and use `terraform plan` / `apply`; running it by hand
only prints a reminder.

Options:
  --debug     run unmanaged and print TF_REATTACH_PROVIDERS to export for
              Terraform (to attach a debugger)
  --version   print the version
  --help      print this text"#
);

fn main() -> ExitCode {
    // Terraform shows a crashed plugin's stack only from a line starting
    // with "panic: "; Rust's default message would be lost.
    std::panic::set_hook(Box::new(|info| {
        let mut err = std::io::stderr().lock();
        let _ = writeln!(
            err,
            "panic: {info}\n\n{}",
            std::backtrace::Backtrace::force_capture()
        );
    }));

    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.iter().any(|a| a == "--help" || a == "-h") {
        println!("{HELP}");
        return ExitCode::SUCCESS;
    }
    if args.iter().any(|a| a == "--version" || a == "-v") {
        println!("terraform-provider-cfai {}", env!("CARGO_PKG_VERSION"));
        return ExitCode::SUCCESS;
    }
    let mode = if args.iter().any(|a| a == "--debug" || a == "-debug") {
        Mode::Debug {
            provider_address: PROVIDER_ADDRESS.to_string(),
        }
    } else {
        match PluginEnv::from_env() {
            Ok(env) => Mode::Managed(env),
            Err(e) => {
                eprintln!("{e}");
                return ExitCode::FAILURE;
            }
        }
    };
    cfai::logging::init();

    match transport::run(CfaiProvider, mode) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("terraform-provider-cfai: {e}");
            ExitCode::FAILURE
        }
    }
}
