//! Contract test: every request the client sent and every response the
//! emulator gave, in a scenario that exercises every client operation,
//! validates against that operation's schema in the OpenAPI subset
//! (tests/data/openapi-subset.json, copied from shared/cloudflare-api).

mod support;

use std::collections::BTreeSet;

use cfai::cloudflare::models::{AiSearchTokenRequest, PermissionGroupRef, Policy, TokenRequest};
use cfai::secret::Secret;
use serde_json::{json, Map, Value};
use support::{fast_client, start_emulator, ACCOUNT};

#[derive(Clone, Copy, PartialEq)]
enum Mode {
    Request,
    Response,
}

fn resolve<'a>(doc: &'a Value, schema: &'a Value) -> &'a Value {
    match schema.get("$ref").and_then(Value::as_str) {
        Some(r) => doc.pointer(r.trim_start_matches('#')).unwrap_or(schema),
        None => schema,
    }
}

/// OpenAPI 3.0 → JSON Schema draft 4: `nullable`, and `readOnly` (request)
/// or `writeOnly` (response) properties are not required.
fn convert(doc: &Value, schema: &Value, mode: Mode) -> Value {
    match schema {
        Value::Object(map) => {
            let mut out = Map::new();
            for (k, v) in map {
                if k == "nullable" || k.starts_with("x-") {
                    continue;
                }
                out.insert(k.clone(), convert(doc, v, mode));
            }
            if let (Some(Value::Array(required)), Some(Value::Object(props))) =
                (map.get("required"), map.get("properties"))
            {
                let skip = if mode == Mode::Request {
                    "readOnly"
                } else {
                    "writeOnly"
                };
                let kept: Vec<Value> = required
                    .iter()
                    .filter(|name| {
                        let prop = name.as_str().and_then(|n| props.get(n));
                        !prop.is_some_and(|p| resolve(doc, p).get(skip) == Some(&Value::Bool(true)))
                    })
                    .cloned()
                    .collect();
                out.insert("required".into(), Value::Array(kept));
            }
            let converted = Value::Object(out);
            if map.get("nullable") == Some(&Value::Bool(true)) {
                json!({ "anyOf": [{ "type": "null" }, converted] })
            } else {
                converted
            }
        }
        Value::Array(items) => Value::Array(items.iter().map(|i| convert(doc, i, mode)).collect()),
        other => other.clone(),
    }
}

fn validate(doc: &Value, schema: &Value, instance: &Value, mode: Mode) -> Vec<String> {
    let components = convert(doc, &doc["components"], mode);
    let root = json!({ "allOf": [convert(doc, schema, mode)], "components": components });
    let validator = jsonschema::draft4::options()
        .should_validate_formats(true)
        .build(&root)
        .expect("schema compiles");
    validator
        .iter_errors(instance)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect()
}

fn token_request(name: &str) -> TokenRequest {
    let mut resources = Map::new();
    resources.insert(
        format!("com.cloudflare.api.account.{ACCOUNT}"),
        json!({"com.cloudflare.edge.r2.bucket.*": "*"}),
    );
    TokenRequest {
        name: name.into(),
        policies: vec![Policy {
            id: None,
            effect: "allow".into(),
            permission_groups: vec![PermissionGroupRef {
                id: "bf7481a1826f439697cb59a20b22293e".into(),
                name: None,
            }],
            resources,
        }],
        condition: Some(cfai::cloudflare::models::Condition {
            request_ip: Some(cfai::cloudflare::models::RequestIp {
                allowed: vec!["192.0.2.1".into()],
                not_in: vec!["192.0.2.0/30".into()],
            }),
        }),
        not_before: Some("2026-01-01T00:00:00Z".into()),
        expires_on: Some("2099-01-01T00:00:00+02:00".into()),
        status: None,
    }
}

