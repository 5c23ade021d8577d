//! Contract tests: the Cloudflare contract (`shared/cloudflare-api/
//! openapi-subset.json`; the emulator keeps a copy, `src/emulator/openapi-subset.json`, for a clone without it)
//! is the judge of the emulator. Every request the client sent and every
//! response the emulator gave, in a scenario that exercises every client
//! operation, validates against that operation's schema; every operation of
//! the contract is probed (unknown objects, no credentials) and each answer
//! validated too; and no answer may carry a property the contract does not
//! declare.

mod support;

use std::collections::BTreeSet;

use cfai::cloudflare::models::{AiSearchTokenRequest, PermissionGroupRef, Policy, TokenRequest};
use cfai::cloudflare::tokens::TokenOwner;
use cfai::secret::Secret;
use serde_json::{json, Map, Value};
use support::{fast_client, start_emulator, ACCOUNT};

#[derive(Clone, Copy, PartialEq)]
enum Mode {
    Request,
    Response,
}

/// The Cloudflare contract beside the checkout, else the emulator's copy.
fn contract() -> Value {
    let shared = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/cloudflare-api/openapi-subset.json");
    let text = std::fs::read_to_string(&shared)
        .unwrap_or_else(|_| include_str!("../src/emulator/openapi-subset.json").to_string());
    serde_json::from_str(&text).expect("the contract is JSON")
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
    let doc = contract();
    let emu = start_emulator().await;
    let client = fast_client(&emu.base_url, 0);

    // Every client operation, successes and the documented failures.
    let token = client
        .create_token(ACCOUNT, &token_request("contract"))
        .await
        .unwrap();
    client.get_token(ACCOUNT, &token.id).await.unwrap();
    client
        .create_temp_credentials(
            ACCOUNT,
            &cfai::cloudflare::r2::TempCredentialsRequest {
                bucket: "logs".into(),
                parent_access_key_id: token.id.clone(),
                permission: "object-read-only".into(),
                ttl_seconds: 900,
                prefixes: None,
                objects: None,
            },
        )
        .await
        .unwrap();
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
        let job = client.start_sync_job(ACCOUNT, ns, "docs").await.unwrap();
        let job_id = job["id"].as_str().unwrap().to_string();
        let detail = client.get_job(ACCOUNT, ns, "docs", &job_id).await.unwrap();
        // The emulator's jobs end at once by default (sparse answers leave
        // `ended_at` out, as the contract allows).
        assert!(detail.ended_at.is_some() || support::sparse_answers());
        let logs = client
            .job_logs(ACCOUNT, ns, "docs", &job_id, 1)
            .await
            .unwrap();
        assert!(!logs.is_empty());
        client.purge_cache(ACCOUNT, ns, "docs").await.unwrap();
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

    // The user's own tokens: the same operations under `/user/tokens`.
    let user = TokenOwner::User;
    let mine = client
        .create_token(user, &token_request("contract-user"))
        .await
        .unwrap();
    client.get_token(user, &mine.id).await.unwrap();
    client.list_tokens(user).await.unwrap();
    client
        .update_token(user, &mine.id, &token_request("contract-user-2"))
        .await
        .unwrap();
    client.roll_token(user, &mine.id).await.unwrap();
    // The contract marks a user permission group's `name` optional, so a
    // sparse answer may lack it and the client refuses it by name; the
    // answer itself is judged with the rest of the journal.
    let _ = client.permission_groups(user, Some("R2"), None).await;
    client.verify_token(user).await.unwrap();
    client.delete_token(user, &mine.id).await.unwrap();

    // Every operation of the contract probed: an unknown object (or an
    // empty body), then no credentials. What the emulator routes is served.
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let http = reqwest::Client::builder()
        .tls_backend_rustls()
        .build()
        .unwrap();
    let operations = operations(&doc);
    for (method, path) in &operations {
        let url = format!("{}{}", emu.base_url, concrete(path));
        for authenticated in [true, false] {
            let mut req = http.request(method.parse().unwrap(), &url);
            if authenticated {
                req = req.bearer_auth(support::API_TOKEN);
            }
            if matches!(method.as_str(), "POST" | "PUT" | "PATCH") {
                req = req.json(&json!({}));
            }
            req.send().await.expect("the emulator answers");
        }
    }

    // Validate the journal.
    let journal = emu.journal();
    let (mut problems, covered) = judge(&doc, &journal);
    let served: BTreeSet<String> = journal
        .iter()
        .filter(|ex| ex.status != 405 && !is_gateway_error(ex))
        .map(|ex| format!("{} {}", ex.method, ex.route))
        .collect();
    for (method, path) in &operations {
        let op = format!("{method} {path}");
        let reason = not_served(method, path);
        match (served.contains(&op), reason) {
            (true, Some(reason)) => problems.push(format!(
                "{op} is served, yet listed as not served ({reason})"
            )),
            (false, None) => problems.push(format!(
                "{op} is neither served nor listed in NOT_SERVED with a reason"
            )),
            (true, None) => {
                let statuses: Vec<u16> = journal
                    .iter()
                    .filter(|ex| ex.method == *method && ex.route == *path)
                    .map(|ex| ex.status)
                    .collect();
                if !statuses.iter().any(|s| (200..300).contains(s)) {
                    problems.push(format!("{op}: no success path exercised"));
                }
                if !statuses.iter().any(|s| *s >= 400) {
                    problems.push(format!("{op}: no error path exercised"));
                }
            }
            (false, Some(_)) => {}
        }
    }
    assert!(
        problems.is_empty(),
        "{} contract violations:\n{}",
        problems.len(),
        problems.join("\n")
    );
    // Every operation of the contract is served (each judged above through
    // a success and an error path) or listed with its reason.
    assert!(served.len() >= 30, "served: {served:#?}");
    assert!(covered.is_superset(&served));
    eprintln!(
        "{} operations in the contract, {} served and judged",
        operations.len(),
        served.len()
    );
}

