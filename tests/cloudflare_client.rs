//! Every client operation against the emulator on 127.0.0.1:0, plus the
//! error, retry and fault behaviour.

mod support;

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use cfai::cloudflare::models::{
    AiSearchTokenRequest, Condition, PermissionGroupRef, Policy, RequestIp, TokenRequest,
};
use cfai::cloudflare::{Auth, Client, ClientConfig, ErrorKind};
use cfai::emulator::{Fault, FaultConfig};
use cfai::secret::Secret;
use serde_json::{json, Map, Value};
use support::{fast_client, start_emulator, ACCOUNT};

const R2_WRITE: &str = "bf7481a1826f439697cb59a20b22293e";
const AI_INDEX: &str = "9e9b428a0bcd46fd80e580b46a69963c";

fn token_request(name: &str) -> TokenRequest {
    let mut resources = Map::new();
    resources.insert(format!("com.cloudflare.api.account.{ACCOUNT}"), json!("*"));
    TokenRequest {
        name: name.to_string(),
        policies: vec![
            Policy {
                id: None,
                effect: "allow".into(),
                permission_groups: vec![
                    PermissionGroupRef {
                        id: R2_WRITE.into(),
                        name: None,
                    },
                    PermissionGroupRef {
                        id: AI_INDEX.into(),
                        name: None,
                    },
                ],
                resources: resources.clone(),
            },
            Policy {
                id: None,
                effect: "deny".into(),
                permission_groups: vec![PermissionGroupRef {
                    id: R2_WRITE.into(),
                    name: None,
                }],
                resources,
            },
        ],
        condition: Some(Condition {
            request_ip: Some(RequestIp {
                allowed: vec!["10.0.0.1".into()],
                not_in: vec![],
            }),
        }),
        not_before: None,
        expires_on: Some("2099-01-01T01:00:00+01:00".into()),
        status: None,
    }
}

#[tokio::test]
async fn token_operations() {
    let emu = start_emulator().await;
    let client = fast_client(&emu.base_url, 2);

    let created = client
        .create_token(ACCOUNT, &token_request("ci"))
        .await
        .unwrap();
    let value = created.value.clone().expect("create returns the value");
    assert!(value.expose().len() >= 40);
    assert_eq!(format!("{value:?}"), "Secret(<redacted>)");
    assert_eq!(
        created.expires_on.as_deref(),
        Some("2099-01-01T00:00:00Z"),
        "normalised to UTC"
    );
    let cidrs = &created
        .condition
        .as_ref()
        .unwrap()
        .request_ip
        .as_ref()
        .unwrap()
        .allowed;
    assert_eq!(cidrs, &["10.0.0.1/32"]);

    let read = client.get_token(ACCOUNT, &created.id).await.unwrap();
    assert!(read.value.is_none(), "GET never returns the value");
    let policies = read.policies.as_deref().unwrap();
    assert_eq!(policies.len(), 2);
    assert_eq!(
        policies[0].effect, "deny",
        "the emulator answers policies in another order"
    );

    // 12 tokens fit one page of 50 (multi-page walks are tested in the crate).
    for i in 0..11 {
        client
            .create_token(ACCOUNT, &token_request(&format!("bulk-{i}")))
            .await
            .unwrap();
    }
    let all = client.list_tokens(ACCOUNT).await.unwrap();
    assert_eq!(all.len(), 12);
    assert_eq!(
        emu.count("GET /accounts/{account_id}/tokens"),
        1,
        "50 per page: one page"
    );

    let mut update = token_request("renamed");
    update.status = Some("disabled".into());
    let updated = client
        .update_token(ACCOUNT, &created.id, &update)
        .await
        .unwrap();
    assert_eq!(updated.name.as_deref(), Some("renamed"));
    assert_eq!(updated.status.as_deref(), Some("disabled"));
    assert_eq!(updated.id, created.id);

    let rolled = client.roll_token(ACCOUNT, &created.id).await.unwrap();
    assert_ne!(rolled.expose(), value.expose());
    assert_eq!(
        emu.token_value(&created.id).as_deref(),
        Some(rolled.expose())
    );

    let groups = client
        .permission_groups(ACCOUNT, Some("Workers R2 Storage"), None)
        .await
        .unwrap();
    assert!(groups.iter().any(|g| g.id == R2_WRITE));
    assert!(groups.iter().all(|g| g.name.contains("Workers R2 Storage")));
    let bucket_scoped = client
        .permission_groups(ACCOUNT, None, Some("com.cloudflare.edge.r2.bucket"))
        .await
        .unwrap();
    assert!(!bucket_scoped.is_empty());
    assert!(bucket_scoped.iter().all(|g| g
        .scopes
        .contains(&"com.cloudflare.edge.r2.bucket".to_string())));

    let verified = client.verify_token(ACCOUNT).await.unwrap();
    assert_eq!(verified.status, "active");

    client.delete_token(ACCOUNT, &created.id).await.unwrap();
    let gone = client.get_token(ACCOUNT, &created.id).await.unwrap_err();
    assert_eq!(gone.kind, ErrorKind::NotFound);
    assert_eq!(gone.status, Some(404));
    assert_eq!(
        client
            .delete_token(ACCOUNT, &created.id)
            .await
            .unwrap_err()
            .kind,
        ErrorKind::NotFound
    );
}

