//! A small resource framework: what resource, data source and function
//! authors implement. It knows nothing of protobuf or msgpack; the tfplugin6
//! server below translates, and applies the plan rules in [`plan`] to every
//! resource so that each one does not have to.

pub mod action;
pub mod diagnostics;
pub mod guard;
pub mod identity;
pub mod mapping;
pub mod model;
pub mod oracle;
pub mod plan;
pub mod rules;
pub mod schema;
pub mod timeouts;

use async_trait::async_trait;
use tokio_util::sync::CancellationToken;

pub use action::{Action, Progress};
pub use diagnostics::{AttrPath, Diagnostic, Diagnostics, PathStep, Severity};
pub use identity::{IdentityAttribute, IdentitySchema};
pub use model::Attr;
pub use plan::PlanChange;
pub use rules::{ClientCapabilities, Semantic, Validator};
pub use schema::{Attribute, Block, DescriptionKind, Nesting, Phase, Schema, Sent};

use crate::cty::{json, Type, Value};

/// Where a list type sends the import ids of what it finds, as it finds
/// them (`terraform query`).
pub struct ListSink {
    tx: tokio::sync::mpsc::Sender<String>,
    limit: usize,
    sent: std::sync::atomic::AtomicUsize,
}

impl ListSink {
    pub fn new(tx: tokio::sync::mpsc::Sender<String>, limit: usize) -> Self {
        ListSink {
            tx,
            limit,
            sent: std::sync::atomic::AtomicUsize::new(0),
        }
    }

    /// Sends one; `false` once the listing should stop (`limit` reached,
    /// or Terraform wants no more).
    pub async fn found(&self, import_id: String) -> bool {
        use std::sync::atomic::Ordering;
        if self.sent.load(Ordering::SeqCst) >= self.limit {
            return false;
        }
        if self.tx.send(import_id).await.is_err() {
            return false;
        }
        self.sent.fetch_add(1, Ordering::SeqCst) + 1 < self.limit
    }
}

/// A resource's private state: data Terraform keeps beside the state and
/// hands back on the next call, never shown to the user (JSON on the wire).
pub type Private = serde_json::Map<String, serde_json::Value>;

/// What the provider block becomes once configured; handed to every call.
#[async_trait]
pub trait ProviderDef: Send + Sync + 'static {
    type Data: Send + Sync + 'static;

    fn schema(&self) -> Schema;

    /// Static checks; values may be unknown.
    fn validate(&self, _config: &Value, _diags: &mut Diagnostics) {}

    /// `stop` is cancelled by Terraform's StopProvider: work not yet sent
    /// should be abandoned, writes already sent seen through.
    async fn configure(
        &self,
        config: &Value,
        terraform_version: &str,
        stop: CancellationToken,
        diags: &mut Diagnostics,
    ) -> Option<Self::Data>;

    fn resources(&self) -> Vec<Box<dyn Resource<Self::Data>>>;
    fn data_sources(&self) -> Vec<Box<dyn DataSource<Self::Data>>>;
    fn ephemeral_resources(&self) -> Vec<Box<dyn EphemeralResource<Self::Data>>> {
        Vec::new()
    }
    fn functions(&self) -> Vec<Box<dyn Function>>;
    fn actions(&self) -> Vec<Box<dyn Action<Self::Data>>> {
        Vec::new()
    }

    /// Terraform is shutting the provider down (the end of every command,
    /// failed or interrupted ones included): last clean-up, within about a
    /// second.
    async fn shutdown(&self, _data: &Self::Data) {}
}

/// A managed resource. The server has already run the schema's declarative
/// validators before `validate`, and applied the common plan rules (see
/// [`plan::apply_plan_rules`]) before `plan`; after create, update and read
/// it keeps equivalent spellings ([`rules::keep_equivalent`]) and refuses a
/// state that is not wholly known.
#[async_trait]
pub trait Resource<D>: Send + Sync {
    fn type_name(&self) -> &'static str;
    fn schema(&self) -> Schema;
    /// The attributes that name the object for good (see [`identity`]).
    fn identity(&self) -> IdentitySchema;

    fn validate(&self, _config: &Value, _diags: &mut Diagnostics) {}

    async fn plan(&self, _data: &D, _change: &mut PlanChange, _diags: &mut Diagnostics) {}

    /// Returns the new state; `None` only when nothing was created (with
    /// an error saying why). `private` starts as the planned private state.
    async fn create(
        &self,
        data: &D,
        planned: &Value,
        config: &Value,
        private: &mut Private,
        diags: &mut Diagnostics,
    ) -> Option<Value>;

    /// `None` when the object no longer exists.
    async fn read(
        &self,
        data: &D,
        state: &Value,
        private: &mut Private,
        diags: &mut Diagnostics,
    ) -> Option<Value>;

