//! Tokens opened for one run (the ephemeral `cfai_account_api_token` and
//! `cfai_user_api_token`), remembered from the moment Cloudflare created
//! them until Close deletes them: a run that fails or is interrupted before
//! Close still deletes them when Terraform shuts the provider down. Their
//! expiry (`ttl`) is only the last resort, for a provider killed outright.

use std::collections::BTreeSet;
use std::sync::Mutex;

use crate::cloudflare::tokens::TokenOwner;

/// `(account, token id)` of every run token still open; the account is
/// `None` for a user-owned token.
type Open = BTreeSet<(Option<String>, String)>;

#[derive(Default)]
pub(crate) struct RunTokens {
    open: Mutex<Open>,
}

fn entry(owner: TokenOwner<'_>, id: &str) -> (Option<String>, String) {
    let account = match owner {
        TokenOwner::Account(account) => Some(account.to_string()),
        TokenOwner::User => None,
    };
    (account, id.to_string())
}

impl RunTokens {
    fn lock(&self) -> std::sync::MutexGuard<'_, Open> {
        self.open.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub(crate) fn opened(&self, owner: TokenOwner<'_>, id: &str) {
        self.lock().insert(entry(owner, id));
    }

    pub(crate) fn closed(&self, owner: TokenOwner<'_>, id: &str) {
        self.lock().remove(&entry(owner, id));
    }

    pub(crate) fn still_open(&self) -> Vec<(Option<String>, String)> {
        self.lock().iter().cloned().collect()
    }
}