#[tokio::test]
async fn validation_errors_keep_cloudflare_codes() {
    let emu = start_emulator().await;
    let client = fast_client(&emu.base_url, 2);
    let mut bad = token_request("x");
    bad.policies[0].permission_groups[0].id = "00000000000000000000000000000000".into();
    let err = client.create_token(ACCOUNT, &bad).await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::Validation);
    assert_eq!(err.status, Some(400));
    assert_eq!(err.errors[0].code, 1003);
    assert!(err.to_string().contains("Cloudflare API error 1003: Permission group 00000000000000000000000000000000 does not exist"), "{err}");

    let mut long = token_request(&"n".repeat(121));
    long.condition = None;
    assert_eq!(
        client
            .create_token(ACCOUNT, &long)
            .await
            .unwrap_err()
            .errors[0]
            .code,
        1001
    );

    let mut cidr = token_request("x");
    cidr.condition = Some(Condition {
        request_ip: Some(RequestIp {
            allowed: vec!["10.0.0.0/33".into()],
            not_in: vec![],
        }),
    });
    assert_eq!(
        client
            .create_token(ACCOUNT, &cidr)
            .await
            .unwrap_err()
            .errors[0]
            .code,
        1004
    );

    let mut times = token_request("x");
    times.not_before = Some("2030-01-02T00:00:00Z".into());
    times.expires_on = Some("2030-01-01T00:00:00Z".into());
    assert_eq!(
        client
            .create_token(ACCOUNT, &times)
            .await
            .unwrap_err()
            .errors[0]
            .code,
        1005
    );
    assert_eq!(
        emu.dump()["tokens"].as_object().unwrap().len(),
        0,
        "nothing was created"
    );
}

#[tokio::test]
async fn auth_failures_and_missing_credentials() {
    let emu = start_emulator().await;
    let wrong = Client::new(ClientConfig::new(
        &emu.base_url,
        Some(Auth::Token(Secret::new("nope"))),
    ))
    .unwrap();
    let err = wrong.list_tokens(ACCOUNT).await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::Auth);
    assert_eq!(err.errors[0].code, 10000);
    assert!(!err.to_string().contains("nope"), "no secret in errors");

    let key = Client::new(ClientConfig::new(
        &emu.base_url,
        Some(Auth::GlobalKey {
            key: Secret::new("global-key"),
            email: "me@example.com".into(),
        }),
    ))
    .unwrap();
    assert!(key.list_tokens(ACCOUNT).await.unwrap().is_empty());

    let none = Client::new(ClientConfig::new(&emu.base_url, None)).unwrap();
    assert_eq!(
        none.list_tokens(ACCOUNT).await.unwrap_err().kind,
        ErrorKind::MissingCredentials
    );

    let other_account = fast_client(&emu.base_url, 0);
    assert_eq!(
        other_account
            .list_tokens("ffffffffffffffffffffffffffffffff")
            .await
            .unwrap_err()
            .kind,
        ErrorKind::Auth
    );
}