#[tokio::test]
async fn emulator_and_client_follow_the_openapi_contract() {
    let doc: Value = serde_json::from_str(include_str!("data/openapi-subset.json")).unwrap();
    let emu = start_emulator().await;
    let client = fast_client(&emu.base_url, 0);

    // Every client operation, successes and the documented failures.
    let token = client
        .create_token(ACCOUNT, &token_request("contract"))
        .await
        .unwrap();
    client.get_token(ACCOUNT, &token.id).await.unwrap();
    client.list_tokens(ACCOUNT).await.unwrap();
    let mut update = token_request("contract-2");
    update.status = Some("disabled".into());
    client
        .update_token(ACCOUNT, &token.id, &update)
        .await
        .unwrap();
    let value = client.roll_token(ACCOUNT, &token.id).await.unwrap();
    client
        .permission_groups(ACCOUNT, Some("R2"), Some("com.cloudflare.api.account"))
        .await
        .unwrap();
    client.verify_token(ACCOUNT).await.unwrap();
    let mut bad = token_request("bad");
    bad.policies[0].permission_groups[0].id = "ffffffffffffffffffffffffffffffff".into();
    assert!(client.create_token(ACCOUNT, &bad).await.is_err());
    assert!(client
        .get_token(ACCOUNT, "00000000000000000000000000000000")
        .await
        .is_err());

    let ai = AiSearchTokenRequest {
        name: "svc".into(),
        cf_api_id: token.id.clone(),
        cf_api_key: value.clone(),
        legacy: Some(false),
    };
    let ai_token = client.create_ai_search_token(ACCOUNT, &ai).await.unwrap();
    assert!(client
        .create_ai_search_token(
            ACCOUNT,
            &AiSearchTokenRequest {
                cf_api_key: Secret::new("wrong-value"),
                ..ai.clone()
            }
        )
        .await
        .is_err());
    client
        .get_ai_search_token(ACCOUNT, &ai_token.id)
        .await
        .unwrap();
    client
        .update_ai_search_token(
            ACCOUNT,
            &ai_token.id,
            &AiSearchTokenRequest {
                name: "svc-2".into(),
                ..ai.clone()
            },
        )
        .await
        .unwrap();
    client.list_ai_search_tokens(ACCOUNT).await.unwrap();

    client
        .create_namespace(ACCOUNT, "team-a", Some("Team A"))
        .await
        .unwrap();
    assert!(client
        .create_namespace(ACCOUNT, "team-a", None)
        .await
        .is_err());
    client.get_namespace(ACCOUNT, "team-a").await.unwrap();
    client
        .update_namespace(ACCOUNT, "team-a", Some("A"))
        .await
        .unwrap();
    client.list_namespaces(ACCOUNT).await.unwrap();

    let mut body = Map::new();
    body.insert("id".into(), json!("docs"));
    body.insert("type".into(), json!("r2"));
    body.insert("source".into(), json!("docs-bucket"));
    body.insert("token_id".into(), json!(ai_token.id));
    body.insert(
        "index_method".into(),
        json!({"keyword": true, "vector": true}),
    );
    for ns in [None, Some("team-a")] {
        client.create_instance(ACCOUNT, ns, &body).await.unwrap();
        client.get_instance(ACCOUNT, ns, "docs").await.unwrap();
        client.list_instances(ACCOUNT, ns).await.unwrap();
        let mut update = Map::new();
        update.insert("paused".into(), json!(true));
        update.insert("max_num_results".into(), json!(20));
        client
            .update_instance(ACCOUNT, ns, "docs", &update)
            .await
            .unwrap();
        client.instance_stats(ACCOUNT, ns, "docs").await.unwrap();
    }
    let mut invalid = body.clone();
    invalid.insert("id".into(), json!("Not Valid"));
    assert!(client
        .create_instance(ACCOUNT, None, &invalid)
        .await
        .is_err());
    assert!(
        client
            .delete_ai_search_token(ACCOUNT, &ai_token.id)
            .await
            .is_err(),
        "409 while in use"
    );
    client
        .create_namespace(ACCOUNT, "team-b", None)
        .await
        .unwrap();
    client
        .move_instance(ACCOUNT, "team-a", "docs", "team-b")
        .await
        .unwrap();
    client
        .delete_instance(ACCOUNT, Some("team-b"), "docs")
        .await
        .unwrap();
    client.delete_instance(ACCOUNT, None, "docs").await.unwrap();
    assert!(client.get_instance(ACCOUNT, None, "docs").await.is_err());
    client.delete_namespace(ACCOUNT, "team-a").await.unwrap();
    client
        .delete_ai_search_token(ACCOUNT, &ai_token.id)
        .await
        .unwrap();
    client.delete_token(ACCOUNT, &token.id).await.unwrap();

    // Validate the journal.
    let journal = emu.journal();
    let mut problems = Vec::new();
    let mut covered = BTreeSet::new();
    for ex in &journal {
        let method = ex.method.to_lowercase();
        let Some(op) = doc["paths"].get(&ex.route).and_then(|p| p.get(&method)) else {
            problems.push(format!("{} {}: not in the contract", ex.method, ex.route));
            continue;
        };
        covered.insert(format!("{} {}", ex.method, ex.route));
        let request_schema = &op["requestBody"]["content"]["application/json"]["schema"];
        // Requests the emulator refused were sent invalid on purpose.
        let accepted = (200..300).contains(&ex.status);
        match (&ex.request, request_schema.is_null()) {
            (Some(body), false) if accepted => {
                for e in validate(&doc, request_schema, body, Mode::Request) {
                    problems.push(format!("request {} {}: {e}", ex.method, ex.route));
                }
            }
            (None, false) if op["requestBody"]["required"] == json!(true) => {
                problems.push(format!(
                    "request {} {}: the contract requires a body",
                    ex.method, ex.route
                ));
            }
            _ => {}
        }
        let status = ex.status.to_string();
        let response = op["responses"].get(&status).or_else(|| {
            (400..500)
                .contains(&ex.status)
                .then(|| op["responses"].get("4XX"))
                .flatten()
        });
        let Some(response) = response else {
            problems.push(format!(
                "response {} {}: status {status} is not in the contract",
                ex.method, ex.route
            ));
            continue;
        };
        let schema = &response["content"]["application/json"]["schema"];
        let Some(body) = &ex.response else {
            problems.push(format!("response {} {}: not JSON", ex.method, ex.route));
            continue;
        };
        if !schema.is_null() {
            for e in validate(&doc, schema, body, Mode::Response) {
                problems.push(format!(
                    "response {} {} ({status}): {e}",
                    ex.method, ex.route
                ));
            }
        }
    }
    assert!(
        problems.is_empty(),
        "{} contract violations:\n{}",
        problems.len(),
        problems.join("\n")
    );
    // Every operation the client implements was exercised.
    // 8 token operations, 5 AI Search token, 5 namespace, 6 instance
    // operations on the account route and 7 (with the move) namespaced.
    assert_eq!(covered.len(), 31, "operations covered: {covered:#?}");
}

#[test]
fn the_validator_catches_violations() {
    // A guard against a contract test that cannot fail.
    let doc: Value = serde_json::from_str(include_str!("data/openapi-subset.json")).unwrap();
    let op = &doc["paths"]["/accounts/{account_id}/tokens"]["post"];
    let schema = &op["responses"]["200"]["content"]["application/json"]["schema"];
    let wrong = json!({"success": true, "errors": [], "messages": [], "result": {"id": 5, "name": "x", "policies": "nope"}});
    assert!(!validate(&doc, schema, &wrong, Mode::Response).is_empty());
    let request = &op["requestBody"]["content"]["application/json"]["schema"];
    assert!(
        !validate(&doc, request, &json!({"name": "x"}), Mode::Request).is_empty(),
        "policies are required"
    );
}
