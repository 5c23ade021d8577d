//! The token's Terraform state and the Cloudflare API's view of it: the
//! request built from a plan, the state built from an answer (in the user's
//! words wherever the meaning is unchanged), what counts as a change, and
//! recovering a token whose creation answer was lost.

use crate::cloudflare::models::{Condition, PermissionGroup, RequestIp, Token, TokenRequest};
use crate::cloudflare::Client;
use crate::cty::Value;
use crate::framework::{AttrPath, PlanChange};
use crate::r2::{r2_s3_endpoint, s3_secret_access_key};
use crate::secret::Secret;
use crate::validation::parse_rfc3339;

use super::token_semantics::{
    condition_from_api, condition_key, condition_key_api, condition_to_api, key_of_state,
    policies_from_api, policy_to_api, same_instant, same_policies, same_state_policies,
    time_from_api,
};

/// Private-state flag: the policies in state are in the API's order (after
/// an import or an outside change), not in the configuration's.
pub(crate) const ORDER_FROM_API: &str = "policy_order_from_api";

/// Attributes whose change is sent to the API (a `PUT` of the whole token).
const API_FIELDS: [&str; 6] = [
    "name",
    "policies",
    "condition",
    "not_before",
    "expires_on",
    "status",
];

/// Where the configuration means what the prior state already says, keep
/// the prior's form (names vs ids, JSON spacing), so no diff appears. Policies are compared position by position, except that
/// an order the API chose (import, outside change) is kept while the set of
/// policies is equal: there is nothing for the user to confirm.
pub(crate) fn keep_equivalent_prior(change: &mut PlanChange, policies: &mut [Value]) {
    let prior_policies = change.prior.get("policies").elements();
    let api_order = change
        .private
        .get(ORDER_FROM_API)
        .and_then(|v| v.as_bool())
        .unwrap_or(false);
    if api_order && same_state_policies(policies, prior_policies) {
        policies.clone_from_slice(prior_policies);
    } else {
        // The apply writes the configuration's order.
        change.private.remove(ORDER_FROM_API);
        for (planned, prior) in policies.iter_mut().zip(prior_policies) {
            if key_of_state(planned).is_some() && key_of_state(planned) == key_of_state(prior) {
                *planned = prior.clone();
            }
        }
    }
    // Same groups and resources, another spelling or order: equivalent.
    change.declare_equivalent(AttrPath::root("policies"));
    // Conditions and timestamps keep their prior spelling through the
    // schema's semantic equality (the framework's plan rules).
}

/// Whether the API would see a difference (policy order does not count).
pub(crate) fn api_fields_changed(prior: &Value, planned: &Value) -> bool {
    API_FIELDS.iter().any(|field| {
        let (a, b) = (prior.get(field), planned.get(field));
        match *field {
            "policies" => !same_state_policies(a.elements(), b.elements()),
            "condition" => condition_key(a) != condition_key(b),
            "not_before" | "expires_on" => !same_instant(a.as_str(), b.as_str()),
            "status" => !b.is_null() && !b.is_unknown() && a != b,
            _ => a != b,
        }
    })
}

pub(crate) fn token_request(state: &Value, status: Option<String>) -> TokenRequest {
    TokenRequest {
        name: state.get("name").as_str().unwrap_or_default().to_string(),
        policies: state
            .get("policies")
            .elements()
            .iter()
            .map(policy_to_api)
            .collect(),
        condition: condition_to_api(state.get("condition")),
        not_before: state.get("not_before").as_str().map(str::to_string),
        expires_on: state.get("expires_on").as_str().map(str::to_string),
        status,
    }
}

/// The attributes only the API sets, from its answer. A `status` the answer
/// leaves out keeps its last known value (null if there is none): a token
/// always has one, so its absence says nothing. The timestamps hold only
/// what the API returned.
pub(crate) fn fill_computed(state: &mut Value, token: &Token, account: &str) {
    state.set("id", Value::string(&token.id));
    state.set("access_key_id", Value::string(&token.id));
    state.set("account_id", Value::string(account));
    state.set(
        "s3_endpoint",
        Value::string(r2_s3_endpoint(account, "default")),
    );
    let status = match &token.status {
        Some(status) => Value::string(status),
        None => known_or_null(state.get("status")),
    };
    state.set("status", status);
    state.set("issued_on", Value::opt_string(token.issued_on.clone()));
    state.set("modified_on", Value::opt_string(token.modified_on.clone()));
    state.set(
        "last_used_on",
        Value::opt_string(token.last_used_on.clone()),
    );
}