#[tokio::test]
async fn ai_search_tokens_namespaces_and_instances() {
    let emu = start_emulator().await;
    let client = fast_client(&emu.base_url, 2);
    let api_token = client
        .create_token(ACCOUNT, &token_request("service"))
        .await
        .unwrap();
    let key = api_token.value.clone().unwrap();

    let wrong = AiSearchTokenRequest {
        name: "svc".into(),
        cf_api_id: api_token.id.clone(),
        cf_api_key: Secret::new("wrong"),
        legacy: Some(false),
    };
    let err = client
        .create_ai_search_token(ACCOUNT, &wrong)
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::Validation);
    assert!(
        err.to_string()
            .contains("7012: ai_search_instance_invalid_token"),
        "{err}"
    );

    let request = AiSearchTokenRequest {
        cf_api_key: key.clone(),
        ..wrong
    };
    let ai_token = client
        .create_ai_search_token(ACCOUNT, &request)
        .await
        .unwrap();
    assert_eq!(ai_token.legacy, Some(false));
    assert_eq!(
        client
            .get_ai_search_token(ACCOUNT, &ai_token.id)
            .await
            .unwrap()
            .name,
        "svc"
    );
    let renamed = client
        .update_ai_search_token(
            ACCOUNT,
            &ai_token.id,
            &AiSearchTokenRequest {
                name: "svc2".into(),
                ..request.clone()
            },
        )
        .await
        .unwrap();
    assert_eq!(renamed.name, "svc2");
    assert_eq!(
        client.list_ai_search_tokens(ACCOUNT).await.unwrap().len(),
        1
    );

    // Namespaces.
    let ns = client
        .create_namespace(ACCOUNT, "team-a", Some("Team A"))
        .await
        .unwrap();
    assert_eq!(ns.name, "team-a");
    assert_eq!(
        client
            .create_namespace(ACCOUNT, "team-a", None)
            .await
            .unwrap_err()
            .kind,
        ErrorKind::Conflict
    );
    assert_eq!(
        client
            .update_namespace(ACCOUNT, "team-a", Some("A"))
            .await
            .unwrap()
            .description
            .flatten()
            .as_deref(),
        Some("A")
    );
    assert_eq!(
        client.get_namespace(ACCOUNT, "team-a").await.unwrap().name,
        "team-a"
    );
    let names: BTreeSet<_> = client
        .list_namespaces(ACCOUNT)
        .await
        .unwrap()
        .into_iter()
        .map(|n| n.name)
        .collect();
    assert_eq!(
        names,
        BTreeSet::from(["default".to_string(), "team-a".to_string()])
    );

    // Instances on the namespaced route.
    let mut body = Map::new();
    body.insert("id".into(), json!("docs"));
    body.insert("type".into(), json!("r2"));
    body.insert("source".into(), json!("docs-bucket"));
    body.insert("token_id".into(), json!(ai_token.id));
    body.insert("chunk_size".into(), json!(512));
    let created = client
        .create_instance(ACCOUNT, Some("team-a"), &body)
        .await
        .unwrap();
    assert_eq!(created.field("namespace"), Some(&json!("team-a")));
    assert_eq!(created.field("chunk_size"), Some(&json!(512)));
    let mut bad = body.clone();
    bad.insert("id".into(), json!("other"));
    bad.insert("max_num_results".into(), json!(51));
    let err = client
        .create_instance(ACCOUNT, Some("team-a"), &bad)
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::Validation);

    let mut update = Map::new();
    update.insert("paused".into(), json!(true));
    update.insert("system_prompt_ai_search".into(), json!("Be brief."));
    let updated = client
        .update_instance(ACCOUNT, Some("team-a"), "docs", &update)
        .await
        .unwrap();
    assert_eq!(updated.field("paused"), Some(&json!(true)));
    let read = client
        .get_instance(ACCOUNT, Some("team-a"), "docs")
        .await
        .unwrap();
    assert!(
        read.field("system_prompt_ai_search").is_none(),
        "a single read omits system prompts"
    );
    assert_eq!(
        client
            .instance_stats(ACCOUNT, Some("team-a"), "docs")
            .await
            .unwrap()["completed"],
        json!(0)
    );
    assert_eq!(
        client
            .list_instances(ACCOUNT, Some("team-a"))
            .await
            .unwrap()
            .len(),
        1
    );

    // The token is in use: 409.
    let err = client
        .delete_ai_search_token(ACCOUNT, &ai_token.id)
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::Conflict);
    assert_eq!(err.status, Some(409));

    // Move to the default namespace, then use the account route.
    let moved = client
        .move_instance(ACCOUNT, "team-a", "docs", "default")
        .await
        .unwrap();
    assert_eq!(moved.field("namespace"), Some(&json!("default")));
    assert_eq!(
        client.get_instance(ACCOUNT, None, "docs").await.unwrap().id,
        "docs"
    );
    assert_eq!(client.list_instances(ACCOUNT, None).await.unwrap().len(), 1);
    assert_eq!(
        client
            .get_instance(ACCOUNT, Some("team-a"), "docs")
            .await
            .unwrap_err()
            .kind,
        ErrorKind::NotFound
    );

    client.delete_instance(ACCOUNT, None, "docs").await.unwrap();
    client
        .delete_ai_search_token(ACCOUNT, &ai_token.id)
        .await
        .unwrap();
    client.delete_namespace(ACCOUNT, "team-a").await.unwrap();
    assert_eq!(
        client
            .get_namespace(ACCOUNT, "team-a")
            .await
            .unwrap_err()
            .kind,
        ErrorKind::NotFound
    );
}

