//! The go-plugin transport seen from a client: the handshake line, AutoMTLS
//! with a pinned client certificate, health, shutdown and debug mode.

mod support;

use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine;
use cfai::tfplugin::proto;
use cfai::transport::handshake::{MAGIC_COOKIE_KEY, MAGIC_COOKIE_VALUE};
use hyper_util::rt::TokioIo;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};
use support::PROVIDER_BIN;
use tonic::transport::{Channel, Endpoint};

/// A certificate like Terraform's: ECDSA P-521, SHA-512, CA:TRUE.
fn terraform_like_cert() -> (String, CertificateDer<'static>, PrivateKeyDer<'static>) {
    let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P521_SHA512).unwrap();
    let mut params = rcgen::CertificateParams::new(vec!["localhost".to_string()]).unwrap();
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "localhost");
    params
        .distinguished_name
        .push(rcgen::DnType::OrganizationName, "HashiCorp");
    params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    params.key_usages = vec![
        rcgen::KeyUsagePurpose::DigitalSignature,
        rcgen::KeyUsagePurpose::KeyEncipherment,
        rcgen::KeyUsagePurpose::KeyAgreement,
        rcgen::KeyUsagePurpose::KeyCertSign,
    ];
    params.extended_key_usages = vec![
        rcgen::ExtendedKeyUsagePurpose::ClientAuth,
        rcgen::ExtendedKeyUsagePurpose::ServerAuth,
    ];
    let cert = params.self_signed(&key).unwrap();
    (
        cert.pem(),
        cert.der().clone(),
        PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der())),
    )
}

struct Plugin {
    child: Child,
    addr: String,
    server_cert: Option<CertificateDer<'static>>,
    /// Everything printed on stdout after the handshake line.
    rest_of_stdout: Option<std::thread::JoinHandle<String>>,
}

impl Plugin {
    /// Stops the plugin and checks it never wrote past the handshake line.
    fn assert_stdout_was_only_the_handshake(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let rest = self.rest_of_stdout.take().unwrap().join().unwrap();
        assert!(
            rest.is_empty(),
            "the provider wrote more to stdout: {rest:?}"
        );
    }
}

impl Drop for Plugin {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_plugin(client_cert_pem: Option<&str>) -> Plugin {
    let mut cmd = Command::new(PROVIDER_BIN);
    cmd.env(MAGIC_COOKIE_KEY, MAGIC_COOKIE_VALUE)
        .env("PLUGIN_PROTOCOL_VERSIONS", "5,6")
        .env("PLUGIN_MIN_PORT", "10000")
        .env("PLUGIN_MAX_PORT", "25000")
        .env_remove("PLUGIN_CLIENT_CERT")
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    if let Some(pem) = client_cert_pem {
        cmd.env("PLUGIN_CLIENT_CERT", pem);
    }
    let mut child = cmd.spawn().expect("start provider");
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    stdout.read_line(&mut line).expect("handshake line");
    // Nothing else may ever come on stdout: collected for the tests to check.
    let rest_of_stdout = std::thread::spawn(move || {
        let mut rest = String::new();
        let _ = stdout.read_to_string(&mut rest);
        rest
    });
    let parts: Vec<&str> = line.trim_end().split('|').collect();
    assert_eq!(parts.len(), 6, "handshake {line:?}");
    assert_eq!(&parts[..3], &["1", "6", "tcp"], "handshake {line:?}");
    assert_eq!(parts[4], "grpc");
    let port: u16 = parts[3]
        .strip_prefix("127.0.0.1:")
        .expect("loopback address")
        .parse()
        .unwrap();
    assert!(
        (10000..=25000).contains(&port),
        "port {port} outside PLUGIN_MIN_PORT..PLUGIN_MAX_PORT"
    );
    let server_cert = (!parts[5].is_empty()).then(|| {
        assert!(
            !parts[5].ends_with('='),
            "certificate must be base64 without padding"
        );
        CertificateDer::from(
            base64::engine::general_purpose::STANDARD_NO_PAD
                .decode(parts[5])
                .unwrap(),
        )
    });
    Plugin {
        child,
        addr: parts[3].to_string(),
        server_cert,
        rest_of_stdout: Some(rest_of_stdout),
    }
}

/// Trusts exactly the server certificate from the handshake, as go-plugin does.
#[derive(Debug)]
struct PinnedServer(CertificateDer<'static>);

impl ServerCertVerifier for PinnedServer {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        _: &[u8],
        _: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        assert_eq!(server_name.to_str(), "localhost");
        if end_entity.as_ref() == self.0.as_ref() {
            Ok(ServerCertVerified::assertion())
        } else {
            Err(rustls::Error::General(
                "unexpected server certificate".into(),
            ))
        }
    }
    fn verify_tls12_signature(
        &self,
        m: &[u8],
        c: &CertificateDer<'_>,
        d: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            m,
            c,
            d,
            &rustls::crypto::aws_lc_rs::default_provider().signature_verification_algorithms,
        )
    }
    fn verify_tls13_signature(
        &self,
        m: &[u8],
        c: &CertificateDer<'_>,
        d: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            m,
            c,
            d,
            &rustls::crypto::aws_lc_rs::default_provider().signature_verification_algorithms,
        )
    }
    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        rustls::crypto::aws_lc_rs::default_provider()
            .signature_verification_algorithms
            .supported_schemes()
    }
}

