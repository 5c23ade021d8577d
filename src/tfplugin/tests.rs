//! The server never hides a resource's bug, refuses every plan, new state
//! and refreshed state that breaks Terraform's rules or the framework's
//! (naming resource, attribute and rule), and carries private state both
//! ways: shown with a deliberately faulty resource behind the real service.

use async_trait::async_trait;
use tonic::Request;

use super::proto;
use super::proto::provider_server::Provider as _;
use super::ProviderServer;
use crate::cty::{msgpack, Value};
use crate::framework::{
    timeouts, Attribute, DataSource, Diagnostics, Function, PlanChange, Private, ProviderDef,
    Resource, Schema, Validator,
};

/// What the faulty resource's create does, chosen by its `mode` attribute.
struct Faulty;

#[async_trait]
impl Resource<()> for Faulty {
    fn identity(&self) -> crate::framework::IdentitySchema {
        crate::framework::IdentitySchema::new(Vec::new())
    }
    fn type_name(&self) -> &'static str {
        "test_faulty"
    }

    fn schema(&self) -> Schema {
        Schema::new("faulty")
            .attribute(Attribute::string("mode").required().describe("m"))
            .attribute(Attribute::string("id").computed().describe("i"))
            .attribute(Attribute::string("name").optional().describe("n"))
            .attribute(
                Attribute::string("zone")
                    .optional()
                    .requires_replace()
                    .describe("z"),
            )
            .attribute(
                Attribute::string("secret_wo")
                    .optional()
                    .sensitive()
                    .write_only()
                    .validate(Validator::NeedsWriteOnlyClient("secret"))
                    .describe("s"),
            )
            .block(timeouts::block(&[("create", "2m")]))
    }

    /// Each mode breaks one rule (or, for `declared_prior`, bends one the
    /// way the framework allows).
    async fn plan(&self, _: &(), change: &mut PlanChange, _: &mut Diagnostics) {
        match change.config.get("mode").as_str() {
            Some("unknown_where_known") => change.planned.set("name", Value::Unknown),
            Some("different_value") => change.planned.set("name", "other".into()),
            Some("undeclared_prior") => {
                let prior = change.prior.get("name").clone();
                change.planned.set("name", prior);
            }
            Some("declared_prior") => {
                let prior = change.prior.get("name").clone();
                change.planned.set("name", prior);
                change.declare_equivalent(crate::framework::AttrPath::root("name"));
            }
            Some("write_only_kept") => {
                let secret = change.config.get("secret_wo").clone();
                change.planned.set("secret_wo", secret);
            }
            _ => {}
        }
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
        let mut state = s.clone();
        if s.get("mode").as_str() == Some("read_leaves_unknown") {
            state.set("name", Value::Unknown);
        }
        Some(state)
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
        let mut state = planned.clone();
        if planned.get("mode").as_str() == Some("apply_changes_known") {
            state.set("name", "not what was planned".into());
        }
        Some(state)
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

async fn configured(strict: bool) -> ProviderServer<TestProvider> {
    let server = ProviderServer::new(TestProvider);
    let server = if strict { server } else { server.lenient() };
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
    server
}

fn dv(v: &Value) -> Option<proto::DynamicValue> {
    Some(proto::DynamicValue {
        msgpack: msgpack::encode(v, &Faulty.schema().cty_type()).unwrap(),
        json: Vec::new(),
    })
}

/// A faulty object: `mode` and `name` given, the rest null or as set.
fn object(mode: &str, name: Value, id: Value) -> Value {
    Value::object([
        ("mode", Value::string(mode)),
        ("id", id),
        ("name", name),
        ("zone", Value::Null),
        ("secret_wo", Value::Null),
        ("timeouts", Value::Null),
    ])
}

async fn create(mode: &str) -> proto::apply_resource_change::Response {
    let server = configured(false).await;
    let planned = object(mode, Value::Null, Value::Unknown);
    let config = object(mode, Value::Null, Value::Null);
    server
        .apply_resource_change(Request::new(proto::apply_resource_change::Request {
            planned_identity: None,
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

/// Plans an update of an object named "old" to `config`, as Terraform would.
async fn plan_update(
    server: &ProviderServer<TestProvider>,
    config: &Value,
    write_only_client: bool,
) -> proto::plan_resource_change::Response {
    let mode = config.get("mode").as_str().unwrap_or_default();
    let prior = object(mode, "old".into(), "x".into());
    let proposed = crate::framework::oracle::proposed_new(&Faulty.schema(), &prior, config);
    server
        .plan_resource_change(Request::new(proto::plan_resource_change::Request {
            prior_identity: None,
            type_name: "test_faulty".into(),
            prior_state: dv(&prior),
            proposed_new_state: dv(&proposed),
            config: dv(config),
            prior_private: Vec::new(),
            provider_meta: None,
            client_capabilities: Some(proto::ClientCapabilities {
                write_only_attributes_allowed: write_only_client,
                ..Default::default()
            }),
        }))
        .await
        .unwrap()
        .into_inner()
}

/// The one error of an answer, as "summary | detail".
fn only_error(diagnostics: &[proto::Diagnostic]) -> String {
    let errs = diagnostic_lines(diagnostics);
    assert_eq!(errs.len(), 1, "{errs:?}");
    errs[0].0.clone()
}

fn diagnostic_lines(diagnostics: &[proto::Diagnostic]) -> Vec<(String, String)> {
    diagnostics
        .iter()
        .filter(|d| d.severity == proto::diagnostic::Severity::Error as i32)
        .map(|d| {
            let path = d
                .attribute
                .as_ref()
                .map(|p| format!("{:?}", p.steps))
                .unwrap_or_default();
            (format!("{} | {}", d.summary, d.detail), path)
        })
        .collect()
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
    assert!(
        errs[0].contains("inconsistent result after apply")
            && errs[0].contains("test_faulty: id: still indicated an unknown value"),
        "{errs:?}"
    );
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

#[tokio::test]
async fn each_broken_plan_rule_is_refused_naming_resource_attribute_and_rule() {
    let server = configured(false).await;
    let cases = [
        ("unknown_where_known", "name", "does not match config value"),
        ("different_value", "name", "does not match config value"),
        ("undeclared_prior", "name", "did not declare equivalent"),
    ];
    for (mode, attribute, rule) in cases {
        let mut config = object(mode, "new".into(), Value::Null);
        config.set("secret_wo", "s3cret".into());
        let r = plan_update(&server, &config, true).await;
        let errs = diagnostic_lines(&r.diagnostics);
        assert_eq!(errs.len(), 1, "{mode}: {errs:?}");
        let (text, path) = &errs[0];
        assert!(
            text.starts_with("Provider refused its own invalid plan")
                && text.contains(&format!("test_faulty: {attribute}: "))
                && text.contains(rule),
            "{mode}: {text}"
        );
        assert!(!text.contains("s3cret"), "no secret in the message");
        assert!(path.contains(attribute), "{mode}: on {path}");
        assert!(r.planned_state.is_none(), "{mode}: nothing planned");
    }
}

#[tokio::test]
async fn a_prior_value_the_resource_declares_equivalent_is_planned() {
    let server = configured(true).await;
    let config = object("declared_prior", "new".into(), Value::Null);
    let r = plan_update(&server, &config, true).await;
    assert!(diagnostic_lines(&r.diagnostics).is_empty());
    let planned = msgpack::decode(
        &r.planned_state.unwrap().msgpack,
        &Faulty.schema().cty_type(),
    )
    .unwrap();
    assert_eq!(planned.get("name"), &Value::string("old"));
}

#[test]
fn a_replacement_the_plan_does_not_declare_is_refused() {
    let schema = Faulty.schema();
    let mut prior = object("", "n".into(), "x".into());
    prior.set("zone", "a".into());
    let mut config = object("", "n".into(), Value::Null);
    config.set("zone", "b".into());
    let mut planned = prior.clone();
    planned.set("zone", "b".into());
    let change = crate::framework::plan::apply_plan_rules(
        &schema,
        prior,
        config,
        planned,
        Private::new(),
        Default::default(),
    );
    let violations = crate::framework::guard::check_plan(&schema, &schema.cty_type(), &change);
    assert_eq!(violations.len(), 1, "{violations:?}");
    assert_eq!(violations[0].path, crate::framework::AttrPath::root("zone"));
    assert!(violations[0]
        .message
        .contains("without planning replacement"));
    // The server's own pipeline declares it, so no hook can forget it.
    // Likewise it nulls write-only values after the hook: a kept one is
    // refused by the guard, and cannot reach it through the server.
    let mut change = change;
    crate::framework::plan::finish_plan(&schema, &mut change);
    assert!(crate::framework::guard::check_plan(&schema, &schema.cty_type(), &change).is_empty());
    let mut kept = change.clone();
    kept.config.set("secret_wo", "s3cret".into());
    kept.planned.set("secret_wo", "s3cret".into());
    kept.capabilities.write_only_attributes = true;
    let violations = crate::framework::guard::check_plan(&schema, &schema.cty_type(), &kept);
    assert_eq!(violations.len(), 1, "{violations:?}");
    assert_eq!(
        violations[0].path,
        crate::framework::AttrPath::root("secret_wo")
    );
    assert!(
        violations[0].message.contains("write-only"),
        "{violations:?}"
    );
    crate::framework::plan::finish_plan(&schema, &mut kept);
    assert!(crate::framework::guard::check_plan(&schema, &schema.cty_type(), &kept).is_empty());
}

#[tokio::test]
async fn a_write_only_value_on_a_client_without_write_only_is_refused() {
    let server = configured(false).await;
    // Validation refuses the argument whether its value is known or not.
    for value in [Value::string("s3cret"), Value::Unknown] {
        let mut config = object("", Value::Null, Value::Null);
        config.set("secret_wo", value);
        let r = server
            .validate_resource_config(Request::new(proto::validate_resource_config::Request {
                type_name: "test_faulty".into(),
                config: dv(&config),
                client_capabilities: None,
            }))
            .await
            .unwrap()
            .into_inner();
        let errs = diagnostic_lines(&r.diagnostics);
        assert_eq!(errs.len(), 1, "{errs:?}");
        assert!(errs[0].0.contains("`secret`"), "names the alternative");
        assert!(errs[0].1.contains("secret_wo"));
    }
    // Were it planned anyway, the guard sees it as that client does: an
    // ordinary argument planned null against its configured value.
    let mut config = object("", "old".into(), Value::Null);
    config.set("secret_wo", "s3cret".into());
    let r = plan_update(&server, &config, false).await;
    let errs = diagnostic_lines(&r.diagnostics);
    assert_eq!(errs.len(), 1, "{errs:?}");
    assert!(
        errs[0].0.contains("secret_wo: planned value")
            && errs[0].0.contains("does not match config value"),
        "{errs:?}"
    );
    assert!(
        !errs[0].0.contains("s3cret"),
        "sensitive values are not shown"
    );
}

#[tokio::test]
async fn an_apply_result_that_changes_a_known_planned_value_is_refused() {
    let server = configured(false).await;
    let prior = object("apply_changes_known", "old".into(), "x".into());
    let planned = object("apply_changes_known", "new".into(), "x".into());
    let r = server
        .apply_resource_change(Request::new(proto::apply_resource_change::Request {
            planned_identity: None,
            type_name: "test_faulty".into(),
            prior_state: dv(&prior),
            planned_state: dv(&planned),
            config: dv(&object("apply_changes_known", "new".into(), Value::Null)),
            planned_private: Vec::new(),
            provider_meta: None,
        }))
        .await
        .unwrap()
        .into_inner();
    let err = only_error(&r.diagnostics);
    assert!(
        err.starts_with("Provider refused its own inconsistent result after apply")
            && err.contains("test_faulty: name: was"),
        "{err}"
    );
}

#[tokio::test]
async fn a_refreshed_state_left_unknown_is_refused() {
    let server = configured(false).await;
    let state = object("read_leaves_unknown", "n".into(), "x".into());
    let r = server
        .read_resource(Request::new(proto::read_resource::Request {
            current_identity: None,
            type_name: "test_faulty".into(),
            current_state: dv(&state),
            private: Vec::new(),
            provider_meta: None,
            client_capabilities: None,
        }))
        .await
        .unwrap()
        .into_inner();
    let err = only_error(&r.diagnostics);
    assert!(
        err.starts_with("Provider refused its own invalid refreshed state")
            && err.contains("test_faulty: name: still indicated an unknown value"),
        "{err}"
    );
}

/// Debug builds (every test run) do not let a broken rule pass as an
/// expected error: the server panics.
#[cfg(debug_assertions)]
#[tokio::test]
#[should_panic(expected = "Provider refused its own invalid plan")]
async fn debug_builds_panic_on_a_broken_rule() {
    let server = configured(true).await;
    let config = object("different_value", "new".into(), Value::Null);
    plan_update(&server, &config, true).await;
}

#[tokio::test]
async fn a_sensitive_value_is_never_quoted_in_a_refusal() {
    let server = configured(false).await;
    let mut prior = object("apply_changes_known", "old".into(), "x".into());
    prior.set("secret_wo", Value::Null);
    let schema = Faulty.schema();
    let mut planned = prior.clone();
    planned.set("name", "new".into());
    // As if the new state quoted a secret where the plan had another one.
    let violations = crate::framework::guard::check_apply(
        &schema,
        &Value::object([("secret_wo", Value::string("planned-s3cret"))]),
        &Value::object([("secret_wo", Value::string("other-s3cret"))]),
    );
    assert!(!violations.is_empty());
    for v in &violations {
        assert!(!v.message.contains("s3cret"), "{v}");
    }
    let r = server
        .apply_resource_change(Request::new(proto::apply_resource_change::Request {
            planned_identity: None,
            type_name: "test_faulty".into(),
            prior_state: dv(&prior),
            planned_state: dv(&planned),
            config: dv(&object("apply_changes_known", "new".into(), Value::Null)),
            planned_private: Vec::new(),
            provider_meta: None,
        }))
        .await
        .unwrap()
        .into_inner();
    assert!(only_error(&r.diagnostics).contains("test_faulty: name: was"));
}
