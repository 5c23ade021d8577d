//! The one rustls crypto provider, for the plugin's mTLS listener and the
//! API client alike (neither layer reaches into the other for it).
//!
//! ring, not aws-lc: aws-lc's first operation in a process costs ~23 ms of
//! library initialisation, paid by every plugin start (Terraform starts
//! several per command) on the first TLS handshake. ring lacks P-521, which
//! only Terraform's client certificate uses; the listener verifies that one
//! signature with RustCrypto's `p521` (see `transport::tls`).

use std::sync::Arc;

use rustls::crypto::CryptoProvider;

pub(crate) fn crypto_provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}