/// Presents a certificate with whatever key it is given, matching or not
/// (rustls' own builder refuses a mismatch before the server can).
#[derive(Debug)]
struct AnyPair(Arc<rustls::sign::CertifiedKey>);

impl rustls::client::ResolvesClientCert for AnyPair {
    fn resolve(
        &self,
        _hints: &[&[u8]],
        _schemes: &[SignatureScheme],
    ) -> Option<Arc<rustls::sign::CertifiedKey>> {
        Some(self.0.clone())
    }

    fn has_certs(&self) -> bool {
        true
    }
}

async fn tls_channel(
    plugin: &Plugin,
    identity: Option<(CertificateDer<'static>, PrivateKeyDer<'static>)>,
) -> Result<Channel, String> {
    tls_channel_with(plugin, identity, rustls::DEFAULT_VERSIONS).await
}

async fn tls_channel_with(
    plugin: &Plugin,
    identity: Option<(CertificateDer<'static>, PrivateKeyDer<'static>)>,
    versions: &[&'static rustls::SupportedProtocolVersion],
) -> Result<Channel, String> {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_protocol_versions(versions)
        .unwrap()
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(PinnedServer(
            plugin.server_cert.clone().expect("TLS handshake"),
        )));
    let mut config = match identity {
        Some((cert, key)) => {
            let key = provider.key_provider.load_private_key(key).unwrap();
            builder.with_client_cert_resolver(Arc::new(AnyPair(Arc::new(
                rustls::sign::CertifiedKey::new(vec![cert], key),
            ))))
        }
        None => builder.with_no_client_auth(),
    };
    config.alpn_protocols = vec![b"h2".to_vec()];
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    let addr = plugin.addr.clone();
    let channel = Endpoint::from_static("http://localhost")
        .connect_with_connector(tower::service_fn(move |_| {
            let (connector, addr) = (connector.clone(), addr.clone());
            async move {
                let tcp = tokio::net::TcpStream::connect(addr).await?;
                let tls = connector
                    .connect(ServerName::try_from("localhost").unwrap(), tcp)
                    .await?;
                assert_eq!(
                    tls.get_ref().1.alpn_protocol(),
                    Some(&b"h2"[..]),
                    "ALPN h2 must be negotiated"
                );
                Ok::<_, std::io::Error>(TokioIo::new(tls))
            }
        }))
        .await
        .map_err(|e| format!("{e:?}"))?;
    Ok(channel)
}

async fn get_schema(
    channel: Channel,
) -> Result<proto::get_provider_schema::Response, tonic::Status> {
    let mut client =
        proto::provider_client::ProviderClient::new(channel).max_decoding_message_size(64 << 20);
    client
        .get_provider_schema(proto::get_provider_schema::Request {})
        .await
        .map(|r| r.into_inner())
}

