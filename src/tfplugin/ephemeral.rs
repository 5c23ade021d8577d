//! The ephemeral-resource RPC bodies: validate, open (never with unknowns),
//! renew and close, with private data carried from Open to Close.

use std::time::SystemTime;

use tracing::debug;

use super::convert::{decode, encode};
use super::handlers::capture;
use super::proto;
use super::server::{decode_private, encode_private, ProviderServer};
use crate::cty::Value;
use crate::framework::schema::Schema;
use crate::framework::{rules, ClientCapabilities, Diagnostics, ProviderDef};

fn timestamp(t: SystemTime) -> prost_types::Timestamp {
    prost_types::Timestamp::from(t)
}

/// The result Terraform gets for a configuration not yet known: every
/// configured value as it is, every computed one unknown.
fn unknown_result(schema: &Schema, config: &Value) -> Value {
    let mut result = config.clone();
    for attr in schema.attributes.iter().filter(|a| a.computed) {
        if config.get(&attr.name).is_null() {
            result.set(&attr.name, Value::Unknown);
        }
    }
    result
}

impl<P: ProviderDef> ProviderServer<P> {
    pub(super) fn validate_ephemeral(
        &self,
        req: &proto::validate_ephemeral_resource_config::Request,
        diags: &mut Diagnostics,
    ) {
        let Some(e) = capture(diags, self.ephemeral_resource(&req.type_name)) else {
            return;
        };
        let ty = &e.ty;
        if let Some(config) = capture(diags, decode(req.config.as_ref(), ty, "configuration")) {
            let caps = ClientCapabilities::default();
            rules::validate(&e.schema.attributes, &e.schema.blocks, &config, caps, diags);
            e.item.validate(&config, diags);
        }
    }

    pub(super) async fn open(
        &self,
        req: &proto::open_ephemeral_resource::Request,
        diags: &mut Diagnostics,
    ) -> Option<(
        proto::DynamicValue,
        Option<Vec<u8>>,
        Option<prost_types::Timestamp>,
    )> {
        let e = capture(diags, self.ephemeral_resource(&req.type_name))?;
        let ty = &e.ty;
        let config = capture(diags, decode(req.config.as_ref(), ty, "configuration"))?;
        if !config.is_wholly_known() {
            // Nothing is created for a configuration still being decided.
            let result = unknown_result(&e.schema, &config);
            return capture(diags, encode(&result, ty, "ephemeral result"))
                .map(|r| (r, None, None));
        }
        let data = capture(diags, self.data())?;
        debug!(type_name = %req.type_name, "OpenEphemeralResource");
        let opened = {
            let outcome = self.cancellable(e.item.open(&data, &config, diags)).await;
            capture(diags, outcome)
        }
        .flatten()?;
        let mut result = opened.result;
        if !result.is_wholly_known() {
            diags.error(
                "Provider left an unknown value in an ephemeral result",
                format!(
                    "{} opened with unknown values. This is a bug in the cfai provider.",
                    req.type_name
                ),
            );
            result.unknowns_to_null();
        }
        let encoded = capture(diags, encode(&result, ty, "ephemeral result"))?;
        let private = Some(encode_private(&opened.private)).filter(|p| !p.is_empty());
        Some((encoded, private, opened.renew_at.map(timestamp)))
    }

    pub(super) async fn renew(
        &self,
        req: &proto::renew_ephemeral_resource::Request,
        diags: &mut Diagnostics,
    ) -> Option<(Option<Vec<u8>>, Option<prost_types::Timestamp>)> {
        let e = capture(diags, self.ephemeral_resource(&req.type_name))?;
        let data = capture(diags, self.data())?;
        let private = decode_private(req.private.as_deref().unwrap_or_default());
        let (private, renew_at) = e.item.renew(&data, &private, diags).await?;
        Some((
            Some(encode_private(&private)).filter(|p| !p.is_empty()),
            renew_at.map(timestamp),
        ))
    }

    pub(super) async fn close(
        &self,
        req: &proto::close_ephemeral_resource::Request,
        diags: &mut Diagnostics,
    ) {
        let Some(e) = capture(diags, self.ephemeral_resource(&req.type_name)) else {
            return;
        };
        let Some(data) = capture(diags, self.data()) else {
            return;
        };
        let private = decode_private(req.private.as_deref().unwrap_or_default());
        debug!(type_name = %req.type_name, "CloseEphemeralResource");
        // Close deletes what Open made: it runs to the end, even when stopping.
        e.item.close(&data, &private, diags).await;
    }
}
