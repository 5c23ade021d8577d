//! `tfplugin6.Provider` for any [`ProviderDef`].

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::{Arc, RwLock};

use tokio_util::sync::CancellationToken;
use tonic::{Request, Response, Status};
use tracing::{debug, info};

use super::action::ActionStream;
use super::convert::{self, decode};
use super::handlers::capture;
use super::identity::{self, Identity};
use super::list::{EventStream, ListConfig};
use super::proto;
use crate::cty::Type;
use crate::framework::rules;
use crate::framework::ClientCapabilities;
use crate::framework::{
    Action, DataSource, Diagnostic, Diagnostics, EphemeralResource, Function, Private, ProviderDef,
    Resource, Schema,
};

/// Private state travels as JSON; anything else (another provider's) is ignored.
pub(super) fn decode_private(bytes: &[u8]) -> Private {
    serde_json::from_slice(bytes).unwrap_or_default()
}

pub(super) fn encode_private(private: &Private) -> Vec<u8> {
    if private.is_empty() {
        Vec::new()
    } else {
        serde_json::to_vec(private).unwrap_or_default()
    }
}

type RpcResult<T> = Result<Response<T>, Status>;

pub(super) struct Registered<T: ?Sized> {
    pub(super) schema: Schema,
    /// The schema's type, built once: every call decodes and encodes by it.
    pub(super) ty: Type,
    /// Shared, so that a streamed answer can outlive the call that began it.
    pub(super) item: Arc<T>,
}

impl<T: ?Sized> Registered<T> {
    fn new(schema: Schema, item: Box<T>) -> Self {
        Registered {
            ty: schema.cty_type(),
            schema,
            item: Arc::from(item),
        }
    }
}

type Registry<T> = BTreeMap<String, Registered<T>>;

pub struct ProviderServer<P: ProviderDef> {
    provider: Arc<P>,
    provider_schema: Schema,
    resources: Registry<dyn Resource<P::Data>>,
    /// Each managed resource's identity, by type name.
    pub(super) identities: BTreeMap<String, Identity>,
    /// The configuration of each listable type's `list` block.
    pub(super) lists: BTreeMap<String, ListConfig>,
    data_sources: Registry<dyn DataSource<P::Data>>,
    pub(super) ephemeral: Registry<dyn EphemeralResource<P::Data>>,
    pub(super) functions: BTreeMap<String, Box<dyn Function>>,
    pub(super) actions: Registry<dyn Action<P::Data>>,
    configured: Arc<RwLock<Option<Arc<P::Data>>>>,
    stop: CancellationToken,
    /// Debug builds panic on a broken framework rule (see `framework::guard`).
    pub(super) strict: bool,
}

/// Runs [`ProviderDef::shutdown`] with the configured data, if any.
pub struct ShutdownHook<P: ProviderDef> {
    provider: Arc<P>,
    configured: Arc<RwLock<Option<Arc<P::Data>>>>,
}

impl<P: ProviderDef> ShutdownHook<P> {
    pub async fn run(&self) {
        let data = self
            .configured
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone();
        if let Some(data) = data {
            self.provider.shutdown(&data).await;
        }
    }
}

impl<P: ProviderDef> ProviderServer<P> {
    pub fn new(provider: P) -> Self {
        let resources: Registry<dyn Resource<P::Data>> = provider
            .resources()
            .into_iter()
            .map(|r| (r.type_name().to_string(), Registered::new(r.schema(), r)))
            .collect();
        let identities = resources
            .iter()
            .filter_map(|(name, r)| Some((name.clone(), Identity::of(r.item.identity())?)))
            .collect();
        let lists = resources
            .iter()
            .filter_map(|(name, r)| Some((name.clone(), ListConfig::of(r.item.list_schema())?)))
            .collect();
        let data_sources = provider
            .data_sources()
            .into_iter()
            .map(|d| (d.type_name().to_string(), Registered::new(d.schema(), d)))
            .collect();
        let ephemeral = provider
            .ephemeral_resources()
            .into_iter()
            .map(|e| (e.type_name().to_string(), Registered::new(e.schema(), e)))
            .collect();
        let functions = provider
            .functions()
            .into_iter()
            .map(|f| (f.name().to_string(), f))
            .collect();
        let actions = provider
            .actions()
            .into_iter()
            .map(|a| (a.type_name().to_string(), Registered::new(a.schema(), a)))
            .collect();
        ProviderServer {
            provider_schema: provider.schema(),
            provider: Arc::new(provider),
            resources,
            identities,
            lists,
            data_sources,
            ephemeral,
            functions,
            actions,
            configured: Arc::new(RwLock::new(None)),
            stop: CancellationToken::new(),
            strict: true,
        }
    }

