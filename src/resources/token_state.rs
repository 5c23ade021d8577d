//! The token's Terraform state and the Cloudflare API's view of it: the
//! request built from a plan, the state built from an answer (in the user's
//! words wherever the meaning is unchanged), what counts as a change, and
//! recovering a token whose creation answer was lost.

use crate::cloudflare::models::{Condition, PermissionGroup, RequestIp, Token, TokenRequest};
use crate::cloudflare::Client;
use crate::cty::Type;
use crate::framework::{AttrPath, PlanChange};
use crate::validation::parse_rfc3339;

use super::token_model::{ConditionModel, Owner, OwnerKind, PolicyModel, TokenModel};
use super::token_semantics::{
    condition_from_api, condition_key_api, key_of, policies_from_api, same_api_policies,
    same_instant, same_keys, time_from_api,
};
use crate::cloudflare::tokens::TokenOwner;
use crate::cty::Attr;

/// Private-state flag: the policies in state are in the API's order (after
/// an import or an outside change), not in the configuration's.
pub(crate) const ORDER_FROM_API: &str = "policy_order_from_api";

/// Where the configuration means what the prior state already says, keep
/// the prior's form (names vs ids, JSON spacing), so no diff appears.
/// Policies are compared position by position, except that an order the
/// API chose (import, outside change) is kept while the set of policies is
/// equal: there is nothing for the user to confirm.
pub(crate) fn keep_equivalent_prior(
    change: &mut PlanChange,
    prior: &[Attr<PolicyModel>],
    policies: &mut [Attr<PolicyModel>],
) {
    let api_order = change
        .private
        .get(ORDER_FROM_API)
        .and_then(|v| v.as_bool())
        .unwrap_or(false);
    // Each policy's key once: reading one is the costly part of a plan.
    let planned_keys: Vec<_> = policies.iter().map(key_of).collect();
    let prior_keys: Vec<_> = prior.iter().map(key_of).collect();
    if api_order && same_keys(&planned_keys, &prior_keys) {
        policies.clone_from_slice(prior);
    } else {
        // The apply writes the configuration's order.
        change.private.remove(ORDER_FROM_API);
        for ((planned, key), (prior, prior_key)) in policies
            .iter_mut()
            .zip(&planned_keys)
            .zip(prior.iter().zip(&prior_keys))
        {
            if key.is_some() && key == prior_key {
                *planned = prior.clone();
            }
        }
    }
    // Same groups and resources, another spelling or order: equivalent.
    change.declare_equivalent(AttrPath::root("policies"));
    // Conditions and timestamps keep their prior spelling through the
    // schema's semantic equality (the framework's plan rules).
}

/// Whether an answer without `condition`, `not_before` or `expires_on`
/// means they were removed. A token without them has none, so absence is
/// meaningful, but an answer may also simply leave them out: absence counts
/// as removal only when the answer shows the token modified since the state
/// was written (another `modified_on`). Otherwise the last known values
/// stay, and no perpetual diff follows from an answer that said less.
fn absence_is_removal(prior: &TokenModel, token: &Token) -> bool {
    token
        .modified_on
        .as_deref()
        .is_some_and(|now| !same_instant(Some(now), prior.modified_on.as_str()))
}

/// The answer's condition, with the parts it leaves out (the whole
/// condition, `request_ip`, `in` or `not_in`) taken from the last known one.
fn with_unsaid_parts(answer: Option<&Condition>, known: Option<Condition>) -> Option<Condition> {
    let (Some(answer), Some(known)) = (answer, known.clone()) else {
        return answer.cloned().or(known);
    };
    let (Some(said), Some(was)) = (&answer.request_ip, &known.request_ip) else {
        return Some(Condition {
            request_ip: answer.request_ip.clone().or(known.request_ip),
        });
    };
    let part = |now: &Vec<String>, before: &Vec<String>| {
        if now.is_empty() {
            before.clone()
        } else {
            now.clone()
        }
    };
    Some(Condition {
        request_ip: Some(RequestIp {
            allowed: part(&said.allowed, &was.allowed),
            not_in: part(&said.not_in, &was.not_in),
        }),
    })
}