pub(crate) fn set_value(state: &mut Value, value: Option<&Secret>) {
    state.set(
        "value",
        Value::opt_string(value.map(|v| v.expose().to_string())),
    );
    state.set(
        "secret_access_key",
        Value::opt_string(value.map(|v| s3_secret_access_key(v.expose()))),
    );
}

fn known_or_null(value: &Value) -> Value {
    if value.is_wholly_known() {
        value.clone()
    } else {
        Value::Null
    }
}

/// Whether an answer without `condition`, `not_before` or `expires_on`
/// means they were removed. A token without them has none, so absence is
/// meaningful, but an answer may also simply leave them out: absence counts
/// as removal only when the answer shows the token modified since the state
/// was written (another `modified_on`). Otherwise the last known values
/// stay, and no perpetual diff follows from an answer that said less.
fn absence_is_removal(prior: &Value, token: &Token) -> bool {
    token
        .modified_on
        .as_deref()
        .is_some_and(|now| !same_instant(Some(now), prior.get("modified_on").as_str()))
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
    prior: &Value,
    token: &Token,
    account: &str,
    changed_policies: Option<&[PermissionGroup]>,
) -> Value {
    let mut state = prior.clone();
    fill_computed(&mut state, token, account);
    if let Some(name) = &token.name {
        state.set("name", Value::string(name));
    }
    if let (Some(catalog), Some(policies)) = (changed_policies, &token.policies) {
        let prior_policies = prior.get("policies").elements();
        state.set(
            "policies",
            Value::List(policies_from_api(policies, prior_policies, catalog)),
        );
    }
    let removal = absence_is_removal(prior, token);
    let told = |present: bool| present || removal;
    let condition = if removal {
        token.condition.clone()
    } else {
        with_unsaid_parts(
            token.condition.as_ref(),
            condition_to_api(prior.get("condition")),
        )
    };
    if condition_key(prior.get("condition")) != Some(condition_key_api(condition.as_ref())) {
        state.set(
            "condition",
            condition_from_api(condition.as_ref(), prior.get("condition")),
        );
    }
    if told(token.not_before.is_some()) {
        state.set(
            "not_before",
            time_from_api(token.not_before.as_deref(), prior.get("not_before")),
        );
    }
    if told(token.expires_on.is_some()) {
        state.set(
            "expires_on",
            time_from_api(token.expires_on.as_deref(), prior.get("expires_on")),
        );
    }
    state
}

/// Creates the token; should the answer be lost after Cloudflare may have
/// made it, the token it made is found and adopted (rolled for its value)
/// instead of left behind. `Ok((token, true))` says it was recovered so.
pub(crate) async fn create_or_adopt(
    client: &Client,
    account: &str,
    request: &TokenRequest,
) -> Result<(Token, bool), crate::cloudflare::ApiError> {
    let started = chrono::Utc::now();
    match client.create_token(account, request).await {
        Ok(token) => Ok((token, false)),
        Err(e) if e.maybe_applied => {
            // A stop may have been asked meanwhile: finishing this write
            // (finding the token) must not be cut short by it.
            match adopt_lost_token(&client.detached(), account, request, started).await {
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
    account: &str,
    request: &TokenRequest,
    started: chrono::DateTime<chrono::Utc>,
) -> Option<Token> {
    let since = started - chrono::Duration::seconds(60);
    let tokens = client.list_tokens(account).await.ok()?;
    let wanted: Vec<Value> = request
        .policies
        .iter()
        .map(|p| {
            Value::object([
                ("effect", Value::string(&p.effect)),
                (
                    "permission_group_ids",
                    Value::string_set(p.permission_groups.iter().map(|g| g.id.clone())),
                ),
                (
                    "resources",
                    Value::Map(
                        p.resources
                            .iter()
                            .map(|(k, v)| {
                                (
                                    k.clone(),
                                    Value::string(
                                        v.as_str()
                                            .map(str::to_string)
                                            .unwrap_or_else(|| v.to_string()),
                                    ),
                                )
                            })
                            .collect(),
                    ),
                ),
            ])
        })
        .collect();
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
                .is_some_and(|p| same_policies(&wanted, p))
        })
        .collect();
    if matches.len() != 1 {
        return None;
    }
    let mut token = matches.remove(0);
    token.value = Some(client.roll_token(account, &token.id).await.ok()?);
    Some(token)
}
