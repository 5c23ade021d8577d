//! The cfai provider: its configuration, functions, resources and data
//! sources, registered with the framework.

pub mod config;
pub mod functions;
pub mod validators;

use async_trait::async_trait;
use tracing::debug;

use crate::cty::Value;
use crate::framework::{DataSource, Diagnostics, Function, ProviderDef, Resource, Schema};
use config::{ProcessEnv, ProviderConfig};

pub const PROVIDER_ADDRESS: &str = "registry.terraform.io/seed/cfai";

pub struct CfaiProvider;

/// What every resource receives once the provider block is configured.
pub struct Configured {
    pub config: ProviderConfig,
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
        Some(Configured { config })
    }

    fn resources(&self) -> Vec<Box<dyn Resource<Configured>>> {
        Vec::new()
    }

    fn data_sources(&self) -> Vec<Box<dyn DataSource<Configured>>> {
        Vec::new()
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