    /// Broken framework rules become error diagnostics only, even in debug
    /// builds: for tests that look at how a refusal reaches Terraform.
    pub fn lenient(mut self) -> Self {
        self.strict = false;
        self
    }

    /// The provider's last clean-up, for the transport to run when
    /// Terraform shuts the plugin down.
    pub fn shutdown_hook(&self) -> ShutdownHook<P> {
        ShutdownHook {
            provider: self.provider.clone(),
            configured: self.configured.clone(),
        }
    }

    /// Cancelled by `StopProvider`: every in-flight call stops waiting on
    /// the API and returns a diagnostic.
    pub fn stop_token(&self) -> CancellationToken {
        self.stop.clone()
    }

    pub(super) fn resource(
        &self,
        type_name: &str,
    ) -> Result<&Registered<dyn Resource<P::Data>>, Diagnostic> {
        self.resources
            .get(type_name)
            .ok_or_else(|| unknown_type("resource", type_name))
    }

    pub(super) fn ephemeral_resource(
        &self,
        type_name: &str,
    ) -> Result<&Registered<dyn EphemeralResource<P::Data>>, Diagnostic> {
        self.ephemeral
            .get(type_name)
            .ok_or_else(|| unknown_type("ephemeral resource", type_name))
    }

    pub(super) fn data_source(
        &self,
        type_name: &str,
    ) -> Result<&Registered<dyn DataSource<P::Data>>, Diagnostic> {
        self.data_sources
            .get(type_name)
            .ok_or_else(|| unknown_type("data source", type_name))
    }

    pub(super) fn data(&self) -> Result<Arc<P::Data>, Diagnostic> {
        let guard = self
            .configured
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        guard.clone().ok_or_else(|| {
            Diagnostic::error(
                "Provider not configured",
                "Terraform called the cfai provider before configuring it. This is a bug in Terraform or in the provider.",
            )
        })
    }

    pub(super) async fn cancellable<T>(
        &self,
        fut: impl Future<Output = T>,
    ) -> Result<T, Diagnostic> {
        tokio::select! {
            result = fut => Ok(result),
            _ = self.stop.cancelled() => Err(Diagnostic::error(
                "Operation cancelled",
                "Terraform asked the provider to stop; the operation was interrupted and may be incomplete.",
            )),
        }
    }
}

fn unknown_type(kind: &str, name: &str) -> Diagnostic {
    Diagnostic::error(
        format!("Unknown {kind} type"),
        format!("The cfai provider has no {kind} type {name:?}. Check the spelling, and that the provider version supports it."),
    )
}

