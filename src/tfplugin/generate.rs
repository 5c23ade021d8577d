//! Generated configuration (protocol 6.10, Terraform >= 1.14): the
//! configuration `-generate-config-out` writes for an imported object, as a
//! person would write it. Without this answer Terraform writes every
//! optional attribute of the state back, which for some resources is not a
//! valid configuration.

use super::convert::{decode, encode};
use super::proto;
use super::server::ProviderServer;
use crate::cty::Value;
use crate::framework::{Diagnostic, Nesting, ProviderDef, Schema};

impl<P: ProviderDef> ProviderServer<P> {
    pub(super) fn generate_config(
        &self,
        req: &proto::generate_resource_config::Request,
    ) -> Result<proto::DynamicValue, Diagnostic> {
        let r = self.resource(&req.type_name)?;
        let state = decode(req.state.as_ref(), &r.ty, "imported state")?;
        let mut config = r.item.generate_config(&state);
        keep_arguments(&r.schema, &mut config);
        encode(&config, &r.ty, "generated configuration")
    }
}

/// Only what a configuration may say and the state can give: no
/// computed-only attribute (a configuration cannot set it), no secret (the
/// state's copy is not for a file), no single nested block (`timeouts`
/// keeps its defaults).
fn keep_arguments(schema: &Schema, config: &mut Value) {
    if config.is_null() {
        return;
    }
    for attribute in &schema.attributes {
        let computed_only = attribute.computed && !attribute.optional && !attribute.required;
        if computed_only || attribute.sensitive || attribute.write_only {
            config.set(&attribute.name, Value::Null);
        }
    }
    for block in &schema.blocks {
        if block.nesting == Nesting::Single {
            config.set(&block.name, Value::Null);
        }
    }
}
