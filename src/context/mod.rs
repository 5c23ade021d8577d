//! The context every resource and data source receives once the provider
//! block is configured: the API client, the default account, and caches
//! shared by all resources of one provider process. It sits below both the
//! provider (which builds it) and the resources (which use it).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tokio::sync::OnceCell;
use tracing::debug;

mod listing;
mod run_tokens;

use listing::{ListingCache, Primed};
use run_tokens::RunTokens;

use crate::cloudflare::models::{AiSearchToken, Instance, Namespace, PermissionGroup, Token};
use crate::cloudflare::tokens::TokenOwner;
use crate::cloudflare::{ApiError, Client, ErrorKind};
use crate::cty::Value;
use crate::framework::{AttrPath, Diagnostic};

type GroupCell = Arc<OnceCell<Arc<Vec<PermissionGroup>>>>;

/// One listing of a kind of object, by id, shared by the reads it answers.
pub type Listing<T> = Result<Arc<HashMap<String, T>>, ApiError>;

/// What every resource receives once the provider block is configured.
pub struct Configured {
    client: Client,
    /// The provider's `account_id`, for resources that leave theirs unset.
    default_account: Option<String>,
    /// Permission groups per token owner, fetched at most once per process.
    groups: Mutex<HashMap<String, GroupCell>>,
    tokens: ListingCache<Token>,
    ai_tokens: ListingCache<AiSearchToken>,
    instances: ListingCache<Instance>,
    namespaces: ListingCache<Namespace>,
    primed_tokens: Primed<Token>,
    primed_ai_tokens: Primed<AiSearchToken>,
    primed_instances: Primed<Instance>,
    run_tokens: RunTokens,
}

impl Configured {
    pub fn new(client: Client, default_account: Option<String>) -> Self {
        Configured {
            client,
            default_account,
            groups: Mutex::new(HashMap::new()),
            tokens: ListingCache::default(),
            ai_tokens: ListingCache::default(),
            instances: ListingCache::default(),
            namespaces: ListingCache::default(),
            primed_tokens: Primed::default(),
            primed_ai_tokens: Primed::default(),
            primed_instances: Primed::default(),
            run_tokens: RunTokens::default(),
        }
    }

    /// Run tokens opened by this process and not closed yet.
    pub(crate) fn run_tokens(&self) -> &RunTokens {
        &self.run_tokens
    }

    /// Deletes every run token still open (Terraform is shutting the
    /// provider down, so Close will not come for them); returns what could
    /// not be deleted, with why.
    pub async fn close_run_tokens(&self) -> Vec<String> {
        let client = self.client.detached();
        let mut failed = Vec::new();
        for (account, id) in self.run_tokens.still_open() {
            let owner = owner_of(account.as_deref());
            match client.delete_token(owner, &id).await {
                Ok(()) => debug!(id, "deleted a run token left open"),
                Err(e) if e.is_not_found() => {}
                Err(e) => failed.push(format!("{id}: {e}")),
            }
            self.run_tokens.closed(owner, &id);
        }
        failed
    }

    /// The API client; missing credentials are an error only here, when a
    /// resource actually needs the API.
    pub fn client(&self) -> Result<&Client, Diagnostic> {
        if self.client.has_credentials() {
            Ok(&self.client)
        } else {
            Err(Diagnostic::error(
                "Missing Cloudflare credentials",
                "This needs the Cloudflare API. Set api_token in the provider block (or CLOUDFLARE_API_TOKEN), or api_key with email.",
            ))
        }
    }

    /// The provider's `account_id`, if it has one.
    pub fn default_account(&self) -> Option<&str> {
        self.default_account.as_deref()
    }

    /// The resource's own `account_id`, else the provider's.
    pub fn account_id(&self, configured: &Value) -> Result<String, Diagnostic> {
        if let Some(id) = configured.as_str() {
            return Ok(id.to_string());
        }
        self.default_account.clone().ok_or_else(|| {
            Diagnostic::error(
                "No account id",
                "Set account_id on this resource, or on the provider block (or CLOUDFLARE_ACCOUNT_ID).",
            )
            .at(AttrPath::root("account_id"))
        })
    }

