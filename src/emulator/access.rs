//! What a token the emulator issued may do, as Cloudflare judges it: an
//! active token, within its `not_before` and `expires_on`, called from an
//! address its `condition.request_ip` allows (the emulator listens on
//! loopback only, so every caller is 127.0.0.1), whose policies grant one
//! of the permission groups the route needs on the account it names, and
//! deny none of them.
//!
//! The groups each route needs are the emulator's reading of Cloudflare's
//! documentation: the API token routes need "Account API Tokens Read" or
//! "Account API Tokens Write" (writes: Write); R2 temporary credentials
//! need "Workers R2 Storage Write"; AI Search needs its dashboard
//! permission, which the catalog names "Auto Rag Read" and "Auto Rag
//! Write" (writes: Write). The user's token routes need user-level groups
//! that an account's catalog does not hold, so a minted token never
//! manages user tokens here; the configured credential does.

use serde_json::Value;

use super::r2::is_active;
use super::state::{PermissionGroup, StoredToken};

/// Why a token was refused.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// Not usable at all, or not for this: Cloudflare's 10000.
    Authentication,
    /// Its `condition.request_ip` excludes the caller: Cloudflare's 9109.
    Location,
}

/// The caller's address as the emulator sees every caller.
pub(crate) const CALLER_IP: &str = "127.0.0.1";

/// The groups (any one of them) `method path` needs; `None` for a route
/// any valid token may call (verify).
fn needed(method: &str, path: &str) -> Option<&'static [&'static str]> {
    let write = method != "GET";
    if path.ends_with("/tokens/verify") {
        None
    } else if path.starts_with("/user/") {
        Some(if write {
            &["API Tokens Write"]
        } else {
            &["API Tokens Read", "API Tokens Write"]
        })
    } else if path.contains("/ai-search/") {
        Some(if write {
            &["Auto Rag Write"]
        } else {
            &["Auto Rag Read", "Auto Rag Write"]
        })
    } else if path.contains("/r2/temp-access-credentials") {
        Some(&["Workers R2 Storage Write"])
    } else if path.contains("/tokens") {
        Some(if write {
            &["Account API Tokens Write"]
        } else {
            &["Account API Tokens Read", "Account API Tokens Write"]
        })
    } else {
        Some(&[])
    }
}

/// Whether `token` may call `method path` on `account` (empty for user
/// routes).
pub(crate) fn judge(
    token: &StoredToken,
    method: &str,
    path: &str,
    account: &str,
    catalog: &[PermissionGroup],
) -> Result<(), Refusal> {
    if !is_active(&token.token) {
        return Err(Refusal::Authentication);
    }
    if !from_allowed_address(&token.token["condition"]) {
        return Err(Refusal::Location);
    }
    let Some(groups) = needed(method, path) else {
        return Ok(());
    };
    let ids: Vec<&str> = catalog
        .iter()
        .filter(|g| groups.contains(&g.name.as_str()))
        .map(|g| g.id.as_str())
        .collect();
    let matching = |effect: &str| {
        token.token["policies"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|p| p["effect"].as_str().unwrap_or("allow") == effect)
            .any(|p| grants(p, &ids) && covers(&p["resources"], account))
    };
    if matching("allow") && !matching("deny") {
        Ok(())
    } else {
        Err(Refusal::Authentication)
    }
}

fn grants(policy: &Value, ids: &[&str]) -> bool {
    policy["permission_groups"]
        .as_array()
        .into_iter()
        .flatten()
        .any(|g| g["id"].as_str().is_some_and(|id| ids.contains(&id)))
}

/// Whether a policy's resources reach the whole account (its own key or
/// every account's, with `"*"`).
fn covers(resources: &Value, account: &str) -> bool {
    let Some(map) = resources.as_object() else {
        return false;
    };
    let keys = [
        format!("com.cloudflare.api.account.{account}"),
        "com.cloudflare.api.account.*".to_string(),
    ];
    keys.iter().any(|k| map.get(k).is_some_and(|v| v == "*"))
}