/// Cloudflare's API gateway refusing the credentials (code 10000), before
/// any operation answers.
fn is_gateway_error(ex: &cfai::emulator::Exchange) -> bool {
    ex.response
        .as_ref()
        .is_some_and(|b| b["errors"][0]["code"] == json!(10000))
}

/// Every operation of the contract, as (METHOD, path template).
fn operations(doc: &Value) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for method in ["get", "post", "put", "patch", "delete"] {
            if item.get(method).is_some() {
                out.push((method.to_uppercase(), path.clone()));
            }
        }
    }
    out
}

/// A path template with its parameters filled: the emulator's account,
/// objects that do not exist.
fn concrete(path: &str) -> String {
    path.replace("{account_id}", ACCOUNT)
        .replace("{token_id}", "00000000000000000000000000000000")
        .replace("{name}", "probe-ns")
        .replace("{id}", "probe-id")
        .replace("{job_id}", "probe-job")
        .replace("{item_id}", "probe-item")
}

/// The one place the emulator's deviations from the contract are listed:
/// operations it does not serve, and why. Everything else it serves, and
/// answers as the contract says.
fn not_served(method: &str, path: &str) -> Option<&'static str> {
    let p = path;
    if p.contains("/autorag/") {
        Some("the deprecated AutoRAG API, superseded by AI Search; the provider never calls it")
    } else if p.ends_with("/search") || p.ends_with("/chat/completions") {
        Some("querying an instance is data-plane use, not something the provider manages")
    } else if p.contains("/items") {
        Some("an instance's indexed documents are its data, not managed by the provider")
    } else if method == "GET" && p.ends_with("/jobs") {
        Some("the provider starts a sync job and follows that one; it never lists jobs")
    } else if method == "PATCH" && p.ends_with("/jobs/{job_id}") {
        Some("the provider never cancels a sync job")
    } else {
        None
    }
}