#[tonic::async_trait]
impl<P: ProviderDef> proto::provider_server::Provider for ProviderServer<P> {
    async fn get_metadata(
        &self,
        _: Request<proto::get_metadata::Request>,
    ) -> RpcResult<proto::get_metadata::Response> {
        use proto::get_metadata as m;
        Ok(Response::new(m::Response {
            server_capabilities: Some(capabilities()),
            diagnostics: Vec::new(),
            data_sources: self
                .data_sources
                .keys()
                .map(|t| m::DataSourceMetadata {
                    type_name: t.clone(),
                })
                .collect(),
            resources: self
                .resources
                .keys()
                .map(|t| m::ResourceMetadata {
                    type_name: t.clone(),
                })
                .collect(),
            functions: self
                .functions
                .keys()
                .map(|n| m::FunctionMetadata { name: n.clone() })
                .collect(),
            ephemeral_resources: self
                .ephemeral
                .keys()
                .map(|t| m::EphemeralMetadata {
                    type_name: t.clone(),
                })
                .collect(),
            list_resources: self
                .lists
                .keys()
                .map(|t| m::ListResourceMetadata {
                    type_name: t.clone(),
                })
                .collect(),
            state_stores: Vec::new(),
            actions: self
                .actions
                .keys()
                .map(|t| m::ActionMetadata {
                    type_name: t.clone(),
                })
                .collect(),
        }))
    }

    async fn get_provider_schema(
        &self,
        _: Request<proto::get_provider_schema::Request>,
    ) -> RpcResult<proto::get_provider_schema::Response> {
        debug!("GetProviderSchema");
        Ok(Response::new(proto::get_provider_schema::Response {
            provider: Some(convert::schema(&self.provider_schema)),
            resource_schemas: self
                .resources
                .iter()
                .map(|(k, r)| (k.clone(), convert::schema(&r.schema)))
                .collect(),
            data_source_schemas: self
                .data_sources
                .iter()
                .map(|(k, d)| (k.clone(), convert::schema(&d.schema)))
                .collect(),
            functions: self
                .functions
                .iter()
                .map(|(k, f)| (k.clone(), convert::function(&f.definition())))
                .collect(),
            ephemeral_resource_schemas: self
                .ephemeral
                .iter()
                .map(|(k, e)| (k.clone(), convert::schema(&e.schema)))
                .collect(),
            list_resource_schemas: self
                .lists
                .iter()
                .map(|(k, l)| (k.clone(), convert::schema(&l.schema)))
                .collect(),
            state_store_schemas: Default::default(),
            action_schemas: self
                .actions
                .iter()
                .map(|(k, a)| {
                    let schema = Some(convert::schema(&a.schema));
                    (k.clone(), proto::ActionSchema { schema })
                })
                .collect(),
            diagnostics: Vec::new(),
            provider_meta: None,
            server_capabilities: Some(capabilities()),
        }))
    }

    async fn get_resource_identity_schemas(
        &self,
        request: Request<proto::get_resource_identity_schemas::Request>,
    ) -> RpcResult<proto::get_resource_identity_schemas::Response> {
        identity::get_resource_identity_schemas(self, request).await
    }

    async fn upgrade_resource_identity(
        &self,
        request: Request<proto::upgrade_resource_identity::Request>,
    ) -> RpcResult<proto::upgrade_resource_identity::Response> {
        identity::upgrade_resource_identity(self, request).await
    }

    async fn validate_provider_config(
        &self,
        request: Request<proto::validate_provider_config::Request>,
    ) -> RpcResult<proto::validate_provider_config::Response> {
        let req = request.into_inner();
        let mut diags = Diagnostics::new();
        let ty = self.provider_schema.cty_type();
        if let Some(config) = capture(
            &mut diags,
            decode(req.config.as_ref(), &ty, "provider configuration"),
        ) {
            self.provider.validate(&config, &mut diags);
        }
        Ok(Response::new(proto::validate_provider_config::Response {
            diagnostics: convert::diagnostics(&diags),
        }))
    }

    async fn validate_resource_config(
        &self,
        request: Request<proto::validate_resource_config::Request>,
    ) -> RpcResult<proto::validate_resource_config::Response> {
        let req = request.into_inner();
        let mut diags = Diagnostics::new();
        if let Some(r) = capture(&mut diags, self.resource(&req.type_name)) {
            let ty = &r.ty;
            if let Some(config) = capture(
                &mut diags,
                decode(req.config.as_ref(), ty, "resource configuration"),
            ) {
                let caps = super::handlers::capabilities(req.client_capabilities.as_ref());
                rules::validate(
                    &r.schema.attributes,
                    &r.schema.blocks,
                    &config,
                    caps,
                    &mut diags,
                );
                r.item.validate(&config, &mut diags);
            }
        }
        Ok(Response::new(proto::validate_resource_config::Response {
            diagnostics: convert::diagnostics(&diags),
        }))
    }

