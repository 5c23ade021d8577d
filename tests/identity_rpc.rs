//! The identity RPCs in process: every managed type's identity schema is
//! versioned, and a stored identity upgrades to the current schema (a
//! member the schema no longer has is dropped; one from a newer provider
//! is refused, saying so).

use cfai::cty::{msgpack, Type, Value};
use cfai::provider::CfaiProvider;
use cfai::tfplugin::proto;
use cfai::tfplugin::proto::provider_server::Provider as _;
use cfai::tfplugin::ProviderServer;
use tonic::Request;

const ACCOUNT: &str = "0123456789abcdef0123456789abcdef";

#[tokio::test]
async fn identity_schemas_are_versioned_and_stored_identities_upgrade() {
    let server = ProviderServer::new(CfaiProvider);
    let schemas = server
        .get_resource_identity_schemas(Request::new(
            proto::get_resource_identity_schemas::Request {},
        ))
        .await
        .unwrap()
        .into_inner();
    let mut types: Vec<&String> = schemas.identity_schemas.keys().collect();
    types.sort();
    assert_eq!(
        types,
        [
            "cfai_account_api_token",
            "cfai_ai_search_instance",
            "cfai_ai_search_namespace",
            "cfai_ai_search_service_token",
            "cfai_user_api_token"
        ]
    );
    for (name, schema) in &schemas.identity_schemas {
        assert_eq!(schema.version, 0, "{name}");
        assert!(
            schema
                .identity_attributes
                .iter()
                .any(|a| a.required_for_import),
            "{name}: an identity names its object"
        );
    }

    let upgrade = |version: i64, json: &str| {
        let server = &server;
        let raw = json.as_bytes().to_vec();
        async move {
            server
                .upgrade_resource_identity(Request::new(
                    proto::upgrade_resource_identity::Request {
                        type_name: "cfai_ai_search_instance".into(),
                        version,
                        raw_identity: Some(proto::RawState {
                            json: raw,
                            flatmap: Default::default(),
                        }),
                    },
                ))
                .await
                .unwrap()
                .into_inner()
        }
    };
    let stored = format!(
        r#"{{"account_id": "{ACCOUNT}", "namespace": "docs", "id": "kb", "retired": true}}"#
    );
    let answer = upgrade(0, &stored).await;
    assert!(answer.diagnostics.is_empty(), "{:?}", answer.diagnostics);
    let ty = Type::object([
        ("account_id", Type::String),
        ("namespace", Type::String),
        ("id", Type::String),
    ]);
    let data = answer.upgraded_identity.unwrap().identity_data.unwrap();
    let value = msgpack::decode(&data.msgpack, &ty).unwrap();
    assert_eq!(
        value,
        Value::object([
            ("account_id", Value::string(ACCOUNT)),
            ("namespace", Value::string("docs")),
            ("id", Value::string("kb")),
        ])
    );

    let newer = upgrade(7, &stored).await;
    assert!(newer.upgraded_identity.is_none());
    assert!(
        newer
            .diagnostics
            .iter()
            .any(|d| d.detail.contains("version 7")),
        "{:?}",
        newer.diagnostics
    );
}
