//! The benchmark's floor: a provider with cfai's resource schemas that does
//! no work. Plans are the framework's (no name resolution, no API), create
//! and update return the plan with each unknown string a 32-character
//! placeholder (about the size of cfai's ids, keys and times, so Terraform
//! carries a state of similar size), read returns the state, delete does
//! nothing. Timing it against `terraform_data` shows what any
//! external plugin with these schemas costs Terraform itself (process
//! starts, gRPC, msgpack, per-RPC plan checks); timing cfai against it
//! shows what our resources and the API add. Not shipped; built only by
//! the benchmark:
//!
//!     cargo build --release --example reference-provider && cargo build --release
//!
//! and installed under the name Terraform looks for, in a directory of its
//! own used by `dev_overrides` (see bench/suite.py).

use std::process::ExitCode;

use async_trait::async_trait;
use std::collections::BTreeMap;

use cfai::cty::{Type, Value};
use cfai::framework::{
    DataSource, Diagnostics, Function, PlanChange, Private, ProviderDef, Resource, Schema,
};
use cfai::provider::CfaiProvider;
use cfai::transport::{self, handshake::PluginEnv, Mode};
use tokio_util::sync::CancellationToken;

struct Reference;

#[async_trait]
impl ProviderDef for Reference {
    type Data = ();

    fn schema(&self) -> Schema {
        CfaiProvider.schema()
    }

    async fn configure(
        &self,
        _config: &Value,
        _terraform_version: &str,
        _stop: CancellationToken,
        _diags: &mut Diagnostics,
    ) -> Option<()> {
        Some(())
    }

    fn resources(&self) -> Vec<Box<dyn Resource<()>>> {
        CfaiProvider
            .resources()
            .iter()
            .map(|real| {
                Box::new(Echo {
                    type_name: real.type_name(),
                    schema: real.schema(),
                }) as Box<dyn Resource<()>>
            })
            .collect()
    }

    fn data_sources(&self) -> Vec<Box<dyn DataSource<()>>> {
        Vec::new()
    }

    fn functions(&self) -> Vec<Box<dyn Function>> {
        Vec::new()
    }
}

struct Echo {
    type_name: &'static str,
    schema: Schema,
}

impl Echo {
    fn settled(&self, planned: &Value) -> Value {
        settle(planned, &self.schema.cty_type())
    }
}

/// The planned value with every unknown made known: strings a placeholder,
/// numbers 0, bools false, collections empty.
fn settle(value: &Value, ty: &Type) -> Value {
    match (value, ty) {
        (Value::Unknown, Type::String) => Value::string("x".repeat(32)),
        (Value::Unknown, Type::Number) => Value::number(0),
        (Value::Unknown, Type::Bool) => Value::Bool(false),
        (Value::Unknown, Type::List(_)) => Value::List(Vec::new()),
        (Value::Unknown, Type::Set(_)) => Value::Set(Vec::new()),
        (Value::Unknown, Type::Map(_)) => Value::Map(BTreeMap::new()),
        (Value::Unknown, Type::Object(fields)) => Value::Object(
            fields
                .iter()
                .map(|(name, t)| (name.clone(), settle(&Value::Unknown, t)))
                .collect(),
        ),
        (Value::Unknown, _) => Value::Null,
        (Value::List(items), Type::List(t)) => {
            Value::List(items.iter().map(|v| settle(v, t)).collect())
        }
        (Value::Set(items), Type::Set(t)) => {
            Value::Set(items.iter().map(|v| settle(v, t)).collect())
        }
        (Value::Map(items), Type::Map(t)) => Value::Map(
            items
                .iter()
                .map(|(k, v)| (k.clone(), settle(v, t)))
                .collect(),
        ),
        (Value::Object(items), Type::Object(fields)) => Value::Object(
            items
                .iter()
                .map(|(k, v)| {
                    let t = fields.get(k).cloned().unwrap_or(Type::Dynamic);
                    (k.clone(), settle(v, &t))
                })
                .collect(),
        ),
        (other, _) => other.clone(),
    }
}

#[async_trait]
impl Resource<()> for Echo {
    fn type_name(&self) -> &'static str {
        self.type_name
    }

    fn schema(&self) -> Schema {
        self.schema.clone()
    }

    /// The reference provider mirrors Terraform 1.11's own resources: no
    /// identity.
    fn identity(&self) -> cfai::framework::IdentitySchema {
        cfai::framework::IdentitySchema::new(Vec::new())
    }

    async fn plan(&self, _: &(), _change: &mut PlanChange, _: &mut Diagnostics) {}

    async fn create(
        &self,
        _: &(),
        planned: &Value,
        _config: &Value,
        _private: &mut Private,
        _: &mut Diagnostics,
    ) -> Option<Value> {
        Some(self.settled(planned))
    }

    async fn read(
        &self,
        _: &(),
        state: &Value,
        _private: &mut Private,
        _: &mut Diagnostics,
    ) -> Option<Value> {
        Some(state.clone())
    }

    async fn update(
        &self,
        _: &(),
        _prior: &Value,
        planned: &Value,
        _config: &Value,
        _private: &mut Private,
        _: &mut Diagnostics,
    ) -> Option<Value> {
        Some(self.settled(planned))
    }

    async fn delete(&self, _: &(), _state: &Value, _: &mut Diagnostics) {}

    async fn import(&self, _: &(), _id: &str, diags: &mut Diagnostics) -> Option<(Value, Private)> {
        diags.error("Not supported", "The reference provider does not import.");
        None
    }
}

fn main() -> ExitCode {
    let env = match PluginEnv::from_env() {
        Ok(env) => env,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::FAILURE;
        }
    };
    match transport::run(Reference, Mode::Managed(env)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("reference-provider: {e}");
            ExitCode::FAILURE
        }
    }
}