    async fn validate_data_resource_config(
        &self,
        request: Request<proto::validate_data_resource_config::Request>,
    ) -> RpcResult<proto::validate_data_resource_config::Response> {
        let req = request.into_inner();
        let mut diags = Diagnostics::new();
        if let Some(d) = capture(&mut diags, self.data_source(&req.type_name)) {
            let ty = &d.ty;
            if let Some(config) = capture(
                &mut diags,
                decode(req.config.as_ref(), ty, "data source configuration"),
            ) {
                let caps = ClientCapabilities::default();
                rules::validate(
                    &d.schema.attributes,
                    &d.schema.blocks,
                    &config,
                    caps,
                    &mut diags,
                );
                d.item.validate(&config, &mut diags);
            }
        }
        Ok(Response::new(
            proto::validate_data_resource_config::Response {
                diagnostics: convert::diagnostics(&diags),
            },
        ))
    }

    async fn upgrade_resource_state(
        &self,
        request: Request<proto::upgrade_resource_state::Request>,
    ) -> RpcResult<proto::upgrade_resource_state::Response> {
        let req = request.into_inner();
        let mut diags = Diagnostics::new();
        let upgraded = self.upgrade(&req, &mut diags);
        Ok(Response::new(proto::upgrade_resource_state::Response {
            upgraded_state: upgraded,
            diagnostics: convert::diagnostics(&diags),
        }))
    }

    async fn configure_provider(
        &self,
        request: Request<proto::configure_provider::Request>,
    ) -> RpcResult<proto::configure_provider::Response> {
        let req = request.into_inner();
        let mut diags = Diagnostics::new();
        info!(terraform_version = %req.terraform_version, "configuring the cfai provider");
        let ty = self.provider_schema.cty_type();
        if let Some(config) = capture(
            &mut diags,
            decode(req.config.as_ref(), &ty, "provider configuration"),
        ) {
            if let Some(data) = self
                .provider
                .configure(
                    &config,
                    &req.terraform_version,
                    self.stop.clone(),
                    &mut diags,
                )
                .await
            {
                let mut slot = self
                    .configured
                    .write()
                    .unwrap_or_else(|poisoned| poisoned.into_inner());
                *slot = Some(Arc::new(data));
            }
        }
        Ok(Response::new(proto::configure_provider::Response {
            diagnostics: convert::diagnostics(&diags),
        }))
    }

    async fn read_resource(
        &self,
        request: Request<proto::read_resource::Request>,
    ) -> RpcResult<proto::read_resource::Response> {
        let req = request.into_inner();
        let mut diags = Diagnostics::new();
        let mut private = decode_private(&req.private);
        let mut new_identity = req.current_identity.clone();
        let new_state = self
            .read(&req, &mut private, &mut new_identity, &mut diags)
            .await;
        Ok(Response::new(proto::read_resource::Response {
            new_state,
            diagnostics: convert::diagnostics(&diags),
            private: encode_private(&private),
            deferred: None,
            new_identity,
        }))
    }

    async fn plan_resource_change(
        &self,
        request: Request<proto::plan_resource_change::Request>,
    ) -> RpcResult<proto::plan_resource_change::Response> {
        let req = request.into_inner();
        let mut diags = Diagnostics::new();
        let (planned_state, requires_replace, planned_private, planned_identity) = self
            .plan(&req, &mut diags)
            .await
            .unwrap_or_else(|| (None, Vec::new(), req.prior_private.clone(), None));
        Ok(Response::new(proto::plan_resource_change::Response {
            planned_state,
            requires_replace,
            planned_private,
            diagnostics: convert::diagnostics(&diags),
            legacy_type_system: false,
            deferred: None,
            planned_identity,
        }))
    }