/// Every exchange of the journal against the contract: the request (when
/// accepted), and the response for its status, with no undeclared property.
/// Returns the problems and the operations seen.
fn judge(doc: &Value, journal: &[cfai::emulator::Exchange]) -> (Vec<String>, BTreeSet<String>) {
    let mut problems = Vec::new();
    let mut covered = BTreeSet::new();
    for ex in journal {
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
                for e in validate(doc, request_schema, body, Mode::Request) {
                    problems.push(format!("request {} {}: {e}", ex.method, ex.route));
                }
            }
            (None, false) if accepted && op["requestBody"]["required"] == json!(true) => {
                problems.push(format!(
                    "request {} {}: the contract requires a body",
                    ex.method, ex.route
                ));
            }
            _ => {}
        }
        if ex.status == 405 {
            // A probe of a method the route does not serve.
            continue;
        }
        let what = format!("response {} {} ({})", ex.method, ex.route, ex.status);
        let gateway = is_gateway_error(ex);
        if let Some(reason) = deviation(&ex.method, &ex.route, ex.status) {
            // Judged by the failure body AI Search uses everywhere.
            let schema = json!({ "$ref": "#/components/schemas/aisearch_failure" });
            problems.extend(
                check_body(doc, &schema, ex.response.as_ref(), &what)
                    .into_iter()
                    .map(|p| format!("{p} (deviation: {reason})")),
            );
        } else if gateway {
            // An authentication failure comes from Cloudflare's API gateway,
            // before any operation: the common failure envelope.
            let schema = json!({ "$ref": "#/components/schemas/iam_api-response-common-failure" });
            problems.extend(check_body(doc, &schema, ex.response.as_ref(), &what));
        } else {
            problems.extend(judge_response(
                doc,
                op,
                ex.status,
                ex.response.as_ref(),
                &what,
            ));
        }
    }
    (problems, covered)
}

/// One response against the operation's schema for its status (exact, then
/// `4XX`/`5XX`, then `default`), undeclared properties included.
fn judge_response(
    doc: &Value,
    op: &Value,
    status: u16,
    body: Option<&Value>,
    what: &str,
) -> Vec<String> {
    let class = format!("{}XX", status / 100);
    let Some(response) = op["responses"]
        .get(status.to_string())
        .or_else(|| op["responses"].get(&class))
        .or_else(|| op["responses"].get("default"))
    else {
        return vec![format!("{what}: status {status} is not in the contract")];
    };
    let schema = &response["content"]["application/json"]["schema"];
    if schema.is_null() {
        return Vec::new();
    }
    check_body(doc, schema, body, what)
}

/// A response body against one schema, undeclared properties included.
fn check_body(doc: &Value, schema: &Value, body: Option<&Value>, what: &str) -> Vec<String> {
    let Some(body) = body else {
        return vec![format!("{what}: not JSON")];
    };
    let mut found = validate(doc, schema, body, Mode::Response);
    undeclared(doc, schema, body, "", &mut found);
    found.into_iter().map(|e| format!("{what}: {e}")).collect()
}

/// Answers the contract does not list for an operation but the emulator
/// gives, with why (the other half of the one place deviations are listed,
/// with `not_served`).
fn deviation(method: &str, route: &str, status: u16) -> Option<&'static str> {
    match (method, route, status) {
        ("GET", "/accounts/{account_id}/ai-search/namespaces/{name}/instances", 404) => Some(
            "an unknown namespace is answered 404 namespace_not_found, as every other namespaced operation declares; this one lists no 404",
        ),
        _ => None,
    }
}

