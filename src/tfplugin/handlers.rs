//! The bodies of the stateful RPCs: decode, apply the framework's rules,
//! call the resource, encode. The gRPC signatures are in `server.rs`.

use tracing::debug;

use super::convert::{self, decode, encode};
use super::proto;
use super::server::{decode_private, encode_private, ProviderServer};
use crate::cty::Value;
use crate::framework::guard::{self, Stage};
use crate::framework::plan::{apply_plan_rules, clear_write_only, finish_plan};
use crate::framework::rules::keep_equivalent;
use crate::framework::{ClientCapabilities, Diagnostic, Diagnostics, Private, ProviderDef, Schema};

macro_rules! try_diag {
    ($diags:ident, $expr:expr, $ret:expr) => {
        match $expr {
            Ok(v) => v,
            Err(d) => {
                $diags.push(d);
                return $ret;
            }
        }
    };
}

pub(super) fn capabilities(caps: Option<&proto::ClientCapabilities>) -> ClientCapabilities {
    caps.map(|c| ClientCapabilities {
        write_only_attributes: c.write_only_attributes_allowed,
        deferral: c.deferral_allowed,
    })
    .unwrap_or_default()
}

/// A state about to go back to Terraform: equivalent spellings of `kept`
/// (the plan after apply, the prior state after read) are kept, write-only
/// attributes are null, and the guard holds it to Terraform's rules
/// (conforming, wholly known; after apply, every known planned value kept).
/// A broken rule is reported on its attribute rather than silently mended.
pub(super) fn finish_state(
    type_name: &str,
    schema: &Schema,
    kept: &Value,
    state: &mut Value,
    stage: Stage,
    strict: bool,
    diags: &mut Diagnostics,
) {
    keep_equivalent(&schema.attributes, kept, state);
    clear_write_only(&schema.attributes, state);
    if diags.has_errors() {
        // A failed operation returns what it knows; as Terraform does, the
        // rest is null rather than a second error on top of the first.
        state.unknowns_to_null();
        return;
    }
    let violations = match stage {
        Stage::Apply => guard::check_apply(schema, kept, state),
        _ => guard::check_read(schema, state),
    };
    for d in guard::refuse(type_name, stage, &violations, strict) {
        diags.push(d);
    }
    if diags.has_errors() {
        state.unknowns_to_null();
    }
}

pub(super) fn capture<T>(diags: &mut Diagnostics, result: Result<T, Diagnostic>) -> Option<T> {
    match result {
        Ok(v) => Some(v),
        Err(d) => {
            diags.push(d);
            None
        }
    }
}

/// The RPC bodies, kept apart from the gRPC signatures above.
impl<P: ProviderDef> ProviderServer<P> {
    pub(super) fn upgrade(
        &self,
        req: &proto::upgrade_resource_state::Request,
        diags: &mut Diagnostics,
    ) -> Option<proto::DynamicValue> {
        let r = try_diag!(diags, self.resource(&req.type_name), None);
        let raw = req
            .raw_state
            .as_ref()
            .map(|s| s.json.as_slice())
            .unwrap_or_default();
        if raw.is_empty() {
            diags.error(
                "Unsupported state format",
                "This resource's state is in the pre-0.12 flatmap format, which cfai never wrote. Remove it from the state and import it again.",
            );
            return None;
        }
        if req.version > r.schema.version {
            diags.error(
                "State written by a newer provider",
                format!(
                    "The state of this {} has schema version {}, but this provider only knows up to version {}. Upgrade the cfai provider.",
                    req.type_name, req.version, r.schema.version
                ),
            );
            return None;
        }
        let mut state = r.item.upgrade_state(req.version, raw, diags)?;
        clear_write_only(&r.schema.attributes, &mut state);
        state.unknowns_to_null();
        capture(diags, encode(&state, &r.ty, "upgraded state"))
    }