/// The refreshed state: the API's truth, in the prior's words wherever the
/// meaning is unchanged. `changed_policies` carries the catalog (for names)
/// when the caller found the policies changed, and is `None` otherwise.
/// What the answer leaves out keeps its last known value (see
/// [`absence_is_removal`] for the properties whose absence means something).
pub(crate) fn state_from_api(
    prior: &TokenModel,
    token: &Token,
    owner: &Owner,
    changed_policies: Option<&[PermissionGroup]>,
) -> TokenModel {
    let mut state = prior.clone();
    state.fill_computed(token, owner);
    if let Some(name) = &token.name {
        state.name = Attr::Known(name.clone());
    }
    if let (Some(catalog), Some(policies)) = (changed_policies, &token.policies) {
        let prior_policies = prior.policy_list();
        state.policies = Attr::Known(policies_from_api(policies, prior_policies, catalog));
    }
    let removal = absence_is_removal(prior, token);
    let told = |present: bool| present || removal;
    let condition = if removal {
        token.condition.clone()
    } else {
        with_unsaid_parts(
            token.condition.as_ref(),
            ConditionModel::to_api(&prior.condition),
        )
    };
    if ConditionModel::key(&prior.condition) != condition_key_api(condition.as_ref()) {
        state.condition = condition_from_api(condition.as_ref(), &prior.condition);
    }
    if told(token.not_before.is_some()) {
        state.not_before = time_from_api(token.not_before.as_deref(), &prior.not_before);
    }
    if told(token.expires_on.is_some()) {
        state.expires_on = time_from_api(token.expires_on.as_deref(), &prior.expires_on);
    }
    state
}

/// A token resource's state type, built once per owner kind.
pub(crate) fn token_type(kind: OwnerKind) -> &'static Type {
    use super::api_token::ApiToken;
    use std::sync::OnceLock;
    static ACCOUNT: OnceLock<Type> = OnceLock::new();
    static USER: OnceLock<Type> = OnceLock::new();
    match kind {
        OwnerKind::Account => ACCOUNT.get_or_init(|| ApiToken::ACCOUNT.schema_type()),
        OwnerKind::User => USER.get_or_init(|| ApiToken::USER.schema_type()),
    }
}

/// Creates the token; should the answer be lost after Cloudflare may have
/// made it, the token it made is found and adopted (rolled for its value)
/// instead of left behind. `Ok((token, true))` says it was recovered so.
pub(crate) async fn create_or_adopt(
    client: &Client,
    owner: TokenOwner<'_>,
    request: &TokenRequest,
) -> Result<(Token, bool), crate::cloudflare::ApiError> {
    let started = chrono::Utc::now();
    match client.create_token(owner, request).await {
        Ok(token) => Ok((token, false)),
        Err(e) if e.maybe_applied => {
            // A stop may have been asked meanwhile: finishing this write
            // (finding the token) must not be cut short by it.
            match adopt_lost_token(&client.detached(), owner, request, started).await {
                Some(token) => Ok((token, true)),
                None => Err(e),
            }
        }
        Err(e) => Err(e),
    }
}

/// After a create whose answer was lost: the one token with this name and
/// these policies issued since we started is ours; rolling it yields a value.
async fn adopt_lost_token(
    client: &Client,
    owner: TokenOwner<'_>,
    request: &TokenRequest,
    started: chrono::DateTime<chrono::Utc>,
) -> Option<Token> {
    let since = started - chrono::Duration::seconds(60);
    let tokens = client.list_tokens(owner).await.ok()?;
    let mut matches: Vec<Token> = tokens
        .into_iter()
        .filter(|t| t.name.as_deref() == Some(request.name.as_str()))
        .filter(|t| {
            t.issued_on
                .as_deref()
                .and_then(parse_rfc3339)
                .is_some_and(|issued| issued >= since)
        })
        .filter(|t| {
            t.policies
                .as_deref()
                .is_some_and(|p| same_api_policies(&request.policies, p))
        })
        .collect();
    if matches.len() != 1 {
        return None;
    }
    let mut token = matches.remove(0);
    token.value = Some(client.roll_token(owner, &token.id).await.ok()?);
    Some(token)
}