/// The properties a schema declares for an object, through `allOf`,
/// `oneOf` and `anyOf`, and whether it admits others (a schema for them, or
/// any); `None` when it says nothing about the object's properties.
fn declared<'a>(doc: &'a Value, schema: &'a Value) -> Option<(Map<String, Value>, Option<Value>)> {
    let schema = resolve(doc, schema);
    let mut props = Map::new();
    let mut additional = None;
    let mut said = false;
    if let Some(p) = schema.get("properties").and_then(Value::as_object) {
        said = true;
        props.extend(p.clone());
    }
    match schema.get("additionalProperties") {
        Some(Value::Bool(false)) => said = true,
        Some(Value::Bool(true)) => additional = Some(json!({})),
        Some(other) => additional = Some(other.clone()),
        None => {}
    }
    for branch in branches(schema) {
        if let Some((p, a)) = declared(doc, branch) {
            said = true;
            props.extend(p);
            additional = additional.or(a);
        }
    }
    (said || additional.is_some()).then_some((props, additional))
}

/// The subschemas a schema combines (`allOf`, `oneOf`, `anyOf`).
fn branches(schema: &Value) -> impl Iterator<Item = &Value> {
    ["allOf", "oneOf", "anyOf"]
        .into_iter()
        .filter_map(|key| schema.get(key).and_then(Value::as_array))
        .flatten()
}

/// Properties of `instance` that its schema does not declare, at any depth.
fn undeclared(doc: &Value, schema: &Value, instance: &Value, path: &str, out: &mut Vec<String>) {
    let schema = resolve(doc, schema);
    match instance {
        Value::Object(map) => {
            let Some((props, additional)) = declared(doc, schema) else {
                return;
            };
            for (k, v) in map {
                let here = format!("{path}/{k}");
                match props.get(k).or(additional.as_ref()) {
                    Some(s) => undeclared(doc, s, v, &here, out),
                    None => out.push(format!("{here}: property not declared by the contract")),
                }
            }
        }
        Value::Array(items) => {
            let item_schemas = std::iter::once(schema.get("items"))
                .chain(branches(schema).map(|b| resolve(doc, b).get("items")));
            for item_schema in item_schemas.flatten() {
                for (i, item) in items.iter().enumerate() {
                    undeclared(doc, item_schema, item, &format!("{path}/{i}"), out);
                }
            }
        }
        _ => {}
    }
}

#[test]
fn the_validator_catches_violations() {
    // A guard against a contract test that cannot fail.
    let doc = contract();
    let op = &doc["paths"]["/accounts/{account_id}/tokens"]["post"];
    let schema = &op["responses"]["200"]["content"]["application/json"]["schema"];
    let wrong = json!({"success": true, "errors": [], "messages": [], "result": {"id": 5, "name": "x", "policies": "nope"}});
    assert!(!validate(&doc, schema, &wrong, Mode::Response).is_empty());
    // An invented property, however well typed, is refused.
    let mut invented = Vec::new();
    let ok = json!({"success": true, "errors": [], "messages": [], "result": {"id": "x", "name": "x", "status": "active", "policies": [], "invented": 1}});
    undeclared(&doc, schema, &ok, "", &mut invented);
    assert_eq!(
        invented,
        vec!["/result/invented: property not declared by the contract"]
    );
    let request = &op["requestBody"]["content"]["application/json"]["schema"];
    assert!(
        !validate(&doc, request, &json!({"name": "x"}), Mode::Request).is_empty(),
        "policies are required"
    );
}

#[test]
fn the_emulators_copy_of_the_contract_is_current() {
    // The emulator's sparse answers take their facts from its copy.
    let shared = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/cloudflare-api/openapi-subset.json");
    match std::fs::read_to_string(&shared) {
        Ok(text) => assert!(
            text == include_str!("../src/emulator/openapi-subset.json"),
            "src/emulator/openapi-subset.json differs from {}: copy it again",
            shared.display()
        ),
        Err(_) => support::skipped(&format!(
            "the_emulators_copy_of_the_contract_is_current: {} is not there",
            shared.display()
        )),
    }
}
