//! The `provider "cfai" {}` block: schema, validation, and the settings it
//! resolves to (configuration first, then the CLOUDFLARE_* environment).

use std::time::Duration;

use crate::cty::Value;
use crate::framework::rules::{self, ClientCapabilities, Validator};
use crate::framework::{AttrPath, Attribute, Diagnostics, Schema};
use crate::secret::Secret;
use crate::validation::{is_account_id, parse_go_duration};

pub const DEFAULT_BASE_URL: &str = "https://api.cloudflare.com/client/v4";

pub fn schema() -> Schema {
    Schema::new("Cloudflare account API tokens, R2 S3 credentials and AI Search, by permission-group name.")
        .attribute(
            Attribute::string("api_token")
                .optional()
                .sensitive()
                .describe("Cloudflare API token, sent as `Authorization: Bearer`. Environment: CLOUDFLARE_API_TOKEN. Conflicts with api_key."),
        )
        .attribute(
            Attribute::string("api_key")
                .optional()
                .sensitive()
                .validate(Validator::ConflictsWith(&["api_token"]))
                .describe("Global API key, sent as X-Auth-Key with email. Environment: CLOUDFLARE_API_KEY. Conflicts with api_token."),
        )
        .attribute(
            Attribute::string("email")
                .optional()
                .describe("Account email for the global API key, sent as X-Auth-Email. Environment: CLOUDFLARE_EMAIL."),
        )
        .attribute(
            Attribute::string("account_id")
                .optional()
                .validate(Validator::Custom(account_id_rule))
                .describe("Default account (32 hex characters) for every resource and data source. Environment: CLOUDFLARE_ACCOUNT_ID."),
        )
        .attribute(
            Attribute::string("base_url")
                .optional()
                .validate(Validator::Custom(base_url_rule))
                .describe("API base URL, for the local emulator or a proxy. Default https://api.cloudflare.com/client/v4. Environment: CLOUDFLARE_BASE_URL."),
        )
        .attribute(
            Attribute::number("max_retries")
                .optional()
                .validate(Validator::Custom(max_retries_rule))
                .describe("Retries on 429, 5xx and connection errors that provably did not reach the server. Default 4."),
        )
        .attribute(
            Attribute::number("rate_limit_per_5_minutes")
                .optional()
                .validate(Validator::Custom(per_5_minutes_rule))
                .describe("Client-side budget of requests per rolling 5 minutes, shared by every resource in the run. Default 1200, Cloudflare's limit per token."),
        )
        .attribute(
            Attribute::number("rate_limit_per_second")
                .optional()
                .validate(Validator::Custom(per_second_rule))
                .describe("Client-side cap on requests in any one-second window. Default 100 (Cloudflare allows 200 per second per IP; half leaves room for a second run)."),
        )
        .attribute(
            Attribute::string("request_timeout")
                .optional()
                .validate(Validator::Custom(request_timeout_rule))
                .describe("Timeout of one API request, as a Go duration such as \"30s\" or \"1m\". Default \"30s\"."),
        )
}

#[derive(Debug, Clone)]
pub enum Credentials {
    Token(Secret),
    GlobalKey { key: Secret, email: String },
}

#[derive(Debug, Clone)]
pub struct ProviderConfig {
    /// `None` when nothing was configured: an error only once a resource
    /// actually needs the API.
    pub credentials: Option<Credentials>,
    pub account_id: Option<String>,
    pub base_url: String,
    pub max_retries: u32,
    pub rate_limit_per_5_minutes: u32,
    pub rate_limit_per_second: u32,
    pub request_timeout: Duration,
}

/// Source of environment variables, injectable for tests.
pub trait Env {
    fn get(&self, name: &str) -> Option<String>;
}

pub struct ProcessEnv;

impl Env for ProcessEnv {
    fn get(&self, name: &str) -> Option<String> {
        std::env::var(name).ok().filter(|v| !v.trim().is_empty())
    }
}

fn known_str<'a>(config: &'a Value, name: &str) -> Option<&'a str> {
    config.get(name).as_str()
}