#[tokio::test]
async fn pinned_client_certificate_is_required() {
    let (pem, der, key) = terraform_like_cert();
    let plugin = start_plugin(Some(&pem));

    // The certificate Terraform announced: accepted, and the provider answers.
    let channel = tls_channel(&plugin, Some((der.clone(), key.clone_key())))
        .await
        .expect("connect with the pinned certificate");
    let schema = get_schema(channel.clone())
        .await
        .expect("GetProviderSchema over mTLS");
    assert!(schema.provider.is_some());
    assert!(schema.server_capabilities.unwrap().plan_destroy);

    let mut health = tonic_health::pb::health_client::HealthClient::new(channel.clone());
    let status = health
        .check(tonic_health::pb::HealthCheckRequest {
            service: "plugin".into(),
        })
        .await
        .expect("health check")
        .into_inner();
    assert_eq!(
        status.status,
        tonic_health::pb::health_check_response::ServingStatus::Serving as i32
    );

    // TLS 1.2 (go-plugin allows it): the P-521 signature is checked there too.
    let channel = tls_channel_with(
        &plugin,
        Some((der.clone(), key)),
        &[&rustls::version::TLS12],
    )
    .await
    .expect("connect over TLS 1.2 with the pinned certificate");
    get_schema(channel)
        .await
        .expect("GetProviderSchema over TLS 1.2");

    // No certificate: refused.
    let refused = match tls_channel(&plugin, None).await {
        Err(_) => true,
        Ok(channel) => get_schema(channel).await.is_err(),
    };
    assert!(refused, "a client without a certificate must be refused");

    // Another certificate of the same kind: refused.
    let (_, other_der, other_key) = terraform_like_cert();
    let refused = match tls_channel(&plugin, Some((other_der, other_key))).await {
        Err(_) => true,
        Ok(channel) => get_schema(channel).await.is_err(),
    };
    assert!(refused, "a client with another certificate must be refused");

    // The pinned certificate without its key (the handshake signature is
    // made with another P-521 key): refused, in TLS 1.3 and 1.2.
    for versions in [
        &[&rustls::version::TLS13][..],
        &[&rustls::version::TLS12][..],
    ] {
        let (_, _, stranger_key) = terraform_like_cert();
        let refused =
            match tls_channel_with(&plugin, Some((der.clone(), stranger_key)), versions).await {
                Err(_) => true,
                Ok(channel) => get_schema(channel).await.is_err(),
            };
        assert!(
            refused,
            "the pinned certificate signed with another key must be refused ({versions:?})"
        );
    }
    plugin.assert_stdout_was_only_the_handshake();
}

#[tokio::test]
async fn shutdown_exits_promptly() {
    let (pem, der, key) = terraform_like_cert();
    let mut plugin = start_plugin(Some(&pem));
    let channel = tls_channel(&plugin, Some((der, key))).await.unwrap();
    let mut controller = proto::plugin::grpc_controller_client::GrpcControllerClient::new(channel);
    let started = Instant::now();
    controller
        .shutdown(proto::plugin::Empty {})
        .await
        .expect("Shutdown");
    drop(controller);
    loop {
        if let Some(status) = plugin.child.try_wait().unwrap() {
            assert!(status.success(), "exit status {status}");
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "still running 2 s after Shutdown: Terraform would SIGKILL it"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    plugin.assert_stdout_was_only_the_handshake();
}

#[tokio::test]
async fn plaintext_without_client_cert() {
    let plugin = start_plugin(None);
    assert!(plugin.server_cert.is_none());
    let channel = Endpoint::from_shared(format!("http://{}", plugin.addr))
        .unwrap()
        .connect()
        .await
        .unwrap();
    let schema = get_schema(channel).await.unwrap();
    let mut functions: Vec<_> = schema.functions.keys().cloned().collect();
    functions.sort();
    assert_eq!(
        functions,
        [
            "r2_bucket_resource",
            "r2_s3_endpoint",
            "s3_secret_access_key"
        ]
    );
}

#[test]
fn refuses_to_run_without_terraform() {
    let out = Command::new(PROVIDER_BIN)
        .env_remove(MAGIC_COOKIE_KEY)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty(), "nothing on stdout");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("Terraform plugin") && err.contains("run it through terraform"),
        "{err}"
    );
}

