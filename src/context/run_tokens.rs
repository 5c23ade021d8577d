//! Tokens opened for one run (the ephemeral `cfai_account_api_token`),
//! remembered from the moment Cloudflare created them until Close deletes
//! them: a run that fails or is interrupted before Close still deletes them
//! when Terraform shuts the provider down. Their expiry (`ttl`) is only the
//! last resort, for a provider killed outright.

use std::collections::BTreeSet;
use std::sync::Mutex;

/// `(account, token id)` of every run token still open.
#[derive(Default)]
pub(crate) struct RunTokens {
    open: Mutex<BTreeSet<(String, String)>>,
}

impl RunTokens {
    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeSet<(String, String)>> {
        self.open.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub(crate) fn opened(&self, account: &str, id: &str) {
        self.lock().insert((account.to_string(), id.to_string()));
    }

    pub(crate) fn closed(&self, account: &str, id: &str) {
        self.lock().remove(&(account.to_string(), id.to_string()));
    }

    pub(crate) fn still_open(&self) -> Vec<(String, String)> {
        self.lock().iter().cloned().collect()
    }
}