    pub(super) async fn read(
        &self,
        req: &proto::read_resource::Request,
        private: &mut Private,
        identity: &mut Option<proto::ResourceIdentityData>,
        diags: &mut Diagnostics,
    ) -> Option<proto::DynamicValue> {
        let r = try_diag!(
            diags,
            self.resource(&req.type_name),
            req.current_state.clone()
        );
        let ty = &r.ty;
        let current = try_diag!(
            diags,
            decode(req.current_state.as_ref(), ty, "current state"),
            req.current_state.clone()
        );
        let data = try_diag!(diags, self.data(), req.current_state.clone());
        debug!(type_name = %req.type_name, "ReadResource");
        let result = {
            let outcome = self
                .cancellable(r.item.read(&data, &current, private, diags))
                .await;
            capture(diags, outcome)
        };
        match result {
            Some(Some(mut state)) => {
                finish_state(
                    &req.type_name,
                    &r.schema,
                    &current,
                    &mut state,
                    Stage::Read,
                    self.strict,
                    diags,
                );
                if let (false, Some(id)) = (diags.has_errors(), self.identities.get(&req.type_name))
                {
                    *identity = id.data(&state, diags).or(identity.take());
                }
                capture(diags, encode(&state, ty, "refreshed state")).or(req.current_state.clone())
            }
            // Gone: Terraform drops it from state and plans a create.
            Some(None) if !diags.has_errors() => {
                *identity = None;
                Some(proto::DynamicValue {
                    msgpack: vec![0xc0],
                    json: Vec::new(),
                })
            }
            // A failed read must never look like a deletion.
            _ => req.current_state.clone(),
        }
    }

    pub(super) async fn plan(
        &self,
        req: &proto::plan_resource_change::Request,
        diags: &mut Diagnostics,
    ) -> Option<(
        Option<proto::DynamicValue>,
        Vec<proto::AttributePath>,
        Vec<u8>,
        Option<proto::ResourceIdentityData>,
    )> {
        let r = try_diag!(diags, self.resource(&req.type_name), None);
        let ty = &r.ty;
        let prior = try_diag!(
            diags,
            decode(req.prior_state.as_ref(), ty, "prior state"),
            None
        );
        let proposed = try_diag!(
            diags,
            decode(req.proposed_new_state.as_ref(), ty, "proposed new state"),
            None
        );
        let config = try_diag!(
            diags,
            decode(req.config.as_ref(), ty, "configuration"),
            None
        );
        if proposed.is_null() {
            // Destroy: nothing to decide, but we still answer (plan_destroy).
            return Some((
                Some(proto::DynamicValue {
                    msgpack: vec![0xc0],
                    json: Vec::new(),
                }),
                Vec::new(),
                req.prior_private.clone(),
                None,
            ));
        }
        let data = try_diag!(diags, self.data(), None);
        debug!(type_name = %req.type_name, create = prior.is_null(), "PlanResourceChange");
        let mut change = apply_plan_rules(
            &r.schema,
            prior,
            config,
            proposed,
            decode_private(&req.prior_private),
            capabilities(req.client_capabilities.as_ref()),
        );
        {
            let outcome = self
                .cancellable(r.item.plan(&data, &mut change, diags))
                .await;
            capture(diags, outcome)
        }?;
        finish_plan(&r.schema, &mut change);
        if diags.has_errors() {
            return None;
        }
        let violations = guard::check_plan(&r.schema, ty, &change);
        for d in guard::refuse(&req.type_name, Stage::Plan, &violations, self.strict) {
            diags.push(d);
        }
        if diags.has_errors() {
            return None;
        }
        let planned = capture(diags, encode(&change.planned, ty, "planned state"))?;
        let replace: Vec<_> = change.requires_replace.iter().map(convert::path).collect();
        // Until a replacement is applied, the object that exists is the
        // prior one (Terraform plans the new object's creation separately).
        let planned_object = match replace.is_empty() {
            true => &change.planned,
            false => &change.prior,
        };
        let identity = self
            .identities
            .get(&req.type_name)
            .and_then(|id| id.planned(&change.prior, planned_object, diags));
        Some((
            Some(planned),
            replace,
            encode_private(&change.private),
            identity,
        ))
    }

    pub(super) async fn apply(
        &self,
        req: &proto::apply_resource_change::Request,
        private: &mut Private,
        identity: &mut Option<proto::ResourceIdentityData>,
        diags: &mut Diagnostics,
    ) -> Option<proto::DynamicValue> {
        let r = try_diag!(
            diags,
            self.resource(&req.type_name),
            req.prior_state.clone()
        );
        let ty = &r.ty;
        let prior = try_diag!(
            diags,
            decode(req.prior_state.as_ref(), ty, "prior state"),
            req.prior_state.clone()
        );
        let planned = try_diag!(
            diags,
            decode(req.planned_state.as_ref(), ty, "planned state"),
            req.prior_state.clone()
        );
        let config = try_diag!(
            diags,
            decode(req.config.as_ref(), ty, "configuration"),
            req.prior_state.clone()
        );
        let data = try_diag!(diags, self.data(), req.prior_state.clone());
        let item = &r.item;
        let result = if planned.is_null() {
            debug!(type_name = %req.type_name, "ApplyResourceChange: delete");
            // Writes are not raced against StopProvider: the client abandons
            // what it has not sent and sees through what it has, so the
            // result always reaches Terraform's state.
            item.delete(&data, &prior, diags).await;
            if diags.has_errors() {
                Some(prior.clone())
            } else {
                Some(Value::Null)
            }
        } else if prior.is_null() {
            debug!(type_name = %req.type_name, "ApplyResourceChange: create");
            let created = item.create(&data, &planned, &config, private, diags).await;
            if created.is_none() && !diags.has_errors() {
                diags.error(
                    "Missing resource state after create",
                    format!("The {} create returned no state and no error. This is a bug in the cfai provider; please report it.", req.type_name),
                );
            }
            created
        } else {
            debug!(type_name = %req.type_name, "ApplyResourceChange: update");
            let updated = item
                .update(&data, &prior, &planned, &config, private, diags)
                .await;
            updated.or(Some(prior.clone()))
        };
        let mut state = result.unwrap_or(Value::Null);
        if !state.is_null() {
            finish_state(
                &req.type_name,
                &r.schema,
                &planned,
                &mut state,
                Stage::Apply,
                self.strict,
                diags,
            );
            if let Some(id) = self.identities.get(&req.type_name) {
                if state.is_wholly_known() {
                    *identity = id.data(&state, diags);
                }
            }
        }
        capture(diags, encode(&state, ty, "new state"))
    }