#[test]
fn refuses_a_protocol_it_does_not_speak() {
    let out = Command::new(PROVIDER_BIN)
        .env(MAGIC_COOKIE_KEY, MAGIC_COOKIE_VALUE)
        .env("PLUGIN_PROTOCOL_VERSIONS", "4,5")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    assert!(String::from_utf8_lossy(&out.stderr).contains("protocol 6"));
}

#[test]
fn debug_mode_prints_reattach_and_terraform_uses_it() {
    let mut child = Command::new(PROVIDER_BIN)
        .arg("--debug")
        .env_remove(MAGIC_COOKIE_KEY)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut reattach = None;
    for _ in 0..10 {
        let mut line = String::new();
        stdout.read_line(&mut line).unwrap();
        if let Some(rest) = line.trim().strip_prefix("TF_REATTACH_PROVIDERS='") {
            reattach = Some(rest.trim_end_matches('\'').to_string());
            break;
        }
    }
    let reattach = reattach.expect("a TF_REATTACH_PROVIDERS line");
    let json: serde_json::Value = serde_json::from_str(&reattach).unwrap();
    let entry = &json["registry.terraform.io/seed/cfai"];
    assert_eq!(entry["ProtocolVersion"], 6);
    assert_eq!(entry["Test"], true);
    assert_eq!(entry["Addr"]["Network"], "tcp");

    if let Some(tf) = support::require_terraform() {
        let ws = support::Workspace::new(tf);
        ws.write(&format!(
            "{}\noutput \"e\" {{\n  value = provider::cfai::r2_s3_endpoint(\"{}\", \"us\")\n}}\n",
            support::PROVIDER_HEADER,
            support::ACCOUNT
        ));
        let run = ws.run_with(
            &["plan", "-no-color"],
            None,
            &[("TF_REATTACH_PROVIDERS", &reattach)],
        );
        assert!(run.ok, "{}", run.all());
        assert!(
            run.stdout.contains(".us.r2.cloudflarestorage.com"),
            "{}",
            run.all()
        );
    }
    let _ = child.kill();
    let _ = child.wait();
}

fn msgpack(value: &cfai::cty::Value, ty: &cfai::cty::Type) -> proto::DynamicValue {
    proto::DynamicValue {
        msgpack: cfai::cty::msgpack::encode(value, ty).unwrap(),
        json: Vec::new(),
    }
}

fn nulls(ty: &cfai::cty::Type) -> cfai::cty::Value {
    match ty {
        cfai::cty::Type::Object(attrs) => {
            cfai::cty::Value::object(attrs.keys().map(|k| (k.clone(), cfai::cty::Value::Null)))
        }
        _ => cfai::cty::Value::Null,
    }
}

