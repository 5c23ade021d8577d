//! AutoMTLS: a fresh server certificate per process, and a client verifier
//! that accepts exactly the certificate Terraform put in PLUGIN_CLIENT_CERT.
//!
//! Terraform's certificate is ECDSA P-521/SHA-512 with CA:TRUE, which
//! webpki refuses as an end-entity certificate, so stock verification cannot
//! work; optional client auth would let any local process in. We pin the
//! DER bytes and verify the handshake signature ourselves: ring (our crypto
//! provider, see `crate::crypto`) has no P-521, so that one scheme is
//! checked with RustCrypto's `p521`.

use std::sync::Arc;

use rustls::client::danger::HandshakeSignatureValid;
use rustls::crypto::{verify_tls12_signature, verify_tls13_signature, WebPkiSupportedAlgorithms};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{
    alg_id, AlgorithmIdentifier, CertificateDer, InvalidSignature, PrivateKeyDer,
    PrivatePkcs8KeyDer, SignatureVerificationAlgorithm, UnixTime,
};
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::{
    CertificateError, DigitallySignedStruct, DistinguishedName, ServerConfig, SignatureScheme,
};

use super::TransportError;

pub(crate) use crate::crypto::crypto_provider;

pub(crate) struct ServerIdentity {
    pub cert: CertificateDer<'static>,
    pub key: PrivateKeyDer<'static>,
}

/// The server's throw-away P-256 key, made with RustCrypto's `p256` (it
/// only signs the certificate; rustls signs the handshake with ring).
struct FastKey {
    key: p256::ecdsa::SigningKey,
    public: Vec<u8>,
}

impl rcgen::PublicKeyData for FastKey {
    fn der_bytes(&self) -> &[u8] {
        &self.public
    }

    fn algorithm(&self) -> &'static rcgen::SignatureAlgorithm {
        &rcgen::PKCS_ECDSA_P256_SHA256
    }
}

impl rcgen::SigningKey for FastKey {
    fn sign(&self, msg: &[u8]) -> Result<Vec<u8>, rcgen::Error> {
        use p256::ecdsa::signature::Signer;
        let signature: p256::ecdsa::Signature = self.key.sign(msg);
        Ok(signature.to_der().as_bytes().to_vec())
    }
}

fn fast_key() -> Result<FastKey, TransportError> {
    // A uniformly random scalar; the rare out-of-range draw is redrawn.
    for _ in 0..16 {
        let bytes: [u8; 32] = rand::random();
        if let Ok(key) = p256::ecdsa::SigningKey::from_bytes(&bytes.into()) {
            let public = key
                .verifying_key()
                .to_encoded_point(false)
                .as_bytes()
                .to_vec();
            return Ok(FastKey { key, public });
        }
    }
    Err(TransportError::Tls("could not draw a P-256 key".into()))
}

/// ECDSA P-256, CN and SAN `localhost`, serverAuth, valid from 30 s ago
/// (clock skew between us and Terraform is nil, but Go is strict).
pub(crate) fn generate_server_identity() -> Result<ServerIdentity, TransportError> {
    let tls =
        |e: rcgen::Error| TransportError::Tls(format!("generating the server certificate: {e}"));
    let key = fast_key()?;
    let mut params = rcgen::CertificateParams::new(vec!["localhost".to_string()]).map_err(tls)?;
    params.distinguished_name = rcgen::DistinguishedName::new();
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "localhost");
    params
        .distinguished_name
        .push(rcgen::DnType::OrganizationName, "terraform-provider-cfai");
    let now = time::OffsetDateTime::now_utc();
    params.not_before = now - time::Duration::seconds(30);
    params.not_after = now + time::Duration::days(30);
    // Positive, 16 random bytes (rcgen draws it only with its own crypto).
    let mut serial: [u8; 16] = rand::random();
    serial[0] &= 0x7f;
    params.serial_number = Some(rcgen::SerialNumber::from_slice(&serial));
    params.key_usages = vec![rcgen::KeyUsagePurpose::DigitalSignature];
    params.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ServerAuth];
    let cert = params.self_signed(&key).map_err(tls)?;
    let pkcs8 = {
        use p256::pkcs8::EncodePrivateKey;
        let secret = p256::SecretKey::from(key.key.as_nonzero_scalar());
        secret
            .to_pkcs8_der()
            .map_err(|e| TransportError::Tls(format!("encoding the server key: {e}")))?
    };
    Ok(ServerIdentity {
        cert: cert.der().clone(),
        key: PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(pkcs8.as_bytes().to_vec())),
    })
}

