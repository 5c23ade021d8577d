//! List resources (protocol 6.10, Terraform >= 1.14 `terraform query`): the
//! objects a `list` block selects, streamed one event each with the
//! identity, a display name and, when asked, the object itself, which is
//! the state a read after import stores (the server imports and reads each
//! object it lists).

use std::pin::Pin;
use std::sync::Arc;

use futures_util::Stream;
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tonic::{Response, Status};
use tracing::debug;

use super::convert::{self, decode, encode};
use super::handlers::finish_state;
use super::identity::Identity;
use super::proto;
use super::server::{ProviderServer, Registered};
use crate::cty::{Type, Value};
use crate::framework::guard::Stage;
use crate::framework::{
    rules, Diagnostic, Diagnostics, ListSink, ProviderDef, Resource, Schema, Severity,
};

/// A list type's configuration schema and its cty type, built once.
pub(super) struct ListConfig {
    pub(super) schema: Schema,
    pub(super) ty: Type,
}

impl ListConfig {
    pub(super) fn of(schema: Option<Schema>) -> Option<ListConfig> {
        let schema = schema?;
        Some(ListConfig {
            ty: schema.cty_type(),
            schema,
        })
    }
}

pub(super) type EventStream =
    Pin<Box<dyn Stream<Item = Result<proto::list_resource::Event, Status>> + Send>>;

/// Terraform's default `limit`, should a request carry none.
const DEFAULT_LIMIT: usize = 100;

impl<P: ProviderDef> ProviderServer<P> {
    fn list_config(&self, type_name: &str) -> Result<&ListConfig, Diagnostic> {
        self.lists.get(type_name).ok_or_else(|| {
            Diagnostic::error(
                "Unknown list resource type",
                format!("The cfai provider cannot list {type_name:?}."),
            )
        })
    }

    pub(super) fn validate_list(
        &self,
        req: &proto::validate_list_resource_config::Request,
    ) -> Diagnostics {
        let mut diags = Diagnostics::new();
        let checked = self.list_config(&req.type_name).and_then(|list| {
            let config = decode(req.config.as_ref(), &list.ty, "list configuration")?;
            Ok((list, config))
        });
        match checked {
            Ok((list, config)) => rules::validate(
                &list.schema.attributes,
                &list.schema.blocks,
                &config,
                Default::default(),
                &mut diags,
            ),
            Err(d) => diags.push(d),
        }
        diags
    }

    /// The stream of one `ListResource` call. Listing and reading go on in
    /// a task of their own, each event sent as soon as its object is read;
    /// Terraform stops reading at `limit`.
    pub(super) fn list(
        &self,
        req: proto::list_resource::Request,
    ) -> Result<Response<EventStream>, Status> {
        let (tx, rx) = mpsc::channel(32);
        let prepared = self.list_call(&req);
        match prepared {
            Err(d) => {
                let event = failure(vec![d]);
                tokio::spawn(async move {
                    let _ = tx.send(Ok(event)).await;
                });
            }
            Ok(call) => {
                let stop = self.stop_token();
                tokio::spawn(async move {
                    let listing = {
                        let tx = tx.clone();
                        tokio::spawn(async move { call.run(&tx).await })
                    };
                    tokio::select! {
                        finished = listing => {
                            // A panic ends the listing, but not in silence.
                            if finished.is_err() {
                                let bug = Diagnostic::error(
                                    "Listing failed",
                                    "The listing stopped on an internal error; the list is incomplete. This is a bug in the cfai provider: please report it with the provider's log (TF_LOG=debug).",
                                );
                                let _ = tx.send(Ok(failure(vec![bug]))).await;
                            }
                        }
                        _ = stop.cancelled() => {
                            let stopped = Diagnostic::error(
                                "Listing cancelled",
                                "Terraform asked the provider to stop; the list is incomplete.",
                            );
                            let _ = tx.send(Ok(failure(vec![stopped]))).await;
                        }
                    }
                });
            }
        }
        Ok(Response::new(Box::pin(ReceiverStream::new(rx))))
    }

