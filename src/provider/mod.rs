//! The cfai provider: its configuration, functions, resources and data
//! sources, registered with the framework.

pub mod config;
pub mod functions;
pub mod validators;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use tokio::sync::OnceCell;
use tracing::debug;

use crate::cloudflare::models::PermissionGroup;
use crate::cloudflare::{ApiError, Auth, Client, ClientConfig, ErrorKind};
use crate::cty::Value;
use crate::framework::{
    AttrPath, DataSource, Diagnostic, Diagnostics, Function, ProviderDef, Resource, Schema,
};
use config::{Credentials, ProcessEnv, ProviderConfig};

pub const PROVIDER_ADDRESS: &str = "registry.terraform.io/seed/cfai";

pub struct CfaiProvider;

type GroupCell = Arc<OnceCell<Arc<Vec<PermissionGroup>>>>;

/// What every resource receives once the provider block is configured.
pub struct Configured {
    pub config: ProviderConfig,
    client: Client,
    /// Permission groups per account, fetched at most once per process.
    groups: Mutex<HashMap<String, GroupCell>>,
}

impl Configured {
    pub fn new(config: ProviderConfig) -> Result<Self, ApiError> {
        let auth = config.credentials.as_ref().map(|c| match c {
            Credentials::Token(t) => Auth::Token(t.clone()),
            Credentials::GlobalKey { key, email } => Auth::GlobalKey {
                key: key.clone(),
                email: email.clone(),
            },
        });
        let mut client_config = ClientConfig::new(&config.base_url, auth);
        client_config.max_retries = config.max_retries;
        client_config.rate_limit_per_5_minutes = config.rate_limit_per_5_minutes;
        client_config.rate_limit_per_second = config.rate_limit_per_second;
        client_config.request_timeout = config.request_timeout;
        let client = Client::new(client_config)?;
        Ok(Configured {
            config,
            client,
            groups: Mutex::new(HashMap::new()),
        })
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

    /// The resource's own `account_id`, else the provider's.
    pub fn account_id(&self, configured: &Value) -> Result<String, Diagnostic> {
        if let Some(id) = configured.as_str() {
            return Ok(id.to_string());
        }
        self.config.account_id.clone().ok_or_else(|| {
            Diagnostic::error(
                "No account id",
                "Set account_id on this resource, or on the provider block (or CLOUDFLARE_ACCOUNT_ID).",
            )
            .at(AttrPath::root("account_id"))
        })
    }

    pub async fn permission_groups(
        &self,
        account: &str,
    ) -> Result<Arc<Vec<PermissionGroup>>, Diagnostic> {
        let client = self.client()?;
        let cell = {
            let mut groups = self.groups.lock().unwrap_or_else(|p| p.into_inner());
            groups.entry(account.to_string()).or_default().clone()
        };
        cell.get_or_try_init(|| async {
            debug!(account, "fetching permission groups");
            client
                .permission_groups(account, None, None)
                .await
                .map(Arc::new)
        })
        .await
        .cloned()
        .map_err(|e| api_error("Could not list permission groups", &e))
    }
}

/// An API failure as a diagnostic: what failed, then Cloudflare's own codes
/// and messages verbatim, then what to do.
pub fn api_error(summary: &str, error: &ApiError) -> Diagnostic {
    let advice = match error.kind {
        ErrorKind::Auth => "Check that the API token is valid and has the permissions this needs (e.g. \"Account API Tokens Write\").",
        ErrorKind::RateLimited => "Cloudflare's rate limit was reached; lower rate_limit_per_5_minutes or retry later.",
        ErrorKind::Transport => "Check the network path to the API (base_url) and retry.",
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

#[async_trait]
impl ProviderDef for CfaiProvider {
    type Data = Configured;

    fn schema(&self) -> Schema {
        config::schema()
    }

    fn validate(&self, config: &Value, diags: &mut Diagnostics) {
        config::validate(config, &ProcessEnv, diags);
    }

    async fn configure(
        &self,
        config: &Value,
        _terraform_version: &str,
        diags: &mut Diagnostics,
    ) -> Option<Configured> {
        let config = config::resolve(config, &ProcessEnv, diags)?;
        debug!(base_url = %config.base_url, account_id = ?config.account_id, has_credentials = config.credentials.is_some(), "provider configured");
        match Configured::new(config) {
            Ok(configured) => Some(configured),
            Err(e) => {
                diags.push(api_error("Could not set up the Cloudflare client", &e));
                None
            }
        }
    }

    fn resources(&self) -> Vec<Box<dyn Resource<Configured>>> {
        vec![Box::new(
            crate::resources::account_api_token::AccountApiToken,
        )]
    }

    fn data_sources(&self) -> Vec<Box<dyn DataSource<Configured>>> {
        vec![Box::new(
            crate::resources::permission_groups_data::PermissionGroups,
        )]
    }

    fn functions(&self) -> Vec<Box<dyn Function>> {
        functions::all()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_schema_is_well_formed() {
        let p = CfaiProvider;
        let mut problems = p.schema().lint();
        for r in p.resources() {
            problems.extend(
                r.schema()
                    .lint()
                    .into_iter()
                    .map(|e| format!("{}: {e}", r.type_name())),
            );
        }
        for d in p.data_sources() {
            problems.extend(
                d.schema()
                    .lint()
                    .into_iter()
                    .map(|e| format!("{}: {e}", d.type_name())),
            );
        }
        assert!(problems.is_empty(), "{problems:#?}");
    }
}