/// Checks what can be checked while values may still be unknown.
/// Why a base URL cannot be used, if it cannot: it must be an absolute
/// http(s) URL with a host.
fn base_url_problem(url: &str) -> Option<String> {
    let parsed = reqwest::Url::parse(url.trim());
    match parsed {
        Ok(u)
            if matches!(u.scheme(), "http" | "https")
                && u.host_str().is_some_and(|h| !h.is_empty()) =>
        {
            None
        }
        _ => Some(format!(
            "{url:?} is not an absolute http(s) URL such as https://api.cloudflare.com/client/v4."
        )),
    }
}

fn account_id_rule(v: &Value) -> Result<(), String> {
    match v.as_str() {
        Some(id) if !is_account_id(id) => Err(format!(
            "{id:?} is not a Cloudflare account id: 32 hexadecimal characters, as shown in the dashboard URL."
        )),
        _ => Ok(()),
    }
}

fn base_url_rule(v: &Value) -> Result<(), String> {
    match v.as_str().and_then(base_url_problem) {
        Some(problem) => Err(format!("base_url: {problem}")),
        None => Ok(()),
    }
}

fn whole_in(name: &str, v: &Value, min: i64, max: i64) -> Result<(), String> {
    match v.as_number() {
        Some(n) if !matches!(n.to_i64(), Some(i) if (min..=max).contains(&i)) => Err(format!(
            "{name} must be a whole number from {min} to {max}, got {n}."
        )),
        _ => Ok(()),
    }
}

fn max_retries_rule(v: &Value) -> Result<(), String> {
    whole_in("max_retries", v, 0, 20)
}

fn per_5_minutes_rule(v: &Value) -> Result<(), String> {
    whole_in("rate_limit_per_5_minutes", v, 1, 1_000_000)
}

fn per_second_rule(v: &Value) -> Result<(), String> {
    whole_in("rate_limit_per_second", v, 1, 10_000)
}

fn request_timeout_rule(v: &Value) -> Result<(), String> {
    match v.as_str().map(parse_go_duration) {
        Some(Ok(d)) if d.is_zero() => {
            Err("request_timeout must be longer than zero, e.g. \"30s\".".into())
        }
        Some(Err(e)) => Err(format!("request_timeout: {e}")),
        _ => Ok(()),
    }
}

/// The schema's declarative rules (the engine every resource's
/// configuration goes through), then what depends on the environment.
pub fn validate(config: &Value, env: &dyn Env, diags: &mut Diagnostics) {
    let schema = schema();
    rules::validate(
        &schema.attributes,
        &schema.blocks,
        config,
        ClientCapabilities::default(),
        diags,
    );
    let set = |name: &str| !config.get(name).is_null();
    if set("api_key") && !set("email") && env.get("CLOUDFLARE_EMAIL").is_none() {
        diags.error_at(
            AttrPath::root("email"),
            "Missing email for the global API key",
            "api_key is sent with X-Auth-Email: set email, or CLOUDFLARE_EMAIL.",
        );
    }
    if config.get("base_url").is_null() {
        if let Some(problem) = env
            .get("CLOUDFLARE_BASE_URL")
            .and_then(|u| base_url_problem(&u))
        {
            diags.error(
                "Invalid base URL",
                format!("CLOUDFLARE_BASE_URL: {problem}"),
            );
        }
    }
}