fn from_allowed_address(condition: &Value) -> bool {
    let caller: std::net::IpAddr = match CALLER_IP.parse() {
        Ok(ip) => ip,
        Err(_) => return false,
    };
    let listed = |key: &str| -> Option<bool> {
        let cidrs = condition["request_ip"][key].as_array()?;
        Some(
            cidrs
                .iter()
                .filter_map(Value::as_str)
                .any(|c| contains(c, caller)),
        )
    };
    listed("in").unwrap_or(true) && !listed("not_in").unwrap_or(false)
}

fn contains(cidr: &str, ip: std::net::IpAddr) -> bool {
    cidr.parse::<ipnet::IpNet>()
        .map(|net| net.contains(&ip))
        .or_else(|_| cidr.parse::<std::net::IpAddr>().map(|one| one == ip))
        .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const A: &str = "0123456789abcdef0123456789abcdef";

    fn token(policies: Value, condition: Value) -> StoredToken {
        StoredToken {
            token: json!({ "id": "t", "status": "active", "policies": policies, "condition": condition }),
            value: "v".into(),
            account: A.into(),
            user: None,
        }
    }

    fn catalog() -> Vec<PermissionGroup> {
        super::super::state::catalog()
    }

    fn policy(effect: &str, group: &str, key: &str) -> Value {
        let id = catalog().into_iter().find(|g| g.name == group).unwrap().id;
        json!({ "effect": effect, "permission_groups": [{ "id": id }], "resources": { key: "*" } })
    }

    #[test]
    fn groups_and_resources_decide() {
        let account_key = format!("com.cloudflare.api.account.{A}");
        let reader = token(
            json!([policy("allow", "Account API Tokens Read", &account_key)]),
            json!({}),
        );
        let path = format!("/accounts/{A}/tokens/permission_groups");
        assert_eq!(judge(&reader, "GET", &path, A, &catalog()), Ok(()));
        let create = format!("/accounts/{A}/tokens");
        assert_eq!(
            judge(&reader, "POST", &create, A, &catalog()),
            Err(Refusal::Authentication)
        );
        let elsewhere = token(
            json!([policy(
                "allow",
                "Account API Tokens Read",
                "com.cloudflare.api.account.ffffffffffffffffffffffffffffffff"
            )]),
            json!({}),
        );
        assert_eq!(
            judge(&elsewhere, "GET", &path, A, &catalog()),
            Err(Refusal::Authentication)
        );
        let denied = token(
            json!([
                policy("allow", "Auto Rag Write", &account_key),
                policy("deny", "Auto Rag Write", &account_key)
            ]),
            json!({}),
        );
        let instances = format!("/accounts/{A}/ai-search/instances");
        assert_eq!(
            judge(&denied, "POST", &instances, A, &catalog()),
            Err(Refusal::Authentication)
        );
        assert_eq!(
            judge(&reader, "GET", "/user/tokens/verify", "", &catalog()),
            Ok(())
        );
    }

    #[test]
    fn the_callers_address_is_loopback() {
        let account_key = format!("com.cloudflare.api.account.{A}");
        let p = json!([policy("allow", "Account API Tokens Read", &account_key)]);
        let path = format!("/accounts/{A}/tokens");
        for (condition, allowed) in [
            (json!({ "request_ip": { "in": ["127.0.0.0/8"] } }), true),
            (json!({ "request_ip": { "in": ["10.0.0.0/8"] } }), false),
            (
                json!({ "request_ip": { "not_in": ["127.0.0.1/32"] } }),
                false,
            ),
            (
                json!({ "request_ip": { "not_in": ["192.0.2.0/24"] } }),
                true,
            ),
        ] {
            let t = token(p.clone(), condition.clone());
            let got = judge(&t, "GET", &path, A, &catalog());
            assert_eq!(got.is_ok(), allowed, "{condition}");
            if !allowed {
                assert_eq!(got, Err(Refusal::Location));
            }
        }
    }
}
