//! The cfai provider: its configuration, functions, resources and data
//! sources, registered with the framework.

pub mod config;
pub mod functions;

use async_trait::async_trait;
use tokio_util::sync::CancellationToken;
use tracing::debug;

use crate::cloudflare::{ApiError, Auth, Client, ClientConfig};
use crate::context::{api_error, Configured};
use crate::cty::Value;
use crate::framework::{
    Action, DataSource, Diagnostics, EphemeralResource, Function, ProviderDef, Resource, Schema,
};
use config::{Credentials, ProcessEnv, ProviderConfig};

/// Where the processes of one token and API share their send times (the
/// name hashes both: no secret is written anywhere).
fn journal_path(config: &ProviderConfig) -> std::path::PathBuf {
    use sha2::{Digest, Sha256};
    let mut hash = Sha256::new();
    hash.update(config.base_url.as_bytes());
    hash.update([0]);
    match &config.credentials {
        Some(Credentials::Token(t)) => hash.update(t.expose().as_bytes()),
        Some(Credentials::GlobalKey { key, email }) => {
            hash.update(key.expose().as_bytes());
            hash.update(email.as_bytes());
        }
        None => {}
    }
    let digest = hex::encode(hash.finalize());
    // The directory may be set apart (tests give each workspace its own,
    // so that unrelated runs that happen to reuse a port share nothing).
    let dir = std::env::var_os("CFAI_REQUEST_JOURNAL_DIR")
        .filter(|d| !d.is_empty())
        .map(std::path::PathBuf::from)
        .unwrap_or_else(std::env::temp_dir);
    dir.join(format!("cfai-requests-{}.log", &digest[..16]))
}

/// The API client for a resolved provider configuration.
fn client_for(config: &ProviderConfig, stop: CancellationToken) -> Result<Client, ApiError> {
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
    client_config.cancel = stop;
    client_config.journal = Some(journal_path(config));
    Client::new(client_config)
}

pub const PROVIDER_ADDRESS: &str = "registry.terraform.io/seed/cfai";

pub struct CfaiProvider;

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
        stop: CancellationToken,
        diags: &mut Diagnostics,
    ) -> Option<Configured> {
        let config = config::resolve(config, &ProcessEnv, diags)?;
        debug!(base_url = %config.base_url, account_id = ?config.account_id, has_credentials = config.credentials.is_some(), "provider configured");
        match client_for(&config, stop) {
            Ok(client) => Some(Configured::new(client, config.account_id)),
            Err(e) => {
                diags.push(api_error("Could not set up the Cloudflare client", &e));
                None
            }
        }
    }

    fn resources(&self) -> Vec<Box<dyn Resource<Configured>>> {
        vec![
            Box::new(crate::resources::api_token::ApiToken::ACCOUNT),
            Box::new(crate::resources::api_token::ApiToken::USER),
            Box::new(crate::resources::ai_search_namespace::AiSearchNamespace),
            Box::new(crate::resources::ai_search_service_token::AiSearchServiceToken),
            Box::new(crate::resources::ai_search_instance::AiSearchInstance),
        ]
    }

    fn data_sources(&self) -> Vec<Box<dyn DataSource<Configured>>> {
        vec![
            Box::new(crate::resources::permission_groups_data::PermissionGroups),
            Box::new(crate::resources::ai_search_service_tokens_data::AiSearchServiceTokens),
            Box::new(crate::resources::ai_search_instance_data::AiSearchInstanceData),
        ]
    }

    fn ephemeral_resources(&self) -> Vec<Box<dyn EphemeralResource<Configured>>> {
        vec![
            Box::new(crate::resources::ephemeral_api_token::EphemeralApiToken::ACCOUNT),
            Box::new(crate::resources::ephemeral_api_token::EphemeralApiToken::USER),
            Box::new(crate::resources::ephemeral_r2_temporary_credentials::R2TemporaryCredentials),
            Box::new(crate::resources::ephemeral_r2_presigned_url::R2PresignedUrl),
        ]
    }

    fn functions(&self) -> Vec<Box<dyn Function>> {
        functions::all()
    }

    fn actions(&self) -> Vec<Box<dyn Action<Configured>>> {
        vec![
            Box::new(crate::resources::ai_search_sync::AiSearchSync),
            Box::new(crate::resources::ai_search_purge_cache::AiSearchPurgeCache),
        ]
    }

    /// Run tokens whose Close never came (a failed or interrupted run) are
    /// deleted now rather than left to expire.
    async fn shutdown(&self, data: &Configured) {
        for failure in data.close_run_tokens().await {
            tracing::warn!(%failure, "could not delete a run token left open; it expires at its ttl");
        }
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
        for e in p.ephemeral_resources() {
            let schema = e.schema();
            problems.extend(
                schema
                    .lint()
                    .into_iter()
                    .map(|x| format!("ephemeral {}: {x}", e.type_name())),
            );
            // Ephemeral schemas take no defaults, plan behaviour or write-only.
            for a in &schema.attributes {
                if a.default.is_some() || a.requires_replace || a.write_only || a.unknown_on_change
                {
                    problems.push(format!(
                        "ephemeral {}: {} has a managed-only rule",
                        e.type_name(),
                        a.name
                    ));
                }
            }
        }
        assert!(problems.is_empty(), "{problems:#?}");
    }
}