    async fn update(
        &self,
        data: &D,
        prior: &Value,
        planned: &Value,
        config: &Value,
        private: &mut Private,
        diags: &mut Diagnostics,
    ) -> Option<Value>;

    async fn delete(&self, data: &D, state: &Value, diags: &mut Diagnostics);

    /// A skeleton state (and private state) from an import id; Terraform
    /// reads it right after.
    async fn import(&self, data: &D, id: &str, diags: &mut Diagnostics)
        -> Option<(Value, Private)>;

    /// Whether the resource's typed model has exactly its schema's
    /// attributes ([`model::check`]); every registered type must have one.
    fn check_model(&self) -> Result<(), String> {
        Err("has no typed model".into())
    }

    /// The configuration that would import `state` as it is, as a person
    /// would write it (`-generate-config-out`). The server then drops what
    /// no configuration can give (computed-only attributes, secrets), so
    /// this only settles what is particular to the resource, such as an
    /// attribute that conflicts with another once both are known.
    fn generate_config(&self, state: &Value) -> Value {
        state.clone()
    }

    /// The arguments of its `list` block (Terraform >= 1.14, `terraform
    /// query`); `None` when the type cannot be listed.
    fn list_schema(&self) -> Option<Schema> {
        None
    }

    /// Sends to `sink` the import id of each object a list configuration
    /// selects, as the pages of the listing arrive, until the listing ends
    /// or `sink` has enough (`limit`). The server imports and reads each
    /// one meanwhile, so that every result is exactly what a read after
    /// import stores; a listing that primes the reads keeps that cheap.
    async fn list(&self, _data: &D, _config: &Value, _sink: &ListSink, _diags: &mut Diagnostics) {}

    /// State stored by an older schema version. The default reads it with
    /// the current schema, dropping attributes that no longer exist.
    fn upgrade_state(&self, _version: i64, raw: &[u8], diags: &mut Diagnostics) -> Option<Value> {
        match json::decode(raw, &self.schema().cty_type(), json::UnknownKeys::Drop) {
            Ok(v) => Some(v),
            Err(e) => {
                diags.error(
                    "Stored state could not be read",
                    format!("The state of this resource is not valid for its schema: {e}."),
                );
                None
            }
        }
    }
}

#[async_trait]
pub trait DataSource<D>: Send + Sync {
    fn type_name(&self) -> &'static str;
    fn schema(&self) -> Schema;
    fn validate(&self, _config: &Value, _diags: &mut Diagnostics) {}
    async fn read(&self, data: &D, config: &Value, diags: &mut Diagnostics) -> Option<Value>;
    /// See [`Resource::check_model`].
    fn check_model(&self) -> Result<(), String> {
        Err("has no typed model".into())
    }
}

/// What Open produced: the result (every configured value unchanged,
/// computed ones filled), private data for Renew and Close, and when to
/// renew (if the lease expires).
pub struct Opened {
    pub result: Value,
    pub private: Private,
    pub renew_at: Option<std::time::SystemTime>,
}

/// An ephemeral resource (Terraform >= 1.10): opened in each phase that
/// needs it, closed when the phase ends, never in plan or state. The server
/// never calls `open` with unknown values in the configuration.
#[async_trait]
pub trait EphemeralResource<D>: Send + Sync {
    fn type_name(&self) -> &'static str;
    fn schema(&self) -> Schema;
    fn validate(&self, _config: &Value, _diags: &mut Diagnostics) {}
    async fn open(&self, data: &D, config: &Value, diags: &mut Diagnostics) -> Option<Opened>;
    /// A new lease: new private data and when to renew next.
    async fn renew(
        &self,
        _data: &D,
        private: &Private,
        _diags: &mut Diagnostics,
    ) -> Option<(Private, Option<std::time::SystemTime>)> {
        Some((private.clone(), None))
    }
    async fn close(&self, _data: &D, _private: &Private, _diags: &mut Diagnostics) {}
    /// See [`Resource::check_model`].
    fn check_model(&self) -> Result<(), String> {
        Err("has no typed model".into())
    }
}

pub struct Parameter {
    pub name: &'static str,
    pub ty: Type,
    pub description: &'static str,
}

pub struct FunctionDef {
    pub parameters: Vec<Parameter>,
    pub return_type: Type,
    pub summary: &'static str,
    pub description: &'static str,
}

/// A function error, optionally blaming one argument (0-based).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FunctionError {
    pub text: String,
    pub argument: Option<usize>,
}

impl FunctionError {
    pub fn argument(index: usize, text: impl Into<String>) -> Self {
        FunctionError {
            text: text.into(),
            argument: Some(index),
        }
    }
}

/// A provider-defined function. Arguments are wholly known and not null
/// (Terraform enforces that for parameters that do not allow them).
pub trait Function: Send + Sync {
    fn name(&self) -> &'static str;
    fn definition(&self) -> FunctionDef;
    fn call(&self, args: &[Value]) -> Result<Value, FunctionError>;
}