#[tokio::test]
async fn a_429_is_retried_after_retry_after() {
    let emu = start_emulator().await;
    let client = fast_client(&emu.base_url, 3);
    emu.set_faults(FaultConfig {
        script: [Fault::TooManyRequests { retry_after: 1 }].into(),
        ..Default::default()
    });
    let started = Instant::now();
    let token = client
        .create_token(ACCOUNT, &token_request("after-429"))
        .await
        .unwrap();
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "retry-after was not honoured"
    );
    assert_eq!(emu.faults_injected(), 1);
    assert_eq!(
        emu.count("POST /accounts/{account_id}/tokens"),
        1,
        "one request reached the handler"
    );
    assert!(emu.token_value(&token.id).is_some());
}

#[tokio::test]
async fn a_503_storm_exhausts_retries_with_a_clear_error() {
    let emu = start_emulator().await;
    let client = fast_client(&emu.base_url, 2);
    emu.set_faults(FaultConfig {
        rate_5xx: 1.0,
        status_5xx: 503,
        ..Default::default()
    });
    let err = client
        .create_token(ACCOUNT, &token_request("storm"))
        .await
        .unwrap_err();
    assert_eq!(err.status, Some(503));
    assert_eq!(err.attempts, 3);
    let text = err.to_string();
    assert!(
        text.contains("HTTP 503") && text.contains("after 3 attempts"),
        "{text}"
    );
    assert_eq!(emu.faults_injected(), 3);
    assert_eq!(emu.dump()["tokens"].as_object().unwrap().len(), 0);
}

#[tokio::test]
async fn a_post_whose_response_was_dropped_is_not_retried() {
    let emu = start_emulator().await;
    let client = fast_client(&emu.base_url, 4);
    emu.set_faults(FaultConfig {
        script: [Fault::DropAfterCommit].into(),
        ..Default::default()
    });
    let err = client
        .create_token(ACCOUNT, &token_request("ambiguous"))
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::Transport);
    assert_eq!(
        err.attempts, 1,
        "a POST that may have been processed must not be sent again"
    );
    assert_eq!(emu.count("POST /accounts/{account_id}/tokens"), 1);
    assert_eq!(
        emu.dump()["tokens"].as_object().unwrap().len(),
        1,
        "the server did create it"
    );

    // An idempotent GET in the same situation is simply retried.
    emu.set_faults(FaultConfig {
        script: [Fault::DropAfterCommit].into(),
        ..Default::default()
    });
    assert_eq!(client.list_tokens(ACCOUNT).await.unwrap().len(), 1);
}

#[tokio::test]
async fn an_html_error_page_is_a_clear_error() {
    let emu = start_emulator().await;
    let client = fast_client(&emu.base_url, 1);
    emu.set_faults(FaultConfig {
        script: [
            Fault::HtmlStatus { status: 502 },
            Fault::HtmlStatus { status: 502 },
        ]
        .into(),
        ..Default::default()
    });
    let err = client.list_tokens(ACCOUNT).await.unwrap_err();
    assert_eq!(err.status, Some(502));
    assert_eq!(err.attempts, 2);
    assert!(
        err.to_string().contains("not a Cloudflare API response"),
        "{err}"
    );

    // A POST is not retried on 502 (it may have been processed).
    emu.set_faults(FaultConfig {
        script: [Fault::HtmlStatus { status: 502 }].into(),
        ..Default::default()
    });
    let err = client
        .create_token(ACCOUNT, &token_request("x"))
        .await
        .unwrap_err();
    assert_eq!(err.attempts, 1);
    assert_eq!(err.kind, ErrorKind::Server);
    assert!(
        err.to_string().contains("<html>"),
        "the body is quoted: {err}"
    );
}

#[tokio::test]
async fn a_refused_connection_is_retried_even_for_post() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    let client = fast_client(&format!("http://127.0.0.1:{port}/client/v4"), 2);
    let err = client
        .create_token(ACCOUNT, &token_request("x"))
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::Transport);
    assert_eq!(
        err.attempts, 3,
        "connect errors provably did not reach the server"
    );
}