#[tokio::test]
async fn every_rpc_answers_and_stop_provider_cancels_in_flight_calls() {
    use cfai::cty::Value;
    use cfai::framework::{DataSource, ProviderDef};

    let emu = support::start_emulator().await;
    emu.set_faults(cfai::emulator::FaultConfig {
        latency_ms: 5_000,
        ..Default::default()
    });
    let plugin = start_plugin(None);
    let channel = Endpoint::from_shared(format!("http://{}", plugin.addr))
        .unwrap()
        .connect()
        .await
        .unwrap();
    let mut client = proto::provider_client::ProviderClient::new(channel);

    let provider_ty = cfai::provider::CfaiProvider.schema().cty_type();
    let mut config = nulls(&provider_ty);
    config.set("api_token", Value::string(support::API_TOKEN));
    config.set("account_id", Value::string(support::ACCOUNT));
    config.set("base_url", Value::string(&emu.base_url));
    let configured = client
        .configure_provider(proto::configure_provider::Request {
            terraform_version: "1.11.4".into(),
            config: Some(msgpack(&config, &provider_ty)),
            client_capabilities: None,
        })
        .await
        .unwrap()
        .into_inner();
    assert!(
        configured.diagnostics.is_empty(),
        "{:?}",
        configured.diagnostics
    );

    // No RPC Terraform may call answers Unimplemented; unsupported ones are diagnostics.
    client
        .get_metadata(proto::get_metadata::Request {})
        .await
        .unwrap();
    assert_eq!(
        client
            .get_functions(proto::get_functions::Request {})
            .await
            .unwrap()
            .into_inner()
            .functions
            .len(),
        3
    );
    let eph = client
        .validate_ephemeral_resource_config(proto::validate_ephemeral_resource_config::Request {
            type_name: "cfai_nothing".into(),
            config: None,
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(eph.diagnostics.len(), 1);
    for diags in [
        client
            .open_ephemeral_resource(proto::open_ephemeral_resource::Request {
                type_name: "x".into(),
                config: None,
                client_capabilities: None,
            })
            .await
            .unwrap()
            .into_inner()
            .diagnostics,
        client
            .renew_ephemeral_resource(proto::renew_ephemeral_resource::Request {
                type_name: "x".into(),
                private: None,
            })
            .await
            .unwrap()
            .into_inner()
            .diagnostics,
        client
            .close_ephemeral_resource(proto::close_ephemeral_resource::Request {
                type_name: "x".into(),
                private: None,
            })
            .await
            .unwrap()
            .into_inner()
            .diagnostics,
        client
            .move_resource_state(proto::move_resource_state::Request {
                source_type_name: "random_string".into(),
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner()
            .diagnostics,
    ] {
        assert_eq!(diags.len(), 1);
        assert_eq!(diags[0].severity, proto::diagnostic::Severity::Error as i32);
    }
    // UpgradeResourceState reads JSON state written by the same schema.
    let upgraded = client
        .upgrade_resource_state(proto::upgrade_resource_state::Request {
            type_name: "cfai_account_api_token".into(),
            version: 0,
            raw_state: Some(proto::RawState {
                json: br#"{"id":"abc","name":"n","removed_attribute":1}"#.to_vec(),
                flatmap: Default::default(),
            }),
        })
        .await
        .unwrap()
        .into_inner();
    assert!(
        upgraded.diagnostics.is_empty(),
        "{:?}",
        upgraded.diagnostics
    );
    let token_ty = cfai::resources::api_token::ApiToken::ACCOUNT.schema_type();
    let state =
        cfai::cty::msgpack::decode(&upgraded.upgraded_state.unwrap().msgpack, &token_ty).unwrap();
    assert_eq!(state.get("name").as_str(), Some("n"));

    // A data source read stuck on a slow API is cancelled by StopProvider.
    let ds_ty = cfai::resources::permission_groups_data::PermissionGroups
        .schema()
        .cty_type();
    let mut reader = client.clone();
    let config = msgpack(&nulls(&ds_ty), &ds_ty);
    let read = tokio::spawn(async move {
        let started = std::time::Instant::now();
        let response = reader
            .read_data_source(proto::read_data_source::Request {
                type_name: "cfai_permission_groups".into(),
                config: Some(config),
                provider_meta: None,
                client_capabilities: None,
            })
            .await
            .unwrap()
            .into_inner();
        (response, started.elapsed())
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    client
        .stop_provider(proto::stop_provider::Request {})
        .await
        .unwrap();
    let (response, took) = read.await.unwrap();
    assert!(
        took < Duration::from_secs(3),
        "the read was not cancelled ({took:?})"
    );
    // Cancelled by the server's own stop, or by the client abandoning the
    // in-flight GET: either says so.
    assert!(
        response
            .diagnostics
            .iter()
            .any(|d| d.summary == "Operation cancelled" || d.detail.contains("cancelled")),
        "{:?}",
        response.diagnostics
    );
}