pub(crate) fn parse_pem_certificate(pem: &str) -> Result<CertificateDer<'static>, TransportError> {
    CertificateDer::from_pem_slice(pem.as_bytes()).map_err(|e| {
        TransportError::Tls(format!("PLUGIN_CLIENT_CERT is not a PEM certificate: {e}"))
    })
}

/// TLS 1.2+ with ALPN `h2` (grpc-go >= 1.67 insists on it) and mandatory,
/// pinned client authentication.
pub(crate) fn server_config(
    identity: &ServerIdentity,
    client_cert: CertificateDer<'static>,
) -> Result<ServerConfig, TransportError> {
    let provider = crypto_provider();
    let verifier = PinnedClientCert {
        expected: client_cert,
        algorithms: provider.signature_verification_algorithms,
    };
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
        .map_err(|e| TransportError::Tls(e.to_string()))?
        .with_client_cert_verifier(Arc::new(verifier))
        .with_single_cert(vec![identity.cert.clone()], identity.key.clone_key())
        .map_err(|e| TransportError::Tls(e.to_string()))?;
    config.alpn_protocols = vec![b"h2".to_vec()];
    Ok(config)
}

#[derive(Debug)]
pub(crate) struct PinnedClientCert {
    pub expected: CertificateDer<'static>,
    pub algorithms: WebPkiSupportedAlgorithms,
}

impl ClientCertVerifier for PinnedClientCert {
    fn offer_client_auth(&self) -> bool {
        true
    }

    fn client_auth_mandatory(&self) -> bool {
        true
    }

    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        &[]
    }

    fn verify_client_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _now: UnixTime,
    ) -> Result<ClientCertVerified, rustls::Error> {
        if end_entity.as_ref() == self.expected.as_ref() {
            Ok(ClientCertVerified::assertion())
        } else {
            Err(rustls::Error::InvalidCertificate(
                CertificateError::UnknownIssuer,
            ))
        }
    }

    // The signature proves the peer holds the pinned certificate's key.
    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(message, cert, dss, self.algorithms_for(dss.scheme))
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(message, cert, dss, self.algorithms_for(dss.scheme))
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        let mut schemes = self.algorithms.supported_schemes();
        schemes.extend(P521_ONLY.supported_schemes());
        schemes
    }
}

impl PinnedClientCert {
    fn algorithms_for(&self, scheme: SignatureScheme) -> &WebPkiSupportedAlgorithms {
        if scheme == SignatureScheme::ECDSA_NISTP521_SHA512 {
            &P521_ONLY
        } else {
            &self.algorithms
        }
    }
}

/// ECDSA P-521 with SHA-512, the scheme of Terraform's client certificate.
static P521_ONLY: WebPkiSupportedAlgorithms = WebPkiSupportedAlgorithms {
    all: &[&EcdsaP521Sha512],
    mapping: &[(SignatureScheme::ECDSA_NISTP521_SHA512, &[&EcdsaP521Sha512])],
};

#[derive(Debug)]
struct EcdsaP521Sha512;

impl SignatureVerificationAlgorithm for EcdsaP521Sha512 {
    fn verify_signature(
        &self,
        public_key: &[u8],
        message: &[u8],
        signature: &[u8],
    ) -> Result<(), InvalidSignature> {
        use p521::ecdsa::signature::Verifier;
        let key =
            p521::ecdsa::VerifyingKey::from_sec1_bytes(public_key).map_err(|_| InvalidSignature)?;
        let signature =
            p521::ecdsa::Signature::from_der(signature).map_err(|_| InvalidSignature)?;
        // p521's verifier hashes the message with SHA-512.
        key.verify(message, &signature)
            .map_err(|_| InvalidSignature)
    }

    fn public_key_alg_id(&self) -> AlgorithmIdentifier {
        alg_id::ECDSA_P521
    }

    fn signature_alg_id(&self) -> AlgorithmIdentifier {
        alg_id::ECDSA_SHA512
    }
}