#[tokio::test]
async fn requests_carry_the_user_agent_and_errors_no_secret() {
    // A tiny server that echoes the request headers back as an error message.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let (mut s, _) = listener.accept().await.unwrap();
        let mut buf = vec![0u8; 4096];
        let n = s.read(&mut buf).await.unwrap();
        let head = String::from_utf8_lossy(&buf[..n]).to_lowercase();
        let ua = head
            .lines()
            .find(|l| l.starts_with("user-agent:"))
            .unwrap_or("")
            .to_string();
        let body = serde_json::to_string(&json!({"success": false, "errors": [{"code": 1000, "message": ua}], "messages": [], "result": Value::Null})).unwrap();
        let resp = format!("HTTP/1.1 400 Bad Request\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}", body.len());
        s.write_all(resp.as_bytes()).await.unwrap();
    });
    let client = fast_client(&format!("http://{addr}/client/v4"), 0);
    let err = client.get_token(ACCOUNT, "abc").await.unwrap_err();
    assert!(
        err.errors[0].message.contains("terraform-provider-cfai/"),
        "{err}"
    );
    assert!(!err.to_string().contains(support::API_TOKEN));
}

/// A server that answers every request with what `answer` makes of its
/// path and query: status, body, and whether to send a content-length.
async fn hostile_server(
    answer: impl Fn(&str) -> (u16, Vec<u8>, bool) + Send + Sync + 'static,
) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let answer = std::sync::Arc::new(answer);
    tokio::spawn(async move {
        loop {
            let Ok((mut s, _)) = listener.accept().await else {
                return;
            };
            let answer = answer.clone();
            tokio::spawn(async move {
                let mut head = Vec::new();
                let mut buf = [0u8; 4096];
                while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                    match s.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => head.extend_from_slice(&buf[..n]),
                    }
                }
                let text = String::from_utf8_lossy(&head);
                let target = text.split_whitespace().nth(1).unwrap_or("/").to_string();
                let (status, body, with_length) = answer(&target);
                let mut out = format!("HTTP/1.1 {status} X\r\ncontent-type: application/json\r\nconnection: close\r\n");
                if with_length {
                    out += &format!("content-length: {}\r\n", body.len());
                }
                out += "\r\n";
                let _ = s.write_all(out.as_bytes()).await;
                let _ = s.write_all(&body).await;
                let _ = s.shutdown().await;
            });
        }
    });
    format!("http://{addr}/client/v4")
}

