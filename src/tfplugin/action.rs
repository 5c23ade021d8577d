//! Actions on the wire (protocol 6.10, Terraform >= 1.14): their schemas,
//! validation, planning (static checks only: an action changes no state)
//! and invocation, streamed as progress events then one completion.

use std::pin::Pin;
use std::sync::Arc;

use futures_util::Stream;
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tonic::{Response, Status};

use super::convert::{self, decode};
use super::proto;
use super::server::{ProviderServer, Registered};
use crate::cty::Value;
use crate::framework::{rules, Action, Diagnostic, Diagnostics, Progress, ProviderDef};

pub(super) type ActionStream =
    Pin<Box<dyn Stream<Item = Result<proto::invoke_action::Event, Status>> + Send>>;

impl<P: ProviderDef> ProviderServer<P> {
    fn action(&self, type_name: &str) -> Result<&Registered<dyn Action<P::Data>>, Diagnostic> {
        self.actions.get(type_name).ok_or_else(|| {
            Diagnostic::error(
                "Unknown action type",
                format!("The cfai provider has no action {type_name:?}."),
            )
        })
    }

    /// The schema's rules, then the action's own checks.
    fn check_action(&self, type_name: &str, config: Option<&proto::DynamicValue>) -> Diagnostics {
        let mut diags = Diagnostics::new();
        let checked = self.action(type_name).and_then(|a| {
            let config = decode(config, &a.ty, "action configuration")?;
            Ok((a, config))
        });
        match checked {
            Ok((a, config)) => {
                rules::validate(
                    &a.schema.attributes,
                    &a.schema.blocks,
                    &config,
                    Default::default(),
                    &mut diags,
                );
                if !diags.has_errors() {
                    a.item.validate(&config, &mut diags);
                }
            }
            Err(d) => diags.push(d),
        }
        diags
    }

    pub(super) fn validate_action(
        &self,
        req: &proto::validate_action_config::Request,
    ) -> Diagnostics {
        self.check_action(&req.type_name, req.config.as_ref())
    }

    pub(super) fn plan_action_call(&self, req: &proto::plan_action::Request) -> Diagnostics {
        self.check_action(&req.action_type, req.config.as_ref())
    }

    /// The stream of one `InvokeAction`: progress messages as the action
    /// sends them, then its diagnostics. Terraform stopping the provider
    /// ends the action early, reported as such.
    pub(super) fn invoke(&self, req: proto::invoke_action::Request) -> Response<ActionStream> {
        let (tx, rx) = mpsc::channel(32);
        let prepared = self.action(&req.action_type).and_then(|a| {
            let config = decode(req.config.as_ref(), &a.ty, "action configuration")?;
            Ok((a.item.clone(), config, self.data()?))
        });
        match prepared {
            Err(d) => {
                tokio::spawn(async move {
                    let _ = tx.send(Ok(completed(&one(d)))).await;
                });
            }
            Ok((action, config, data)) => {
                let stop = self.stop_token();
                tokio::spawn(async move {
                    let running = tokio::spawn(run(action, data, config, tx.clone()));
                    let diags = tokio::select! {
                        finished = running => finished.unwrap_or_else(|_| {
                            one(Diagnostic::error(
                                "Action failed",
                                "The action stopped on an internal error. This is a bug in the cfai provider: please report it with the provider's log (TF_LOG=debug).",
                            ))
                        }),
                        _ = stop.cancelled() => one(Diagnostic::error(
                            "Action cancelled",
                            "Terraform asked the provider to stop before the action finished.",
                        )),
                    };
                    let _ = tx.send(Ok(completed(&diags))).await;
                });
            }
        }
        Response::new(Box::pin(ReceiverStream::new(rx)))
    }
}

/// Runs the action, relaying its progress messages as events.
async fn run<D: Send + Sync + 'static>(
    action: Arc<dyn Action<D>>,
    data: Arc<D>,
    config: Value,
    tx: mpsc::Sender<Result<proto::invoke_action::Event, Status>>,
) -> Diagnostics {
    let (progress_tx, mut progress_rx) = mpsc::channel::<String>(32);
    let relay = tokio::spawn(async move {
        while let Some(message) = progress_rx.recv().await {
            let event = proto::invoke_action::Event {
                r#type: Some(proto::invoke_action::event::Type::Progress(
                    proto::invoke_action::event::Progress { message },
                )),
            };
            if tx.send(Ok(event)).await.is_err() {
                return;
            }
        }
    });
    let mut diags = Diagnostics::new();
    let progress = Progress::new(progress_tx);
    action.invoke(&data, &config, &progress, &mut diags).await;
    drop(progress);
    // Every progress message goes out before the completion.
    let _ = relay.await;
    diags
}

fn completed(diags: &Diagnostics) -> proto::invoke_action::Event {
    proto::invoke_action::Event {
        r#type: Some(proto::invoke_action::event::Type::Completed(
            proto::invoke_action::event::Completed {
                diagnostics: convert::diagnostics(diags),
            },
        )),
    }
}

fn one(d: Diagnostic) -> Diagnostics {
    let mut diags = Diagnostics::new();
    diags.push(d);
    diags
}
