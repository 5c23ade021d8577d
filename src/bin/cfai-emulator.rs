//! A local Cloudflare API emulator for tests, the quickstart and scripts.
//!
//! cfai-emulator --port 8787 --token dev-token --account-id <32 hex> [--state-file state.json]

use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::process::ExitCode;

use cfai::emulator::{Emulator, EmulatorConfig};

const USAGE: &str = "usage: cfai-emulator [--port N] [--token TOKEN] [--account-id HEX32] \
[--api-key KEY --email EMAIL] [--state-file PATH] [--version] [--help]";

const HELP: &str = concat!(
    "cfai-emulator ",
    env!("CARGO_PKG_VERSION"),
    r#": a local stand-in for the Cloudflare API operations terraform-provider-cfai
uses (account tokens, permission groups, R2 temporary credentials, AI Search).
It prints its base URL on the first line of stdout; point the provider's
base_url (or CLOUDFLARE_BASE_URL) at it.

Options:
  --port N             port on 127.0.0.1 (default 8787; 0 picks a free one)
  --token TOKEN        API token accepted as Bearer (default dev-token)
  --account-id HEX32   the account (default 0123456789abcdef0123456789abcdef)
  --api-key KEY        a global API key accepted with --email (default none)
  --email EMAIL        the global key's email (default none)
  --state-file PATH    keep the emulated state in this JSON file (default: memory)
  --optional-properties "METHOD /route"
                       print the properties the contract marks optional in
                       that operation's answer (JSON pointers), and exit
  --version            print the version
  --help               print this text

Admin routes (no credentials):
  POST   /__admin/faults        latency, 429s, 5xx, dropped answers, scripted errors
  POST   /__admin/ratelimit     Cloudflare's request budget and Ratelimit header
  POST   /__admin/ai-search     token propagation, instance teardown, sync cooldown
  POST   /__admin/answers       {"mode": "extended"}: answer as a newer API would;
                                {"mode": "sparse"}: leave out what the contract marks optional;
                                {"mode": "omit", "operation": "GET /accounts/{account_id}/tokens",
                                 "property": "/result/*/name"}: leave out one property
  GET    /__admin/state         the emulated state
  GET    /__admin/counts        requests per route
  DELETE /__admin/tokens/{id}   delete a token out of band
  PATCH  /__admin/tokens/{id}   change a token out of band"#
);

fn main() -> ExitCode {
    let mut port = 8787u16;
    let mut config = EmulatorConfig {
        account_id: "0123456789abcdef0123456789abcdef".into(),
        other_accounts: Vec::new(),
        api_token: "dev-token".into(),
        api_key: None,
        state_file: None,
    };
    let (mut key, mut email) = (None, None);
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || args.next().ok_or_else(|| format!("{arg} needs a value"));
        let parsed = match arg.as_str() {
            "--port" => value().and_then(|v| {
                v.parse()
                    .map_err(|_| format!("bad port {v}"))
                    .map(|p| port = p)
            }),
            "--token" => value().map(|v| config.api_token = v),
            "--account-id" => value().map(|v| config.account_id = v),
            "--api-key" => value().map(|v| key = Some(v)),
            "--email" => value().map(|v| email = Some(v)),
            "--state-file" => value().map(|v| config.state_file = Some(PathBuf::from(v))),
            "-h" | "--help" => {
                println!("{HELP}");
                return ExitCode::SUCCESS;
            }
            "--optional-properties" => {
                // For the one-at-a-time sparse runs: one line per property
                // the contract marks optional in the operation's answer.
                let operation = match value() {
                    Ok(v) => v,
                    Err(e) => {
                        eprintln!("cfai-emulator: {e}");
                        return ExitCode::from(2);
                    }
                };
                for property in cfai::emulator::sparse::optional_properties(&operation) {
                    println!("{property}");
                }
                return ExitCode::SUCCESS;
            }
            "--version" | "-v" => {
                println!("cfai-emulator {}", env!("CARGO_PKG_VERSION"));
                return ExitCode::SUCCESS;
            }
            other => Err(format!("unknown argument {other}")),
        };
        if let Err(e) = parsed {
            eprintln!("{e}\n{USAGE}");
            return ExitCode::FAILURE;
        }
    }
    if !cfai::validation::is_account_id(&config.account_id) {
        eprintln!("--account-id must be 32 hexadecimal characters");
        return ExitCode::FAILURE;
    }
    config.api_key = key.zip(email);

    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(async move {
        let emulator = match Emulator::start(config, SocketAddr::from((Ipv4Addr::LOCALHOST, port))).await {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::AddrInUse => {
                eprintln!("cannot start the emulator: port {port} on 127.0.0.1 is already in use. Stop what holds it, or pass --port 0 to use any free port.");
                return ExitCode::FAILURE;
            }
            Err(e) => {
                eprintln!("cannot start the emulator: {e}");
                return ExitCode::FAILURE;
            }
        };
        println!("{}", emulator.base_url);
        eprintln!(
            "Cloudflare API emulator for account {} listening; set base_url (or CLOUDFLARE_BASE_URL) to the URL above. Ctrl-C stops it.",
            emulator.account_id()
        );
        let _ = tokio::signal::ctrl_c().await;
        ExitCode::SUCCESS
    })
}
