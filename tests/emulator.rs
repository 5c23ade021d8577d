//! The emulator on its own: admin routes for scripts, the state file, and
//! the standalone `cfai-emulator` binary.

mod support;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use cfai::emulator::{Emulator, EmulatorConfig};
use serde_json::{json, Value};
use support::{emulator_config, start_emulator, ACCOUNT, API_TOKEN, OTHER_ACCOUNT};

fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .tls_backend_preconfigured(
            rustls::ClientConfig::builder_with_provider(std::sync::Arc::new(
                rustls::crypto::aws_lc_rs::default_provider(),
            ))
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(rustls::RootCertStore::empty())
            .with_no_client_auth(),
        )
        .build()
        .unwrap()
}

/// GET a URL with the emulator's credentials.
async fn get(url: String) -> reqwest::Response {
    http().get(url).bearer_auth(API_TOKEN).send().await.unwrap()
}

/// GET a URL (admin routes need no credentials) and decode its JSON.
async fn get_json(url: String) -> Value {
    http()
        .get(url)
        .bearer_auth(API_TOKEN)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// Sends a request and decodes its JSON answer.
async fn json_of(req: reqwest::RequestBuilder) -> Value {
    req.send().await.unwrap().json().await.unwrap()
}

async fn create_token(base: &str, name: &str) -> Value {
    let body = json!({"name": name, "policies": [{"effect": "allow",
        "permission_groups": [{"id": "bf7481a1826f439697cb59a20b22293e"}],
        "resources": {format!("com.cloudflare.api.account.{ACCOUNT}"): "*"}}]});
    http()
        .post(format!("{base}/accounts/{ACCOUNT}/tokens"))
        .bearer_auth(API_TOKEN)
        .json(&body)
        .send()
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap()["result"]
        .clone()
}

#[tokio::test]
async fn admin_routes_inject_faults_and_mutate_out_of_band() {
    let emu = start_emulator().await;
    let root = emu.base_url.trim_end_matches("/client/v4").to_string();
    let token = create_token(&emu.base_url, "admin").await;
    let id = token["id"].as_str().unwrap();

    let resp = http()
        .post(format!("{root}/__admin/faults"))
        .json(&json!({"script": [{"kind": "too_many_requests", "retry_after": 7}]}))
        .send()
        .await
        .unwrap();
    assert!(resp.status().is_success());
    let throttled = get(format!("{}/accounts/{ACCOUNT}/tokens/{id}", emu.base_url)).await;
    assert_eq!(throttled.status(), 429);
    assert_eq!(throttled.headers()["retry-after"], "7");

    http()
        .patch(format!("{root}/__admin/tokens/{id}"))
        .json(&json!({"name": "renamed"}))
        .send()
        .await
        .unwrap();
    let state: Value = get_json(format!("{root}/__admin/state")).await;
    assert_eq!(state["tokens"][id]["token"]["name"], "renamed");

    let counts: Value = get_json(format!("{root}/__admin/counts")).await;
    assert_eq!(counts["POST /accounts/{account_id}/tokens"], 1);

    http()
        .delete(format!("{root}/__admin/tokens/{id}"))
        .send()
        .await
        .unwrap();
    let gone = get(format!("{}/accounts/{ACCOUNT}/tokens/{id}", emu.base_url)).await;
    assert_eq!(gone.status(), 404);
}

#[tokio::test]
async fn rust_api_expires_and_renames_tokens() {
    let emu = start_emulator().await;
    let token = create_token(&emu.base_url, "oob").await;
    let id = token["id"].as_str().unwrap();
    assert!(emu.expire_token(id));
    let read: Value = get_json(format!("{}/accounts/{ACCOUNT}/tokens/{id}", emu.base_url)).await;
    assert_eq!(read["result"]["status"], "expired");
    assert!(emu.rename_token(id, "new-name"));
    assert!(emu.delete_token(id));
    assert!(!emu.delete_token(id));
}

#[tokio::test]
async fn state_survives_a_restart_with_a_state_file() {
    let dir = tempfile::tempdir().unwrap();
    let config = EmulatorConfig {
        state_file: Some(dir.path().join("state.json")),
        ..emulator_config()
    };
    let first = Emulator::start(config.clone(), "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let token = create_token(&first.base_url, "persisted").await;
    drop(first);
    let second = Emulator::start(config, "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let id = token["id"].as_str().unwrap();
    assert_eq!(second.dump()["tokens"][id]["token"]["name"], "persisted");
    assert_eq!(second.token_value(id).as_deref(), token["value"].as_str());
}

#[test]
fn standalone_binary_prints_its_base_url() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_cfai-emulator"))
        .args([
            "--port",
            "0",
            "--token",
            "dev-token",
            "--account-id",
            ACCOUNT,
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let base = line.trim().to_string();
    assert!(
        base.starts_with("http://127.0.0.1:") && base.ends_with("/client/v4"),
        "{base}"
    );
    let rt = tokio::runtime::Runtime::new().unwrap();
    let status = rt.block_on(async {
        http()
            .get(format!(
                "{base}/accounts/{ACCOUNT}/tokens/permission_groups"
            ))
            .bearer_auth("dev-token")
            .send()
            .await
            .unwrap()
            .status()
    });
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(status, 200);
}

#[tokio::test]
async fn latency_is_injected() {
    let emu = start_emulator().await;
    emu.set_faults(cfai::emulator::FaultConfig {
        latency_ms: 300,
        ..Default::default()
    });
    let started = std::time::Instant::now();
    let resp = get(format!("{}/accounts/{ACCOUNT}/tokens", emu.base_url)).await;
    assert_eq!(resp.status(), 200);
    assert!(started.elapsed() >= std::time::Duration::from_millis(300));
}

#[tokio::test]
async fn random_faults_follow_their_rate() {
    let emu = start_emulator().await;
    emu.set_faults(cfai::emulator::FaultConfig {
        rate_5xx: 0.5,
        status_5xx: 502,
        seed: 7,
        ..Default::default()
    });
    let mut failures = 0;
    for _ in 0..200 {
        let resp = get(format!("{}/accounts/{ACCOUNT}/tokens", emu.base_url)).await;
        if resp.status() == 502 {
            failures += 1;
        }
    }
    assert!(
        (70..=130).contains(&failures),
        "{failures} of 200 failed at rate 0.5"
    );
    assert_eq!(emu.faults_injected(), failures);
}

/// "Fail the next N calls of one operation": a script of AI Search errors
/// limited by method and path; other operations are untouched.
#[tokio::test]
async fn the_next_calls_of_one_operation_fail_as_scripted() {
    let emu = start_emulator().await;
    let error = cfai::emulator::Fault::Error {
        status: 400,
        code: 7012,
        message: "ai_search_instance_invalid_token".into(),
    };
    emu.set_faults(cfai::emulator::FaultConfig {
        method: "POST".into(),
        path_filter: "/ai-search/tokens".into(),
        script: [error.clone(), error].into(),
        ..Default::default()
    });
    let url = format!("{}/accounts/{ACCOUNT}/ai-search/tokens", emu.base_url);
    let listed = get(url.clone()).await;
    assert_eq!(listed.status(), 200, "a GET is another operation");
    for _ in 0..2 {
        let r = http()
            .post(&url)
            .bearer_auth(API_TOKEN)
            .json(&json!({"name": "x"}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 400);
        let body: Value = r.json().await.unwrap();
        assert_eq!(body["errors"][0]["code"], 7012);
    }
    let third = http()
        .post(&url)
        .bearer_auth(API_TOKEN)
        .json(&json!({"name": "x"}))
        .send()
        .await
        .unwrap();
    let body: Value = third.json().await.unwrap();
    assert_ne!(
        body["errors"][0]["code"], 7012,
        "the script is spent: the handler answers"
    );
}

/// Cloudflare's quotas: 50 tokens per user (the refusal's code is our
/// assumption: the contract gives the limit only).
#[tokio::test]
async fn a_user_holds_at_most_50_tokens_and_each_user_has_their_own_quota() {
    let emulator = start_emulator().await;
    let base = emulator.base_url.clone();
    let body = json!({"name": "filler", "policies": [{"effect": "allow",
        "permission_groups": [{"id": "bf7481a1826f439697cb59a20b22293e"}],
        "resources": {format!("com.cloudflare.api.account.{ACCOUNT}"): "*"}}]});
    let create = |as_key: bool| {
        let req = http().post(format!("{base}/user/tokens")).json(&body);
        let req = if as_key {
            req.header("x-auth-key", "global-key")
                .header("x-auth-email", "me@example.com")
        } else {
            req.bearer_auth(API_TOKEN)
        };
        async move {
            let answer = req.send().await.unwrap();
            (
                answer.status().as_u16(),
                answer.json::<Value>().await.unwrap(),
            )
        }
    };
    for i in 0..50 {
        let (status, answer) = create(false).await;
        assert_eq!(status, 200, "token {i}: {answer}");
    }
    let (status, refused) = create(false).await;
    assert_eq!(status, 400, "{refused}");
    assert_eq!(refused["success"], json!(false));
    assert!(
        refused["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("50"),
        "{refused}"
    );
    // Another user (the global key's) is not counted with the first.
    let (status, answer) = create(true).await;
    assert_eq!(status, 200, "{answer}");
    // Account tokens have their own quota (500), untouched by the user's.
    assert!(create_token(&base, "account-one").await["id"].is_string());
}

/// `/user/tokens` act for the calling user: the configured token and the
/// global key are two users, and neither sees the other's tokens; a user's
/// token is no account's; a minted user token authenticates as its user,
/// and verify names it.
#[tokio::test]
async fn user_tokens_belong_to_the_calling_user() {
    let emulator = start_emulator().await;
    let base = emulator.base_url.clone();
    let as_token = |req: reqwest::RequestBuilder| req.bearer_auth(API_TOKEN);
    let as_key = |req: reqwest::RequestBuilder| {
        req.header("x-auth-key", "global-key")
            .header("x-auth-email", "me@example.com")
    };
    let body = json!({"name": "mine", "policies": [{"effect": "allow",
        "permission_groups": [{"id": "bf7481a1826f439697cb59a20b22293e"}],
        "resources": {format!("com.cloudflare.api.account.{ACCOUNT}"): "*"}}]});
    let created = json_of(as_token(http().post(format!("{base}/user/tokens"))).json(&body)).await;
    assert_eq!(created["success"], json!(true), "{created}");
    let id = created["result"]["id"].as_str().unwrap().to_string();
    let value = created["result"]["value"].as_str().unwrap().to_string();
    assert!(emulator.token_owner(&id).unwrap().starts_with("user "));

    let listed = |who: &'static str| {
        let req = http().get(format!("{base}/user/tokens"));
        let req = if who == "token" {
            as_token(req)
        } else {
            as_key(req)
        };
        async move {
            let page = json_of(req).await;
            page["result"]
                .as_array()
                .unwrap()
                .iter()
                .map(|t| t["id"].as_str().unwrap().to_string())
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(listed("token").await, vec![id.clone()]);
    assert!(listed("key").await.is_empty(), "another user sees no token");
    let other = as_key(http().get(format!("{base}/user/tokens/{id}")))
        .send()
        .await
        .unwrap();
    assert_eq!(other.status(), 404);
    let account_list = get_json(format!("{base}/accounts/{ACCOUNT}/tokens")).await;
    assert_eq!(
        account_list["result"],
        json!([]),
        "a user's token is no account's"
    );

    // A minted user token authenticates as its user, and verify names it;
    // managing user tokens needs user-level groups an account's catalog
    // does not hold, so it may not read even itself.
    let verified = json_of(
        http()
            .get(format!("{base}/user/tokens/verify"))
            .bearer_auth(&value),
    )
    .await;
    assert_eq!(verified["result"]["id"], json!(id), "{verified}");
    let own = http()
        .get(format!("{base}/user/tokens/{id}"))
        .bearer_auth(&value)
        .send()
        .await
        .unwrap();
    assert_eq!(own.status(), 403);

    // Roll keeps the id; delete removes it for its user only.
    let rolled =
        json_of(as_token(http().put(format!("{base}/user/tokens/{id}/value"))).json(&json!({})))
            .await;
    assert_ne!(rolled["result"].as_str().unwrap(), value);
    let by_other = as_key(http().delete(format!("{base}/user/tokens/{id}")))
        .send()
        .await
        .unwrap();
    assert_eq!(by_other.status(), 404);
    let deleted = as_token(http().delete(format!("{base}/user/tokens/{id}")))
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), 200);
    assert!(listed("token").await.is_empty());
    let groups = get_json(format!("{base}/user/tokens/permission_groups")).await;
    assert!(!groups["result"].as_array().unwrap().is_empty());
}

/// A token with these groups on the account (names from the catalog),
/// and its value; `extra` is merged into the body (condition, dates).
async fn minted(base: &str, groups: &[&str], extra: Value) -> (String, String) {
    let catalog = get_json(format!(
        "{base}/accounts/{ACCOUNT}/tokens/permission_groups"
    ))
    .await;
    let ids: Vec<Value> = groups
        .iter()
        .map(|name| {
            let id = catalog["result"]
                .as_array()
                .unwrap()
                .iter()
                .find(|g| g["name"] == *name)
                .unwrap_or_else(|| panic!("{name} is not in the catalog"))["id"]
                .clone();
            json!({ "id": id })
        })
        .collect();
    let mut body = json!({"name": "caller", "policies": [{"effect": "allow",
        "permission_groups": ids,
        "resources": {format!("com.cloudflare.api.account.{ACCOUNT}"): "*"}}]});
    for (k, v) in extra.as_object().unwrap() {
        body[k] = v.clone();
    }
    let created = json_of(
        http()
            .post(format!("{base}/accounts/{ACCOUNT}/tokens"))
            .bearer_auth(API_TOKEN)
            .json(&body),
    )
    .await;
    assert_eq!(created["success"], json!(true), "{created}");
    (
        created["result"]["id"].as_str().unwrap().to_string(),
        created["result"]["value"].as_str().unwrap().to_string(),
    )
}

/// Status and first error of a call made with `token`.
async fn call(req: reqwest::RequestBuilder, token: &str) -> (u16, Value) {
    let answer = req.bearer_auth(token).send().await.unwrap();
    let status = answer.status().as_u16();
    let body: Value = answer.json().await.unwrap_or(Value::Null);
    (status, body["errors"][0].clone())
}

/// Every token the emulator issued authenticates as on Cloudflare, with no
/// admin call: within its permission groups on its account, its validity
/// window and its address condition (callers are on loopback). The
/// configured credential may do everything.
#[tokio::test]
async fn issued_tokens_authenticate_within_their_policies() {
    let emulator = start_emulator().await;
    let base = emulator.base_url.clone();
    let groups = format!("{base}/accounts/{ACCOUNT}/tokens/permission_groups");
    let new_token = json!({"name": "x", "policies": [{"effect": "allow",
        "permission_groups": [{"id": "bf7481a1826f439697cb59a20b22293e"}],
        "resources": {format!("com.cloudflare.api.account.{ACCOUNT}"): "*"}}]});
    let instance = json!({"id": "kb", "type": "r2", "source": "docs-bucket"});
    let instances = format!("{base}/accounts/{ACCOUNT}/ai-search/instances");
    let denied = json!({"code": 10000, "message": "Authentication error"});

    // Allowed by its group; refused what its group does not grant.
    let (_, reader) = minted(&base, &["Account API Tokens Read"], json!({})).await;
    assert_eq!(call(http().get(&groups), &reader).await.0, 200);
    let (status, error) = call(
        http()
            .post(format!("{base}/accounts/{ACCOUNT}/tokens"))
            .json(&new_token),
        &reader,
    )
    .await;
    assert_eq!((status, error), (403, denied.clone()));
    let (status, error) = call(http().post(&instances).json(&instance), &reader).await;
    assert_eq!(
        (status, error),
        (403, denied.clone()),
        "no AI Search permission"
    );

    // AI Search reads are not writes.
    let (_, search_reader) = minted(&base, &["Auto Rag Read"], json!({})).await;
    assert_eq!(call(http().get(&instances), &search_reader).await.0, 200);
    let (status, _) = call(http().post(&instances).json(&instance), &search_reader).await;
    assert_eq!(status, 403);
    let (_, search_writer) = minted(&base, &["Auto Rag Write"], json!({})).await;
    let (status, error) = call(http().post(&instances).json(&instance), &search_writer).await;
    assert!((200..300).contains(&status), "{status} {error}");

    // Its address condition: loopback in, or out.
    let (_, loopback) = minted(
        &base,
        &["Account API Tokens Read"],
        json!({"condition": {"request_ip": {"in": ["127.0.0.0/8"]}}}),
    )
    .await;
    assert_eq!(call(http().get(&groups), &loopback).await.0, 200);
    let (_, elsewhere) = minted(
        &base,
        &["Account API Tokens Read"],
        json!({"condition": {"request_ip": {"in": ["10.0.0.0/8"]}}}),
    )
    .await;
    let (status, error) = call(http().get(&groups), &elsewhere).await;
    assert_eq!(status, 403);
    assert_eq!(error["code"], json!(9109), "{error}");
    assert!(
        error["message"].as_str().unwrap().contains("127.0.0.1"),
        "{error}"
    );

    // Its validity window and status.
    let (expired_id, expired) = minted(&base, &["Account API Tokens Read"], json!({})).await;
    assert!(emulator.set_token_expiry(&expired_id, "2020-01-01T00:00:00Z"));
    assert_eq!(
        call(http().get(&groups), &expired).await,
        (403, denied.clone())
    );
    let (_, early) = minted(
        &base,
        &["Account API Tokens Read"],
        json!({"not_before": "2099-01-01T00:00:00Z"}),
    )
    .await;
    assert_eq!(
        call(http().get(&groups), &early).await,
        (403, denied.clone())
    );
    let (disabled_id, disabled) = minted(&base, &["Account API Tokens Read"], json!({})).await;
    assert!(emulator.patch_token(&disabled_id, json!({"status": "disabled"})));
    assert_eq!(
        call(http().get(&groups), &disabled).await,
        (403, denied.clone())
    );

    // An account's token works on its own account only; the configured
    // credential everywhere it is configured for.
    let (status, _) = call(
        http().get(format!(
            "{base}/accounts/{OTHER_ACCOUNT}/tokens/permission_groups"
        )),
        &reader,
    )
    .await;
    assert_eq!(status, 403);
    assert_eq!(
        call(
            http()
                .post(&instances)
                .json(&json!({"id": "kb2", "type": "r2", "source": "b"})),
            API_TOKEN
        )
        .await
        .0,
        201
    );
}

/// Every admin route reads its body strictly: an unknown key is a 400
/// naming the keys it accepts, never a silent no-op.
#[tokio::test]
async fn admin_routes_refuse_unknown_keys_naming_the_accepted_ones() {
    let emulator = start_emulator().await;
    let root = emulator.base_url.trim_end_matches("/client/v4").to_string();
    let token = create_token(&emulator.base_url, "patched").await;
    let id = token["id"].as_str().unwrap();
    let cases = [
        (
            "POST",
            "/__admin/ai-search",
            json!({"enabled": true}),
            "sync_job_ms",
        ),
        ("POST", "/__admin/faults", json!({"rate": 1}), "rate_429"),
        (
            "POST",
            "/__admin/ratelimit",
            json!({"window_secs": 1}),
            "budget",
        ),
        (
            "POST",
            "/__admin/answers",
            json!({"mode": "loud"}),
            "extended",
        ),
        (
            "PATCH",
            &format!("/__admin/tokens/{id}"),
            json!({"colour": "red"}),
            "expires_on",
        ),
    ];
    for (method, route, body, named) in cases {
        let answer = http()
            .request(method.parse().unwrap(), format!("{root}{route}"))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), 400, "{method} {route} {body}");
        let text = answer.text().await.unwrap();
        assert!(text.contains(named), "{method} {route}: {text}");
    }
    // The same routes with what they accept.
    let accepted = [
        (
            "POST",
            "/__admin/ai-search".to_string(),
            json!({"sync_job_ms": 10}),
        ),
        (
            "POST",
            "/__admin/faults".to_string(),
            json!({"rate_429": 0.0}),
        ),
        (
            "POST",
            "/__admin/ratelimit".to_string(),
            json!({"budget": 1000}),
        ),
        (
            "POST",
            "/__admin/answers".to_string(),
            json!({"mode": "strict"}),
        ),
        (
            "PATCH",
            format!("/__admin/tokens/{id}"),
            json!({"name": "renamed"}),
        ),
    ];
    for (method, route, body) in accepted {
        let answer = http()
            .request(method.parse().unwrap(), format!("{root}{route}"))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), 200, "{method} {route} {body}");
    }
    assert_eq!(emulator.dump()["tokens"][id]["token"]["name"], "renamed");
}