    async fn apply_resource_change(
        &self,
        request: Request<proto::apply_resource_change::Request>,
    ) -> RpcResult<proto::apply_resource_change::Response> {
        let req = request.into_inner();
        let mut diags = Diagnostics::new();
        let mut private = decode_private(&req.planned_private);
        let mut new_identity = None;
        let new_state = self
            .apply(&req, &mut private, &mut new_identity, &mut diags)
            .await;
        Ok(Response::new(proto::apply_resource_change::Response {
            new_state,
            private: encode_private(&private),
            diagnostics: convert::diagnostics(&diags),
            legacy_type_system: false,
            new_identity,
        }))
    }

    async fn import_resource_state(
        &self,
        request: Request<proto::import_resource_state::Request>,
    ) -> RpcResult<proto::import_resource_state::Response> {
        let req = request.into_inner();
        let mut diags = Diagnostics::new();
        let imported = self.import(&req, &mut diags).await;
        Ok(Response::new(proto::import_resource_state::Response {
            imported_resources: imported.into_iter().collect(),
            diagnostics: convert::diagnostics(&diags),
            deferred: None,
        }))
    }

    async fn move_resource_state(
        &self,
        request: Request<proto::move_resource_state::Request>,
    ) -> RpcResult<proto::move_resource_state::Response> {
        let req = request.into_inner();
        let mut diags = Diagnostics::new();
        diags.error(
            "Moving state between resource types is not supported",
            format!(
                "cfai cannot move {} ({}) into {}. Remove the `moved` block and import the object instead.",
                req.source_type_name, req.source_provider_address, req.target_type_name
            ),
        );
        Ok(Response::new(proto::move_resource_state::Response {
            target_state: None,
            diagnostics: convert::diagnostics(&diags),
            target_private: Vec::new(),
            target_identity: None,
        }))
    }

    async fn generate_resource_config(
        &self,
        request: Request<proto::generate_resource_config::Request>,
    ) -> RpcResult<proto::generate_resource_config::Response> {
        let response = match self.generate_config(&request.into_inner()) {
            Ok(config) => proto::generate_resource_config::Response {
                config: Some(config),
                diagnostics: Vec::new(),
            },
            Err(d) => proto::generate_resource_config::Response {
                config: None,
                diagnostics: vec![convert::diagnostic(&d)],
            },
        };
        Ok(Response::new(response))
    }

    async fn validate_action_config(
        &self,
        request: Request<proto::validate_action_config::Request>,
    ) -> RpcResult<proto::validate_action_config::Response> {
        let diags = self.validate_action(&request.into_inner());
        Ok(Response::new(proto::validate_action_config::Response {
            diagnostics: convert::diagnostics(&diags),
        }))
    }

    async fn plan_action(
        &self,
        request: Request<proto::plan_action::Request>,
    ) -> RpcResult<proto::plan_action::Response> {
        let diags = self.plan_action_call(&request.into_inner());
        Ok(Response::new(proto::plan_action::Response {
            diagnostics: convert::diagnostics(&diags),
            deferred: None,
        }))
    }

    type InvokeActionStream = ActionStream;

    async fn invoke_action(
        &self,
        request: Request<proto::invoke_action::Request>,
    ) -> RpcResult<Self::InvokeActionStream> {
        Ok(self.invoke(request.into_inner()))
    }

    type ListResourceStream = EventStream;

    async fn list_resource(
        &self,
        request: Request<proto::list_resource::Request>,
    ) -> RpcResult<Self::ListResourceStream> {
        self.list(request.into_inner())
    }

    async fn validate_list_resource_config(
        &self,
        request: Request<proto::validate_list_resource_config::Request>,
    ) -> RpcResult<proto::validate_list_resource_config::Response> {
        let diags = self.validate_list(&request.into_inner());
        Ok(Response::new(
            proto::validate_list_resource_config::Response {
                diagnostics: convert::diagnostics(&diags),
            },
        ))
    }