/// Resolves the final settings. Unknown values (a provider block fed from
/// resources not yet created) count as unset until they are known.
pub fn resolve(config: &Value, env: &dyn Env, diags: &mut Diagnostics) -> Option<ProviderConfig> {
    validate(config, env, diags);
    if diags.has_errors() {
        return None;
    }
    let pick = |attr: &str, var: &str| {
        known_str(config, attr)
            .map(str::to_string)
            .or_else(|| env.get(var))
    };
    let token = pick("api_token", "CLOUDFLARE_API_TOKEN");
    let key = pick("api_key", "CLOUDFLARE_API_KEY");
    let email = pick("email", "CLOUDFLARE_EMAIL");
    let credentials = match (token, key) {
        (Some(token), _) if known_str(config, "api_key").is_none() => {
            Some(Credentials::Token(Secret::new(token)))
        }
        (_, Some(key)) => match email {
            Some(email) => Some(Credentials::GlobalKey {
                key: Secret::new(key),
                email,
            }),
            None => {
                diags.error_at(
                    AttrPath::root("email"),
                    "Missing email for the global API key",
                    "api_key (or CLOUDFLARE_API_KEY) needs email or CLOUDFLARE_EMAIL.",
                );
                return None;
            }
        },
        _ => None,
    };
    let account_id = pick("account_id", "CLOUDFLARE_ACCOUNT_ID");
    if let Some(id) = &account_id {
        if !is_account_id(id) {
            diags.error(
                "Invalid account id",
                format!("CLOUDFLARE_ACCOUNT_ID={id:?} is not a Cloudflare account id (32 hexadecimal characters)."),
            );
            return None;
        }
    }
    let number = |name: &str, default: u32| config.get(name).as_i64().map_or(default, |n| n as u32);
    let request_timeout = known_str(config, "request_timeout")
        .and_then(|t| parse_go_duration(t).ok())
        .unwrap_or(Duration::from_secs(30));
    Some(ProviderConfig {
        credentials,
        account_id,
        base_url: pick("base_url", "CLOUDFLARE_BASE_URL")
            .unwrap_or_else(|| DEFAULT_BASE_URL.to_string())
            .trim_end_matches('/')
            .to_string(),
        max_retries: number("max_retries", 4),
        rate_limit_per_5_minutes: number("rate_limit_per_5_minutes", 1200),
        rate_limit_per_second: number("rate_limit_per_second", 100),
        request_timeout,
    })
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    struct FakeEnv(HashMap<&'static str, &'static str>);

    impl Env for FakeEnv {
        fn get(&self, name: &str) -> Option<String> {
            self.0.get(name).map(|v| v.to_string())
        }
    }

    fn config(pairs: &[(&str, Value)]) -> Value {
        let mut v = Value::object(
            schema()
                .attributes
                .iter()
                .map(|a| (a.name.clone(), Value::Null)),
        );
        for (k, val) in pairs {
            v.set(k, val.clone());
        }
        v
    }

    #[test]
    fn token_and_key_conflict_on_the_key_path() {
        let mut diags = Diagnostics::new();
        validate(
            &config(&[
                ("api_token", "t".into()),
                ("api_key", "k".into()),
                ("email", "a@b".into()),
            ]),
            &FakeEnv(HashMap::new()),
            &mut diags,
        );
        let errors: Vec<_> = diags.iter().collect();
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].path, Some(AttrPath::root("api_key")));
    }

    #[test]
    fn unknown_values_are_not_judged() {
        let mut diags = Diagnostics::new();
        validate(
            &config(&[
                ("api_token", Value::Unknown),
                ("account_id", Value::Unknown),
            ]),
            &FakeEnv(HashMap::new()),
            &mut diags,
        );
        assert!(!diags.has_errors());
    }

    #[test]
    fn environment_fills_in_and_config_wins() {
        let env = FakeEnv(HashMap::from([
            ("CLOUDFLARE_API_TOKEN", "from-env"),
            ("CLOUDFLARE_ACCOUNT_ID", "0123456789abcdef0123456789abcdef"),
        ]));
        let mut diags = Diagnostics::new();
        let resolved = resolve(
            &config(&[("request_timeout", "1m".into())]),
            &env,
            &mut diags,
        )
        .unwrap();
        assert!(
            matches!(resolved.credentials, Some(Credentials::Token(ref t)) if t.expose() == "from-env")
        );
        assert_eq!(resolved.request_timeout, Duration::from_secs(60));
        assert_eq!(resolved.max_retries, 4);
        let resolved = resolve(
            &config(&[("api_token", "from-config".into())]),
            &env,
            &mut diags,
        )
        .unwrap();
        assert!(
            matches!(resolved.credentials, Some(Credentials::Token(ref t)) if t.expose() == "from-config")
        );
    }

    #[test]
    fn bad_values_fail_on_their_path() {
        let mut diags = Diagnostics::new();
        validate(
            &config(&[
                ("request_timeout", "soon".into()),
                ("max_retries", Value::number(-1)),
                ("account_id", "xyz".into()),
            ]),
            &FakeEnv(HashMap::new()),
            &mut diags,
        );
        let paths: Vec<String> = diags
            .iter()
            .filter_map(|d| d.path.as_ref().map(|p| p.to_string()))
            .collect();
        assert_eq!(paths, vec!["account_id", "max_retries", "request_timeout"]);
    }
}
