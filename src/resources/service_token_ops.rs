//! The API steps behind `cfai_ai_search_service_token`: minting the
//! account token of managed mode, registering with the propagation retry,
//! and deleting while instances are still being torn down.

use std::time::Duration;

use tokio::time::Instant;

use super::permission_groups::{resolve_entries, resource_scopes};
use crate::cloudflare::models::{
    AiSearchToken, AiSearchTokenRequest, PermissionGroupRef, Policy, Token, TokenRequest,
};
use crate::cloudflare::tokens::TokenOwner;
use crate::cloudflare::{ApiError, Client, ErrorKind};
use crate::context::{api_error, Configured};
use crate::framework::{AttrPath, Diagnostic, Diagnostics};
use crate::secret::Secret;

/// The default groups of a minted token in managed mode (Cloudflare's documented pair).
pub(crate) const DEFAULT_GROUPS: [&str; 2] = ["AI Search Index Engine", "Workers R2 Storage Write"];

/// The name of the token minted for a registration: recognisable on import.
pub(crate) fn minted_name(registration: &str) -> String {
    format!("ai-search/{registration}")
}

/// `AI Search` code for "the token is not valid (yet)".
const INVALID_TOKEN: i64 = 7012;

fn is_code(e: &ApiError, code: i64) -> bool {
    e.errors.iter().any(|m| m.code == code)
}

/// The minted token's request: the groups (names or ids, resolved against
/// the owner's catalog), on the whole account.
pub(crate) async fn minted_request(
    data: &Configured,
    account: &str,
    owner: TokenOwner<'_>,
    name: &str,
    groups: &[Option<String>],
    diags: &mut Diagnostics,
) -> Option<TokenRequest> {
    let catalog = data
        .permission_groups(owner)
        .await
        .map_err(|d| diags.push(d))
        .ok()?;
    let key = format!("com.cloudflare.api.account.{account}");
    let scopes = resource_scopes([(key.as_str(), Some("*"))]);
    let ids = resolve_entries(
        &catalog,
        groups.iter().flatten().cloned(),
        Some(&scopes),
        Some(&AttrPath::root("permission_groups")),
        diags,
    );
    if diags.has_errors() {
        return None;
    }
    let mut resources = serde_json::Map::new();
    resources.insert(key, serde_json::Value::from("*"));
    Some(TokenRequest {
        name: minted_name(name),
        policies: vec![Policy {
            id: None,
            effect: "allow".into(),
            permission_groups: ids
                .into_iter()
                .flatten()
                .map(|id| PermissionGroupRef { id, name: None })
                .collect(),
            resources,
        }],
        condition: None,
        not_before: None,
        expires_on: None,
        status: None,
    })
}

/// Registers (or, with `id`, re-registers) the token, retrying 7012 while
/// a freshly minted token propagates, until `deadline`.
pub(crate) async fn register(
    client: &Client,
    account: &str,
    id: Option<&str>,
    request: &AiSearchTokenRequest,
    within: Duration,
) -> Result<AiSearchToken, ApiError> {
    let deadline = Instant::now() + within;
    let mut wait = Duration::from_millis(250);
    loop {
        let result = match id {
            None => client.create_ai_search_token(account, request).await,
            Some(id) => client.update_ai_search_token(account, id, request).await,
        };
        match result {
            Err(e) if is_code(&e, INVALID_TOKEN) && Instant::now() + wait < deadline => {
                tracing::debug!(
                    wait_ms = wait.as_millis() as u64,
                    "token not yet valid for AI Search; retrying"
                );
                tokio::time::sleep(wait).await;
                wait = (wait * 2).min(Duration::from_secs(5));
            }
            Err(e) if id.is_none() && e.maybe_applied => {
                // The registration may exist although its answer was lost:
                // the one with this name and token is ours (a second POST
                // would make a second registration).
                return match adopt_lost_registration(client, account, request).await {
                    Some(found) => Ok(found),
                    None => Err(e),
                };
            }
            other => return other,
        }
    }
}