    pub(super) async fn import(
        &self,
        req: &proto::import_resource_state::Request,
        diags: &mut Diagnostics,
    ) -> Option<proto::import_resource_state::ImportedResource> {
        let r = try_diag!(diags, self.resource(&req.type_name), None);
        let data = try_diag!(diags, self.data(), None);
        let identity = self.identities.get(&req.type_name);
        // Importing by identity is importing by the id it names.
        let id = match (req.id.is_empty(), identity) {
            (true, Some(identity)) if req.identity.is_some() => {
                try_diag!(diags, identity.import_id(req.identity.as_ref()), None)
            }
            _ => req.id.clone(),
        };
        debug!(type_name = %req.type_name, "ImportResourceState");
        let (mut state, private) = {
            let outcome = self.cancellable(r.item.import(&data, &id, diags)).await;
            capture(diags, outcome)
        }
        .flatten()?;
        clear_write_only(&r.schema.attributes, &mut state);
        state.unknowns_to_null();
        let encoded = capture(diags, encode(&state, &r.ty, "imported state"))?;
        Some(proto::import_resource_state::ImportedResource {
            type_name: req.type_name.clone(),
            state: Some(encoded),
            private: encode_private(&private),
            identity: identity.and_then(|id| id.data(&state, diags)),
        })
    }

    pub(super) async fn read_data(
        &self,
        req: &proto::read_data_source::Request,
        diags: &mut Diagnostics,
    ) -> Option<proto::DynamicValue> {
        let d = try_diag!(diags, self.data_source(&req.type_name), None);
        let ty = &d.ty;
        let config = try_diag!(
            diags,
            decode(req.config.as_ref(), ty, "configuration"),
            None
        );
        let data = try_diag!(diags, self.data(), None);
        debug!(type_name = %req.type_name, "ReadDataSource");
        let mut state = {
            let outcome = self.cancellable(d.item.read(&data, &config, diags)).await;
            capture(diags, outcome)
        }
        .flatten()?;
        finish_state(
            &req.type_name,
            &d.schema,
            &config,
            &mut state,
            Stage::Read,
            self.strict,
            diags,
        );
        capture(diags, encode(&state, ty, "data source result"))
    }

    pub(super) fn call(
        &self,
        req: &proto::call_function::Request,
    ) -> Result<proto::DynamicValue, proto::FunctionError> {
        let error = |text: String, argument: Option<usize>| proto::FunctionError {
            text,
            function_argument: argument.map(|i| i as i64),
        };
        let Some(function) = self.functions.get(&req.name) else {
            return Err(error(
                format!("cfai has no function named {:?}", req.name),
                None,
            ));
        };
        let def = function.definition();
        if req.arguments.len() != def.parameters.len() {
            return Err(error(
                format!(
                    "{} takes {} arguments, got {}",
                    req.name,
                    def.parameters.len(),
                    req.arguments.len()
                ),
                None,
            ));
        }
        let mut args = Vec::with_capacity(def.parameters.len());
        for (i, (param, raw)) in def.parameters.iter().zip(&req.arguments).enumerate() {
            let value = decode(Some(raw), &param.ty, "function argument")
                .map_err(|d| error(d.detail, Some(i)))?;
            args.push(value);
        }
        debug!(function = %req.name, "CallFunction");
        let result = function
            .call(&args)
            .map_err(|e| error(e.text, e.argument))?;
        encode(&result, &def.return_type, "function result").map_err(|d| error(d.detail, None))
    }
}