    async fn read_data_source(
        &self,
        request: Request<proto::read_data_source::Request>,
    ) -> RpcResult<proto::read_data_source::Response> {
        let req = request.into_inner();
        let mut diags = Diagnostics::new();
        let state = self.read_data(&req, &mut diags).await;
        Ok(Response::new(proto::read_data_source::Response {
            state,
            diagnostics: convert::diagnostics(&diags),
            deferred: None,
        }))
    }

    async fn validate_ephemeral_resource_config(
        &self,
        request: Request<proto::validate_ephemeral_resource_config::Request>,
    ) -> RpcResult<proto::validate_ephemeral_resource_config::Response> {
        let req = request.into_inner();
        let mut diags = Diagnostics::new();
        self.validate_ephemeral(&req, &mut diags);
        Ok(Response::new(
            proto::validate_ephemeral_resource_config::Response {
                diagnostics: convert::diagnostics(&diags),
            },
        ))
    }

    async fn open_ephemeral_resource(
        &self,
        request: Request<proto::open_ephemeral_resource::Request>,
    ) -> RpcResult<proto::open_ephemeral_resource::Response> {
        let req = request.into_inner();
        let mut diags = Diagnostics::new();
        let opened = self.open(&req, &mut diags).await;
        let (result, private, renew_at) = match opened {
            Some((result, private, renew_at)) => (Some(result), private, renew_at),
            None => (None, None, None),
        };
        Ok(Response::new(proto::open_ephemeral_resource::Response {
            diagnostics: convert::diagnostics(&diags),
            renew_at,
            result,
            private,
            deferred: None,
        }))
    }

    async fn renew_ephemeral_resource(
        &self,
        request: Request<proto::renew_ephemeral_resource::Request>,
    ) -> RpcResult<proto::renew_ephemeral_resource::Response> {
        let req = request.into_inner();
        let mut diags = Diagnostics::new();
        let renewed = self.renew(&req, &mut diags).await;
        let (private, renew_at) = renewed.unwrap_or((req.private.clone(), None));
        Ok(Response::new(proto::renew_ephemeral_resource::Response {
            diagnostics: convert::diagnostics(&diags),
            renew_at,
            private,
        }))
    }

    async fn close_ephemeral_resource(
        &self,
        request: Request<proto::close_ephemeral_resource::Request>,
    ) -> RpcResult<proto::close_ephemeral_resource::Response> {
        let req = request.into_inner();
        let mut diags = Diagnostics::new();
        self.close(&req, &mut diags).await;
        Ok(Response::new(proto::close_ephemeral_resource::Response {
            diagnostics: convert::diagnostics(&diags),
        }))
    }

    async fn get_functions(
        &self,
        _: Request<proto::get_functions::Request>,
    ) -> RpcResult<proto::get_functions::Response> {
        Ok(Response::new(proto::get_functions::Response {
            functions: self
                .functions
                .iter()
                .map(|(k, f)| (k.clone(), convert::function(&f.definition())))
                .collect(),
            diagnostics: Vec::new(),
        }))
    }

    async fn call_function(
        &self,
        request: Request<proto::call_function::Request>,
    ) -> RpcResult<proto::call_function::Response> {
        let req = request.into_inner();
        Ok(Response::new(match self.call(&req) {
            Ok(result) => proto::call_function::Response {
                result: Some(result),
                error: None,
            },
            Err(error) => proto::call_function::Response {
                result: None,
                error: Some(error),
            },
        }))
    }

    async fn stop_provider(
        &self,
        _: Request<proto::stop_provider::Request>,
    ) -> RpcResult<proto::stop_provider::Response> {
        info!("StopProvider: cancelling in-flight operations");
        self.stop.cancel();
        Ok(Response::new(proto::stop_provider::Response {
            error: String::new(),
        }))
    }
}

fn capabilities() -> proto::ServerCapabilities {
    proto::ServerCapabilities {
        plan_destroy: true,
        get_provider_schema_optional: true,
        move_resource_state: false,
        generate_resource_config: true,
    }
}