fn envelope(result: &str, info: &str) -> Vec<u8> {
    format!(r#"{{"success":true,"errors":[],"messages":[],"result":{result}{info}}}"#).into_bytes()
}

/// Each hostile answer is refused well under a second, naming the
/// operation, with no stall and no unbounded memory.
#[tokio::test]
async fn hostile_answers_are_refused_quickly_naming_the_operation() {
    let within = Duration::from_millis(1000);
    let check = |what: &str, started: Instant, err: cfai::cloudflare::ApiError, path: &str| {
        let took = started.elapsed();
        eprintln!("{what}: refused in {took:?}: {err}");
        assert!(took < within, "{what} took {took:?}");
        assert_eq!(err.kind, ErrorKind::Malformed, "{what}: {err}");
        assert!(
            err.to_string().contains(path),
            "{what} names the operation: {err}"
        );
    };

    let refused_instance_read = |what: &'static str, base: String| async move {
        let started = Instant::now();
        let err = fast_client(&base, 0)
            .get_instance(ACCOUNT, None, "kb")
            .await
            .unwrap_err();
        check(what, started, err, "/ai-search/instances/kb");
    };

    // A number that would take ten million digits to write out.
    let base = hostile_server(|_| {
        (
            200,
            envelope(
                r#"{"id":"kb","type":"r2","source":"b","max_num_results":1e10000000}"#,
                "",
            ),
            true,
        )
    })
    .await;
    refused_instance_read("1e10000000", base).await;

    // A 10 MB string, announced by its length, then streamed without one.
    for with_length in [true, false] {
        let base = hostile_server(move |_| {
            let big = "x".repeat(10 << 20);
            (
                200,
                envelope(
                    &format!(r#"{{"id":"kb","type":"r2","source":"{big}"}}"#),
                    "",
                ),
                with_length,
            )
        })
        .await;
        refused_instance_read("10 MB string", base).await;
    }

    // JSON nested 10,000 deep.
    let base = hostile_server(|_| {
        let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
        (200, envelope(&deep, ""), true)
    })
    .await;
    let started = Instant::now();
    let err = fast_client(&base, 0)
        .get_instance(ACCOUNT, None, "kb")
        .await
        .unwrap_err();
    check(
        "nested 10,000 deep",
        started,
        err,
        "/ai-search/instances/kb",
    );

    // A listing whose every page is the same full page, promising a million.
    let base = hostile_server(|_| {
        let items: Vec<String> = (0..100)
            .map(|i| format!(r#"{{"id":"t{i}","name":"n","cf_api_id":"c"}}"#))
            .collect();
        let info = r#","result_info":{"page":1,"per_page":100,"count":100,"total_count":1000000}"#;
        (200, envelope(&format!("[{}]", items.join(",")), info), true)
    })
    .await;
    let started = Instant::now();
    let err = fast_client(&base, 0)
        .list_ai_search_tokens(ACCOUNT)
        .await
        .unwrap_err();
    check("looping result_info", started, err, "/ai-search/tokens");
}

/// A `result_info` that promises more pages than exist ends at the first
/// short page, quickly, with what there is.
#[tokio::test]
async fn a_listing_that_promises_more_pages_than_exist_ends_at_the_first_short_page() {
    let base = hostile_server(|target| {
        let first = target.contains("page=1&") || target.ends_with("page=1");
        let items: Vec<String> = if first {
            (0..100)
                .map(|i| format!(r#"{{"id":"t{i}","name":"n","cf_api_id":"c"}}"#))
                .collect()
        } else {
            Vec::new()
        };
        let info = r#","result_info":{"page":1,"per_page":100,"count":100,"total_count":1000000}"#;
        (200, envelope(&format!("[{}]", items.join(",")), info), true)
    })
    .await;
    let started = Instant::now();
    let tokens = fast_client(&base, 0)
        .list_ai_search_tokens(ACCOUNT)
        .await
        .unwrap();
    let took = started.elapsed();
    eprintln!("a million promised, 100 listed in {took:?}");
    assert_eq!(tokens.len(), 100);
    assert!(took < Duration::from_secs(1), "{took:?}");
}

fn omit(emulator: &cfai::emulator::Emulator, operation: &str, property: &str) {
    emulator.set_answers(cfai::emulator::answers::AnswerMode::Omit {
        operation: operation.into(),
        property: property.into(),
    });
}

/// What the provider cannot do without, left out of a success answer: a
/// clear error naming the operation and the field, or, for a created
/// token's value, the roll that obtains one.
#[tokio::test]
async fn answers_without_what_cannot_be_done_without() {
    let emulator = start_emulator().await;
    let client = fast_client(&emulator.base_url, 0);

    omit(
        &emulator,
        "POST /accounts/{account_id}/tokens",
        "/result/value",
    );
    let token = client
        .create_token(ACCOUNT, &token_request("no-value"))
        .await
        .unwrap();
    assert_eq!(emulator.omitted(), 1, "the answer was without its value");
    let value = token.value.expect("rolled for a value");
    let stored = emulator.dump()["tokens"][&token.id]["value"].clone();
    assert_eq!(stored, json!(value.expose()), "the live value");

    omit(
        &emulator,
        "POST /accounts/{account_id}/tokens",
        "/result/id",
    );
    let e = client
        .create_token(ACCOUNT, &token_request("no-id"))
        .await
        .unwrap_err();
    let text = e.to_string();
    assert!(
        text.contains("POST /accounts/") && text.contains("has no `id`"),
        "{text}"
    );

    omit(
        &emulator,
        "GET /accounts/{account_id}/tokens/{token_id}",
        "/result",
    );
    let e = client.get_token(ACCOUNT, &token.id).await.unwrap_err();
    let text = e.to_string();
    assert!(
        text.contains(&format!("GET /accounts/{ACCOUNT}/tokens/{}", token.id))
            && text.contains("has no `result`"),
        "{text}"
    );

    omit(
        &emulator,
        "PUT /accounts/{account_id}/tokens/{token_id}/value",
        "/result",
    );
    let e = client.roll_token(ACCOUNT, &token.id).await.unwrap_err();
    assert!(e.to_string().contains("has no `result`"), "{e}");

    // Everything else may be left out: the token reads with what is there.
    emulator.set_answers(cfai::emulator::answers::AnswerMode::Sparse);
    let sparse = client.get_token(ACCOUNT, &token.id).await.unwrap();
    assert_eq!(sparse.id, token.id);
    assert!(sparse.name.is_none() && sparse.policies.is_none() && sparse.status.is_none());
}