    fn list_call(&self, req: &proto::list_resource::Request) -> Result<ListCall<P>, Diagnostic> {
        let list = self.list_config(&req.type_name)?;
        let config = decode(req.config.as_ref(), &list.ty, "list configuration")?;
        let r: &Registered<dyn Resource<P::Data>> = self.resource(&req.type_name)?;
        let identity = self
            .identities
            .get(&req.type_name)
            .cloned()
            .ok_or_else(|| {
                Diagnostic::error(
                    "List resource without identity",
                    format!(
                        "{} has no identity to list by. This is a bug in the cfai provider.",
                        req.type_name
                    ),
                )
            })?;
        let limit = match req.limit {
            n if n > 0 => usize::try_from(n).unwrap_or(usize::MAX),
            _ => DEFAULT_LIMIT,
        };
        Ok(ListCall {
            type_name: req.type_name.clone(),
            resource: r.item.clone(),
            schema: r.schema.clone(),
            ty: r.ty.clone(),
            identity,
            data: self.data()?,
            config,
            limit,
            include_resource: req.include_resource_object,
            strict: self.strict,
        })
    }
}

/// What a listing task needs, owned: it outlives the call that began it.
struct ListCall<P: ProviderDef> {
    type_name: String,
    resource: Arc<dyn Resource<P::Data>>,
    schema: Schema,
    ty: Type,
    identity: Identity,
    data: Arc<P::Data>,
    config: Value,
    limit: usize,
    include_resource: bool,
    strict: bool,
}

type Sender = mpsc::Sender<Result<proto::list_resource::Event, Status>>;

impl<P: ProviderDef> ListCall<P> {
    /// The resource finds objects page by page while each found one is
    /// imported, read and sent: results stream as the pages arrive, and
    /// the listing stops once `limit` have been found.
    async fn run(self, tx: &Sender) {
        let (found_tx, mut found_rx) = mpsc::channel::<String>(64);
        let sink = ListSink::new(found_tx, self.limit);
        let this = &self;
        let finding = async move {
            let mut diags = Diagnostics::new();
            this.resource
                .list(&this.data, &this.config, &sink, &mut diags)
                .await;
            diags
        };
        let telling = async {
            let mut told = 0usize;
            while let Some(id) = found_rx.recv().await {
                let event = self.event(&id).await;
                if tx.send(Ok(event)).await.is_err() {
                    // Terraform has all it wants.
                    break;
                }
                told += 1;
            }
            told
        };
        let (diags, told) = tokio::join!(finding, telling);
        debug!(type_name = %self.type_name, found = told, "ListResource");
        if diags.has_errors() {
            let _ = tx.send(Ok(failure(errors(diags)))).await;
        }
    }

    /// One object: imported, read, and told as an event.
    async fn event(&self, id: &str) -> proto::list_resource::Event {
        let mut diags = Diagnostics::new();
        let Some((skeleton, mut private)) = self.resource.import(&self.data, id, &mut diags).await
        else {
            return failure(errors(diags));
        };
        let read = self
            .resource
            .read(&self.data, &skeleton, &mut private, &mut diags)
            .await;
        let Some(mut state) = read else {
            // Gone since it was listed: nothing to report but that.
            diags.warning(
                "Listed object is gone",
                format!(
                    "{} {id} was deleted while it was being listed.",
                    self.type_name
                ),
            );
            return proto::list_resource::Event {
                identity: None,
                display_name: String::new(),
                resource_object: None,
                diagnostic: convert::diagnostics(&diags),
            };
        };
        finish_state(
            &self.type_name,
            &self.schema,
            &skeleton,
            &mut state,
            Stage::Read,
            self.strict,
            &mut diags,
        );
        let mut kept = Diagnostics::new();
        let identity = self.identity.data(&state, &mut kept);
        let resource_object = match self.include_resource {
            true => encode(&state, &self.ty, "listed object")
                .map_err(|d| kept.push(d))
                .ok(),
            false => None,
        };
        // Import's reminders (a token's value is not imported) would repeat
        // on every result: only errors are told.
        let mut told = errors(diags);
        told.extend(kept.iter().cloned());
        proto::list_resource::Event {
            identity,
            display_name: display_name(&state),
            resource_object,
            diagnostic: told.iter().map(convert::diagnostic).collect(),
        }
    }
}

/// The object's name, or its id.
fn display_name(state: &Value) -> String {
    ["name", "id"]
        .iter()
        .find_map(|a| state.get_opt(a).as_str())
        .unwrap_or_default()
        .to_string()
}

fn errors(diags: Diagnostics) -> Vec<Diagnostic> {
    diags
        .into_vec()
        .into_iter()
        .filter(|d| d.severity == Severity::Error)
        .collect()
}

/// An event that reports a failure and nothing else.
fn failure(diags: Vec<Diagnostic>) -> proto::list_resource::Event {
    proto::list_resource::Event {
        identity: None,
        display_name: String::new(),
        resource_object: None,
        diagnostic: diags.iter().map(convert::diagnostic).collect(),
    }
}
