//! The one rustls crypto provider, for the plugin's mTLS listener and the
//! API client alike (neither layer reaches into the other for it).

use std::sync::Arc;

use rustls::crypto::CryptoProvider;

pub(crate) fn crypto_provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::aws_lc_rs::default_provider())
}
