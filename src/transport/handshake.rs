//! What go-plugin's client (Terraform) tells us through the environment,
//! and the one line we answer on stdout.

use std::env;
use std::io::Write;
use std::net::SocketAddr;

use super::TransportError;

pub const MAGIC_COOKIE_KEY: &str = "TF_PLUGIN_MAGIC_COOKIE";
pub const MAGIC_COOKIE_VALUE: &str =
    "d602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2";
pub const PROTOCOL_VERSION: u32 = 6;
const CORE_PROTOCOL_VERSION: u32 = 1;

#[derive(Debug, Clone)]
pub struct PluginEnv {
    pub min_port: u16,
    pub max_port: u16,
    /// PEM of Terraform's client certificate: present means AutoMTLS.
    pub client_cert_pem: Option<String>,
}

impl PluginEnv {
    pub fn from_env() -> Result<Self, TransportError> {
        if env::var(MAGIC_COOKIE_KEY).ok().as_deref() != Some(MAGIC_COOKIE_VALUE) {
            return Err(TransportError::NotLaunchedByTerraform);
        }
        // The order is random ("5,6" or "6,5"): look for 6, nothing else.
        if let Ok(offered) = env::var("PLUGIN_PROTOCOL_VERSIONS") {
            let offers_six = offered
                .split(',')
                .any(|v| v.trim().parse::<u32>() == Ok(PROTOCOL_VERSION));
            if !offered.trim().is_empty() && !offers_six {
                return Err(TransportError::ProtocolMismatch(offered));
            }
        }
        let port = |name: &str| -> Result<u16, TransportError> {
            match env::var(name) {
                Ok(v) if !v.trim().is_empty() => v.trim().parse().map_err(|_| {
                    TransportError::BadEnvironment(format!("{name}={v} is not a port"))
                }),
                _ => Ok(0),
            }
        };
        let (min_port, max_port) = (port("PLUGIN_MIN_PORT")?, port("PLUGIN_MAX_PORT")?);
        if min_port > max_port && max_port != 0 {
            return Err(TransportError::BadEnvironment(format!(
                "PLUGIN_MIN_PORT {min_port} > PLUGIN_MAX_PORT {max_port}"
            )));
        }
        let client_cert_pem = env::var("PLUGIN_CLIENT_CERT")
            .ok()
            .filter(|pem| !pem.trim().is_empty());
        Ok(PluginEnv {
            min_port,
            max_port,
            client_cert_pem,
        })
    }
}

/// `1|6|tcp|127.0.0.1:PORT|grpc|CERT`, the only thing we ever print on stdout.
pub(crate) fn handshake_line(addr: SocketAddr, server_cert_b64: &str) -> String {
    format!("{CORE_PROTOCOL_VERSION}|{PROTOCOL_VERSION}|tcp|{addr}|grpc|{server_cert_b64}")
}

pub(crate) fn announce(line: &str) -> Result<(), TransportError> {
    let mut out = std::io::stdout().lock();
    writeln!(out, "{line}")
        .and_then(|_| out.flush())
        .map_err(TransportError::Io)
}

/// The value to export as `TF_REATTACH_PROVIDERS` for `--debug` mode.
/// Protocol-6 entries need `"Test": true` or Terraform 1.11 panics.
pub(crate) fn reattach_json(provider_address: &str, addr: SocketAddr) -> String {
    serde_json::json!({
        provider_address: {
            "Protocol": "grpc",
            "ProtocolVersion": PROTOCOL_VERSION,
            "Pid": std::process::id(),
            "Test": true,
            "Addr": {"Network": "tcp", "String": addr.to_string()},
        }
    })
    .to_string()
}
