//! The server never hides a resource's bug, and carries private state both
//! ways: shown with a deliberately faulty resource behind the real service.

use async_trait::async_trait;
use tonic::Request;

use super::proto;
use super::proto::provider_server::Provider as _;
use super::ProviderServer;
use crate::cty::{msgpack, Value};
use crate::framework::{
    timeouts, Attribute, DataSource, Diagnostics, Function, Private, ProviderDef, Resource, Schema,
};

/// What the faulty resource's create does, chosen by its `mode` attribute.
struct Faulty;

#[async_trait]
impl Resource<()> for Faulty {
    fn type_name(&self) -> &'static str {
        "test_faulty"
    }

    fn schema(&self) -> Schema {
        Schema::new("faulty")
            .attribute(Attribute::string("mode").required().describe("m"))
            .attribute(Attribute::string("id").computed().describe("i"))
            .block(timeouts::block(&[("create", "2m")]))
    }

    async fn create(
        &self,
        _: &(),
        planned: &Value,
        _: &Value,
        private: &mut Private,
        _: &mut Diagnostics,
    ) -> Option<Value> {
        let mut state = planned.clone();
        match planned.get("mode").as_str() {
            Some("leave_unknown") => Some(state),
            Some("no_state") => None,
            _ => {
                private.insert("written_by".into(), "create".into());
                state.set("id", "x".into());
                Some(state)
            }
        }
    }

    async fn read(&self, _: &(), s: &Value, _: &mut Private, _: &mut Diagnostics) -> Option<Value> {
        Some(s.clone())
    }

    async fn update(
        &self,
        _: &(),
        _: &Value,
        planned: &Value,
        _: &Value,
        _: &mut Private,
        _: &mut Diagnostics,
    ) -> Option<Value> {
        Some(planned.clone())
    }

    async fn delete(&self, _: &(), _: &Value, _: &mut Diagnostics) {}

    async fn import(&self, _: &(), _: &str, _: &mut Diagnostics) -> Option<(Value, Private)> {
        None
    }
}

struct TestProvider;

#[async_trait]
impl ProviderDef for TestProvider {
    type Data = ();

    fn schema(&self) -> Schema {
        Schema::new("test")
    }

    async fn configure(
        &self,
        _: &Value,
        _: &str,
        _: tokio_util::sync::CancellationToken,
        _: &mut Diagnostics,
    ) -> Option<()> {
        Some(())
    }

    fn resources(&self) -> Vec<Box<dyn Resource<()>>> {
        vec![Box::new(Faulty)]
    }

    fn data_sources(&self) -> Vec<Box<dyn DataSource<()>>> {
        Vec::new()
    }

    fn functions(&self) -> Vec<Box<dyn Function>> {
        Vec::new()
    }
}

async fn create(mode: &str) -> proto::apply_resource_change::Response {
    let server = ProviderServer::new(TestProvider);
    let empty = Schema::new("test").cty_type();
    server
        .configure_provider(Request::new(proto::configure_provider::Request {
            terraform_version: "1.11.4".into(),
            config: Some(proto::DynamicValue {
                msgpack: msgpack::encode(&Value::object::<_, String>([]), &empty).unwrap(),
                json: Vec::new(),
            }),
            client_capabilities: None,
        }))
        .await
        .unwrap();
    let ty = Faulty.schema().cty_type();
    let planned = Value::object([
        ("mode", Value::string(mode)),
        ("id", Value::Unknown),
        ("timeouts", Value::Null),
    ]);
    let config = Value::object([
        ("mode", Value::string(mode)),
        ("id", Value::Null),
        ("timeouts", Value::Null),
    ]);
    let dv = |v: &Value| {
        Some(proto::DynamicValue {
            msgpack: msgpack::encode(v, &ty).unwrap(),
            json: Vec::new(),
        })
    };
    server
        .apply_resource_change(Request::new(proto::apply_resource_change::Request {
            type_name: "test_faulty".into(),
            prior_state: dv(&Value::Null),
            planned_state: dv(&planned),
            config: dv(&config),
            planned_private: br#"{"from_plan":true}"#.to_vec(),
            provider_meta: None,
        }))
        .await
        .unwrap()
        .into_inner()
}

fn errors(r: &proto::apply_resource_change::Response) -> Vec<String> {
    r.diagnostics
        .iter()
        .filter(|d| d.severity == proto::diagnostic::Severity::Error as i32)
        .map(|d| format!("{} | {}", d.summary, d.detail))
        .collect()
}

#[tokio::test]
async fn an_unknown_left_in_a_new_state_is_an_error_on_its_attribute() {
    let r = create("leave_unknown").await;
    let errs = errors(&r);
    assert_eq!(errs.len(), 1, "{errs:?}");
    assert!(errs[0].contains("id is still unknown"), "{errs:?}");
    let path = r.diagnostics[0].attribute.as_ref().expect("a path");
    assert_eq!(
        path.steps[0].selector,
        Some(proto::attribute_path::step::Selector::AttributeName(
            "id".into()
        ))
    );
}

#[tokio::test]
async fn a_create_without_state_or_error_is_reported() {
    let r = create("no_state").await;
    let errs = errors(&r);
    assert_eq!(errs.len(), 1, "{errs:?}");
    assert!(
        errs[0].starts_with("Missing resource state after create"),
        "{errs:?}"
    );
}

#[tokio::test]
async fn private_state_written_by_create_reaches_terraform() {
    let r = create("ok").await;
    assert!(errors(&r).is_empty());
    let private: serde_json::Value = serde_json::from_slice(&r.private).unwrap();
    assert_eq!(private["written_by"], "create");
    assert_eq!(
        private["from_plan"], true,
        "the planned private state is the starting point"
    );
}

#[tokio::test]
async fn blocks_reach_terraform_as_block_types() {
    let server = ProviderServer::new(TestProvider);
    let schema = server
        .get_provider_schema(Request::new(proto::get_provider_schema::Request {}))
        .await
        .unwrap()
        .into_inner();
    let block = schema.resource_schemas["test_faulty"]
        .block
        .clone()
        .unwrap();
    assert_eq!(block.block_types.len(), 1);
    let timeouts = &block.block_types[0];
    assert_eq!(timeouts.type_name, "timeouts");
    assert_eq!(
        timeouts.nesting,
        proto::schema::nested_block::NestingMode::Single as i32
    );
    let inner = timeouts.block.as_ref().unwrap();
    assert_eq!(inner.attributes[0].name, "create");
    assert!(inner.attributes[0].optional);
}