    /// An API token, from its owner's listing when it has it (batched
    /// refresh); `None` when it is gone.
    pub async fn read_token(
        &self,
        owner: TokenOwner<'_>,
        id: &str,
    ) -> Result<Option<Token>, ApiError> {
        let primed_key = format!("{}/{id}", cache_key(owner));
        let generation = self.client.write_generation();
        if let Some(t) = self.primed_tokens.get(&primed_key, generation) {
            return Ok(Some(t));
        }
        let listed = self.listed_tokens(owner).await;
        if let Some(t) = from_listing(listed, id)? {
            return Ok(Some(t));
        }
        confirm(self.client.get_token(owner, id).await)
    }

    /// Every token of `owner`, by id: the listing reads are answered from.
    pub async fn listed_tokens(&self, owner: TokenOwner<'_>) -> Listing<Token> {
        let client = &self.client;
        self.tokens
            .get(&cache_key(owner), client.write_generation(), || async {
                let all = client.list_tokens(owner).await?;
                Ok(all.into_iter().map(|t| (t.id.clone(), t)).collect())
            })
            .await
    }

    /// An AI Search service token registration, batched like [`Configured::read_token`].
    pub async fn read_ai_search_token(
        &self,
        account: &str,
        id: &str,
    ) -> Result<Option<AiSearchToken>, ApiError> {
        let generation = self.client.write_generation();
        if let Some(t) = self
            .primed_ai_tokens
            .get(&format!("{account}/{id}"), generation)
        {
            return Ok(Some(t));
        }
        let listed = self.listed_ai_search_tokens(account).await;
        if let Some(t) = from_listing(listed, id)? {
            return Ok(Some(t));
        }
        confirm(self.client.get_ai_search_token(account, id).await)
    }

    /// Every registration of the account, by id.
    pub async fn listed_ai_search_tokens(&self, account: &str) -> Listing<AiSearchToken> {
        let client = &self.client;
        self.ai_tokens
            .get(account, client.write_generation(), || async {
                let all = client.list_ai_search_tokens(account).await?;
                Ok(all.into_iter().map(|t| (t.id.clone(), t)).collect())
            })
            .await
    }

    /// An AI Search instance, batched per namespace like [`Configured::read_token`].
    pub async fn read_instance(
        &self,
        account: &str,
        namespace: &str,
        id: &str,
    ) -> Result<Option<Instance>, ApiError> {
        let generation = self.client.write_generation();
        let key = format!("{account}/{namespace}/{id}");
        if let Some(i) = self.primed_instances.get(&key, generation) {
            return Ok(Some(i));
        }
        let listed = self.listed_instances(account, namespace).await;
        if let Some(i) = from_listing(listed, id)? {
            return Ok(Some(i));
        }
        confirm(self.client.get_instance(account, Some(namespace), id).await)
    }

    /// Every instance of a namespace, by id.
    pub async fn listed_instances(&self, account: &str, namespace: &str) -> Listing<Instance> {
        let client = &self.client;
        self.instances
            .get(
                &format!("{account}/{namespace}"),
                client.write_generation(),
                || async {
                    let all = client.list_instances(account, Some(namespace)).await?;
                    Ok(all.into_iter().map(|i| (i.id.clone(), i)).collect())
                },
            )
            .await
    }

    /// An AI Search namespace, batched per account like [`Configured::read_token`].
    pub async fn read_namespace(
        &self,
        account: &str,
        name: &str,
    ) -> Result<Option<Namespace>, ApiError> {
        let listed = self.listed_namespaces(account).await;
        if let Some(ns) = from_listing(listed, name)? {
            return Ok(Some(ns));
        }
        confirm(self.client.get_namespace(account, name).await)
    }

    /// Every namespace of the account, by name.
    pub async fn listed_namespaces(&self, account: &str) -> Listing<Namespace> {
        let client = &self.client;
        self.namespaces
            .get(account, client.write_generation(), || async {
                let all = client.list_namespaces(account).await?;
                Ok(all.into_iter().map(|n| (n.name.clone(), n)).collect())
            })
            .await
    }

    /// A token a page-by-page listing has just shown: the read that follows
    /// costs no request.
    pub fn prime_token(&self, owner: TokenOwner<'_>, token: &Token) {
        let key = format!("{}/{}", cache_key(owner), token.id);
        let generation = self.client.write_generation();
        self.primed_tokens.put(key, generation, token.clone());
    }

