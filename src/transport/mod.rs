//! go-plugin transport: the handshake with Terraform, AutoMTLS, and the
//! side services (health, controller) around the tfplugin6 service.

mod conn;
pub mod handshake;
mod timing;
pub mod tls;

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use tokio::net::TcpListener;
use tokio::sync::{mpsc, Notify};
use tokio_rustls::TlsAcceptor;
use tokio_stream::wrappers::ReceiverStream;
use tonic::transport::Server;
use tracing::{debug, info, warn};

use crate::framework::ProviderDef;
use crate::tfplugin::proto::plugin::grpc_controller_server::{
    GrpcController, GrpcControllerServer,
};
use crate::tfplugin::proto::plugin::Empty;
use crate::tfplugin::proto::provider_server::ProviderServer as GrpcProviderServer;
use crate::tfplugin::{ProviderServer, MAX_MESSAGE_SIZE};
use conn::PluginConn;
use handshake::PluginEnv;

#[derive(Debug, thiserror::Error)]
pub enum TransportError {
    #[error(
        "This binary is a Terraform plugin (the cfai provider). It is not meant to be run directly: \
         run it through terraform, which starts it as needed. (Use --debug to run it for TF_REATTACH_PROVIDERS.)"
    )]
    NotLaunchedByTerraform,
    #[error("Terraform offered plugin protocol versions {0:?}, but this provider speaks only protocol 6 (Terraform >= 1.0).")]
    ProtocolMismatch(String),
    #[error("invalid plugin environment: {0}")]
    BadEnvironment(String),
    #[error("no free port between {0} and {1} on 127.0.0.1")]
    NoPort(u16, u16),
    #[error("TLS setup failed: {0}")]
    Tls(String),
    #[error("I/O error: {0}")]
    Io(#[from] std::io::Error),
    #[error("gRPC server failed: {0}")]
    Grpc(#[from] tonic::transport::Error),
}

/// How the process was started.
pub enum Mode {
    /// By Terraform, per go-plugin's environment.
    Managed(PluginEnv),
    /// `--debug`: plaintext, printing `TF_REATTACH_PROVIDERS`, until Ctrl-C.
    Debug { provider_address: String },
}

/// `GRPCController/Shutdown`: Terraform kills us 2 s later if we linger.
struct Controller {
    shutdown: Arc<Notify>,
}

#[tonic::async_trait]
impl GrpcController for Controller {
    async fn shutdown(
        &self,
        _: tonic::Request<Empty>,
    ) -> Result<tonic::Response<Empty>, tonic::Status> {
        info!("shutdown requested by Terraform");
        self.shutdown.notify_one();
        Ok(tonic::Response::new(Empty {}))
    }
}

async fn bind(min: u16, max: u16) -> Result<TcpListener, TransportError> {
    if min == 0 && max == 0 {
        return Ok(TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await?);
    }
    let max = if max == 0 { u16::MAX } else { max };
    for port in min.max(1)..=max {
        if let Ok(listener) = TcpListener::bind((Ipv4Addr::LOCALHOST, port)).await {
            return Ok(listener);
        }
    }
    Err(TransportError::NoPort(min, max))
}

/// Waits between failed accepts, doubling up to the maximum.
const ACCEPT_PAUSE_MIN: Duration = Duration::from_millis(10);
const ACCEPT_PAUSE_MAX: Duration = Duration::from_secs(1);

/// The pause after each failed accept (e.g. out of file descriptors):
/// retrying at once would spin a core and flood the log.
struct AcceptBackoff {
    pause: Duration,
}

impl AcceptBackoff {
    fn new() -> Self {
        AcceptBackoff {
            pause: ACCEPT_PAUSE_MIN,
        }
    }

    fn succeeded(&mut self) {
        self.pause = ACCEPT_PAUSE_MIN;
    }

    async fn failed(&mut self, error: &std::io::Error) {
        warn!(%error, pause_ms = self.pause.as_millis() as u64, "accept failed");
        tokio::time::sleep(self.pause).await;
        self.pause = (self.pause * 2).min(ACCEPT_PAUSE_MAX);
    }
}

/// Accepts connections and finishes TLS handshakes off the accept loop, so
/// a stalled client cannot block the others.
fn accept_loop(
    listener: TcpListener,
    acceptor: Option<TlsAcceptor>,
) -> ReceiverStream<Result<PluginConn, std::io::Error>> {
    let (tx, rx) = mpsc::channel(16);
    tokio::spawn(async move {
        let mut backoff = AcceptBackoff::new();
        loop {
            let (stream, peer) = match listener.accept().await {
                Ok(pair) => {
                    backoff.succeeded();
                    pair
                }
                Err(e) => {
                    backoff.failed(&e).await;
                    continue;
                }
            };
            let _ = stream.set_nodelay(true);
            let tx = tx.clone();
            match acceptor.clone() {
                None => {
                    if tx.send(Ok(PluginConn::Plain(stream))).await.is_err() {
                        return;
                    }
                }
                Some(acceptor) => {
                    tokio::spawn(async move {
                        match acceptor.accept(stream).await {
                            Ok(tls) => {
                                let _ = tx.send(Ok(PluginConn::Tls(Box::new(tls)))).await;
                            }
                            Err(e) => warn!(%peer, error = %e, "refused a TLS client"),
                        }
                    });
                }
            }
        }
    });
    ReceiverStream::new(rx)
}

/// Serves the provider until Terraform asks us to shut down.
pub async fn serve<P: ProviderDef>(provider: P, mode: Mode) -> Result<(), TransportError> {
    let shutdown = Arc::new(Notify::new());
    let provider_server = ProviderServer::new(provider);
    let stop = provider_server.stop_token();
    let last_cleanup = provider_server.shutdown_hook();

    let (listener, acceptor, cert_b64) = match &mode {
        Mode::Managed(env) => {
            let listener = bind(env.min_port, env.max_port).await?;
            match &env.client_cert_pem {
                Some(pem) => {
                    let client_cert = tls::parse_pem_certificate(pem)?;
                    let identity = tls::generate_server_identity()?;
                    // go-plugin wants the DER as base64 *without* padding.
                    let b64 = base64::engine::general_purpose::STANDARD_NO_PAD
                        .encode(identity.cert.as_ref());
                    let config = tls::server_config(&identity, client_cert)?;
                    (listener, Some(TlsAcceptor::from(Arc::new(config))), b64)
                }
                None => (listener, None, String::new()),
            }
        }
        Mode::Debug { .. } => (
            TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await?,
            None,
            String::new(),
        ),
    };
    let addr: SocketAddr = listener.local_addr()?;

    let (health_reporter, health_service) = tonic_health::server::health_reporter();
    health_reporter
        .set_service_status("plugin", tonic_health::ServingStatus::Serving)
        .await;

    let grpc_provider = GrpcProviderServer::new(provider_server)
        .max_decoding_message_size(MAX_MESSAGE_SIZE)
        .max_encoding_message_size(MAX_MESSAGE_SIZE);
    let controller = GrpcControllerServer::new(Controller {
        shutdown: shutdown.clone(),
    });

    let incoming = accept_loop(listener, acceptor);
    // Only now that the socket is listening may Terraform be told where it is.
    match &mode {
        Mode::Managed(_) => handshake::announce(&handshake::handshake_line(addr, &cert_b64))?,
        Mode::Debug { provider_address } => {
            let json = handshake::reattach_json(provider_address, addr);
            handshake::announce(&format!(
                "Provider started. To attach Terraform CLI, set the TF_REATTACH_PROVIDERS environment variable with the following:\n\n\tTF_REATTACH_PROVIDERS='{json}'\n"
            ))?;
        }
    }
    info!(%addr, tls = !cert_b64.is_empty(), "serving the cfai provider");

    let debug_mode = matches!(mode, Mode::Debug { .. });
    let signal = {
        let shutdown = shutdown.clone();
        async move {
            if debug_mode {
                tokio::select! {
                    _ = shutdown.notified() => {}
                    _ = tokio::signal::ctrl_c() => {}
                }
            } else {
                shutdown.notified().await;
            }
            stop.cancel();
            // What must not outlive the run (tokens opened for it) goes
            // first, within Terraform's 2-second grace.
            if tokio::time::timeout(Duration::from_millis(1200), last_cleanup.run())
                .await
                .is_err()
            {
                warn!("the provider's clean-up at shutdown did not finish in time");
            }
            // In-flight calls get a moment to answer; then we go, well
            // before Terraform's 2-second kill.
            tokio::spawn(async {
                tokio::time::sleep(Duration::from_millis(500)).await;
                debug!("exiting after the shutdown grace period");
                std::process::exit(0);
            });
        }
    };
    Server::builder()
        .layer(timing::RpcTiming)
        .add_service(health_service)
        .add_service(controller)
        .add_service(grpc_provider)
        .serve_with_incoming_shutdown(incoming, signal)
        .await?;
    Ok(())
}

/// The whole life of a plugin process: a tokio runtime, serving until
/// Terraform asks us to stop. The error is what to print before exiting.
pub fn run<P: ProviderDef>(provider: P, mode: Mode) -> Result<(), String> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the async runtime: {e}"))?;
    let managed = matches!(mode, Mode::Managed(_));
    runtime
        .block_on(async move {
            if managed {
                ignore_interrupts();
            }
            serve(provider, mode).await
        })
        .map_err(|e| e.to_string())
}

/// Ctrl-C in the terminal must reach Terraform only; it calls StopProvider.
pub fn ignore_interrupts() {
    tokio::spawn(async {
        while tokio::signal::ctrl_c().await.is_ok() {
            debug!("ignoring SIGINT; Terraform will call StopProvider");
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn failed_accepts_back_off_doubling_to_a_second() {
        let error = std::io::Error::other("too many open files");
        let mut backoff = AcceptBackoff::new();
        let started = tokio::time::Instant::now();
        for _ in 0..5 {
            backoff.failed(&error).await;
        }
        // 10 + 20 + 40 + 80 + 160 ms, not a spin.
        assert_eq!(started.elapsed(), Duration::from_millis(310));
        for _ in 0..5 {
            backoff.failed(&error).await;
        }
        // 320, 640, then capped: 1000, 1000, 1000.
        assert_eq!(
            started.elapsed(),
            Duration::from_millis(310 + 320 + 640 + 3000)
        );
        backoff.succeeded();
        let again = tokio::time::Instant::now();
        backoff.failed(&error).await;
        assert_eq!(again.elapsed(), ACCEPT_PAUSE_MIN);
    }
}