async fn adopt_lost_registration(
    client: &Client,
    account: &str,
    request: &AiSearchTokenRequest,
) -> Option<AiSearchToken> {
    // Finishing this write must not be cut short by a stop asked meanwhile.
    let all = client
        .detached()
        .list_ai_search_tokens(account)
        .await
        .ok()?;
    let mut ours = all
        .into_iter()
        .filter(|t| t.name == request.name && t.cf_api_id == request.cf_api_id);
    let found = ours.next()?;
    ours.next().is_none().then_some(found)
}

/// Deletes the registration, retrying 7076 (instances still hold the
/// token, or are still being torn down) until `within` has passed.
pub(crate) async fn unregister(
    client: &Client,
    account: &str,
    id: &str,
    within: Duration,
) -> Result<(), ApiError> {
    let deadline = Instant::now() + within;
    let mut wait = Duration::from_millis(250);
    loop {
        match client.delete_ai_search_token(account, id).await {
            Ok(()) => return Ok(()),
            Err(e) if e.is_not_found() => return Ok(()),
            Err(e) if e.kind == ErrorKind::Conflict && Instant::now() + wait < deadline => {
                tokio::time::sleep(wait).await;
                wait = (wait * 2).min(Duration::from_secs(5));
            }
            Err(e) => return Err(e),
        }
    }
}

/// The instances (as `namespace/id`) that use the registration `id`.
pub(crate) async fn instances_using(client: &Client, account: &str, id: &str) -> Holders {
    let mut out = Holders::default();
    let mut namespaces = vec!["default".to_string()];
    if let Ok(all) = client.list_namespaces(account).await {
        namespaces.extend(all.into_iter().map(|n| n.name).filter(|n| n != "default"));
    }
    for ns in namespaces {
        if let Ok(instances) = client.list_instances(account, Some(&ns)).await {
            for instance in instances {
                let name = format!("{ns}/{}", instance.id);
                match instance.field("token_id").map(|t| t.as_str()) {
                    Some(Some(token)) if token == id => out.using.push(name),
                    Some(_) => {}
                    None => out.unsaid.push(name),
                }
            }
        }
    }
    out
}

/// Instances found using a token, and those whose token the listing did
/// not say (`token_id` is optional in Cloudflare's answers).
#[derive(Default)]
pub(crate) struct Holders {
    pub(crate) using: Vec<String>,
    pub(crate) unsaid: Vec<String>,
}

/// The failure of a delete that 7076 kept refusing, naming the holders.
pub(crate) async fn still_in_use(
    client: &Client,
    account: &str,
    id: &str,
    e: &ApiError,
) -> Diagnostic {
    let holders = instances_using(client, account, id).await;
    let named = if !holders.using.is_empty() {
        format!("these AI Search instances: {}", holders.using.join(", "))
    } else if !holders.unsaid.is_empty() {
        format!(
            "one or more of these AI Search instances, whose token Cloudflare's instance list did not say: {}",
            holders.unsaid.join(", ")
        )
    } else {
        "instances that are still being torn down (Cloudflare deletes them asynchronously)"
            .to_string()
    };
    Diagnostic::error(
        "The AI Search service token is still in use",
        format!("{e}\n\nIt is used by {named}. Nothing was deleted: the registration and its API token are in place. Remove the token from those instances (or delete them), or raise timeouts.delete, and retry."),
    )
}

/// Mints the managed token; its value is returned for registration only.
pub(crate) async fn mint(
    client: &Client,
    owner: TokenOwner<'_>,
    request: &TokenRequest,
    diags: &mut Diagnostics,
) -> Option<(Token, Secret)> {
    match super::token_state::create_or_adopt(client, owner, request).await {
        // The client returns a created token with its value, or an error.
        Ok((mut token, _)) => match token.value.take() {
            Some(value) => Some((token, value)),
            None => {
                diags.error(
                    "Minted token has no value",
                    format!("Cloudflare created token {} without a value; delete it in the Cloudflare dashboard.", token.id),
                );
                None
            }
        },
        Err(e) => {
            diags.push(api_error("Could not mint the API token for AI Search", &e));
            None
        }
    }
}