    /// A registration a page-by-page listing has just shown.
    pub fn prime_ai_search_token(&self, account: &str, token: &AiSearchToken) {
        let generation = self.client.write_generation();
        let key = format!("{account}/{}", token.id);
        self.primed_ai_tokens.put(key, generation, token.clone());
    }

    /// An instance a page-by-page listing has just shown.
    pub fn prime_instance(&self, account: &str, namespace: &str, instance: &Instance) {
        let generation = self.client.write_generation();
        let key = format!("{account}/{namespace}/{}", instance.id);
        self.primed_instances.put(key, generation, instance.clone());
    }

    /// The permission groups a token of `owner` may be given.
    pub async fn permission_groups(
        &self,
        owner: TokenOwner<'_>,
    ) -> Result<Arc<Vec<PermissionGroup>>, Diagnostic> {
        let client = self.client()?;
        let key = cache_key(owner);
        let cell = {
            let mut groups = self.groups.lock().unwrap_or_else(|p| p.into_inner());
            groups.entry(key.clone()).or_default().clone()
        };
        cell.get_or_try_init(|| async {
            debug!(owner = key, "fetching permission groups");
            client
                .permission_groups(owner, None, None)
                .await
                .map(Arc::new)
        })
        .await
        .cloned()
        .map_err(|e| api_error("Could not list permission groups", &e))
    }
}

/// The caches' key for an owner's tokens: an account id, or `/user`
/// (which no account id can be).
fn cache_key(owner: TokenOwner<'_>) -> String {
    match owner {
        TokenOwner::Account(account) => account.to_string(),
        TokenOwner::User => "/user".to_string(),
    }
}

/// A run token's owner as remembered: its account, or the user.
fn owner_of(account: Option<&str>) -> TokenOwner<'_> {
    account.map_or(TokenOwner::User, TokenOwner::Account)
}

/// The object from a listing. A listing refused for the credentials (list
/// and read may be granted apart) falls back to one GET; any other failure
/// (unreachable, timeout, server) is the read's failure, reported once.
fn from_listing<T: Clone>(listed: Listing<T>, id: &str) -> Result<Option<T>, ApiError> {
    match listed {
        Ok(items) => Ok(items.get(id).cloned()),
        Err(e)
            if matches!(
                e.kind,
                ErrorKind::Auth | ErrorKind::Validation | ErrorKind::NotFound
            ) =>
        {
            Ok(None)
        }
        Err(e) => Err(e),
    }
}

/// A single GET's answer: found, gone, or a failure.
fn confirm<T>(result: Result<T, ApiError>) -> Result<Option<T>, ApiError> {
    match result {
        Ok(t) => Ok(Some(t)),
        Err(e) if e.is_not_found() => Ok(None),
        Err(e) => Err(e),
    }
}

/// An API failure as a diagnostic: what failed, then Cloudflare's own codes
/// and messages verbatim, then what to do.
pub fn api_error(summary: &str, error: &ApiError) -> Diagnostic {
    let advice = match error.kind {
        ErrorKind::Auth => "Check that the API token is valid and has the permissions this needs (e.g. \"Account API Tokens Write\").",
        ErrorKind::RateLimited => "Cloudflare's rate limit was reached; lower rate_limit_per_5_minutes or retry later.",
        ErrorKind::Transport => "Check the network path to the API (the provider's base_url, or CLOUDFLARE_BASE_URL) and retry.",
        ErrorKind::Timeout => "The API did not answer within the provider's request_timeout; raise request_timeout in the provider block (a duration such as \"2m\") if the API is slow, and retry.",
        ErrorKind::Cancelled => "Terraform is stopping: the request was abandoned before it could change anything.",
        ErrorKind::MissingCredentials => "Set api_token in the provider block or CLOUDFLARE_API_TOKEN.",
        ErrorKind::Malformed | ErrorKind::Server => "The API answered unexpectedly; retry, and report it if it persists.",
        _ => "",
    };
    let detail = if advice.is_empty() {
        error.to_string()
    } else {
        format!("{error}\n\n{advice}")
    };
    Diagnostic::error(summary, detail)
}
