//! Actions (Terraform >= 1.14): an operation run on demand, from a
//! resource's `lifecycle { action_trigger { ... } }` or from
//! `terraform apply -invoke=action.<type>.<name>`, that changes no state.
//! An action reports progress as it goes; Terraform prints each message.

use async_trait::async_trait;
use tokio::sync::mpsc;

use super::{Diagnostics, Schema};
use crate::cty::Value;

/// Where an action's progress messages go (Terraform prints them as they
/// come). Sending never fails the action: a client that stopped listening
/// just misses the rest.
pub struct Progress {
    tx: mpsc::Sender<String>,
}

impl Progress {
    pub fn new(tx: mpsc::Sender<String>) -> Self {
        Progress { tx }
    }

    pub async fn say(&self, message: impl Into<String>) {
        let _ = self.tx.send(message.into()).await;
    }
}

#[async_trait]
pub trait Action<D>: Send + Sync {
    fn type_name(&self) -> &'static str;
    fn schema(&self) -> Schema;
    /// Static checks; values may be unknown.
    fn validate(&self, _config: &Value, _diags: &mut Diagnostics) {}
    /// Runs the action with a wholly known configuration.
    async fn invoke(&self, data: &D, config: &Value, progress: &Progress, diags: &mut Diagnostics);
}
