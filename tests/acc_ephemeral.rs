//! Ephemeral resources through the real terraform. Their values can only be
//! observed where Terraform allows them: a `local-exec` provisioner writes
//! them to a file, and a second provider block is configured with the
//! run-scoped token. The state and plan files must hold none of them.

mod support;

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};
use support::{provider_block, require_terraform, BackgroundEmulator, Workspace, ACCOUNT};

fn sha256_hex(s: &str) -> String {
    hex::encode(Sha256::digest(s.as_bytes()))
}

fn hmac(key: &[u8], data: &str) -> Vec<u8> {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).unwrap();
    mac.update(data.as_bytes());
    mac.finalize().into_bytes().to_vec()
}

/// SigV4 query signing, written again here from AWS's description, to check
/// the provider's URLs independently: the signature a URL should carry.
fn expected_signature(url: &str, method: &str, secret: &str) -> String {
    let (base, query) = url.split_once('?').unwrap();
    let rest = base.strip_prefix("https://").unwrap();
    let (host, path) = rest.split_at(rest.find('/').unwrap());
    let mut params: Vec<(&str, &str)> = query
        .split('&')
        .map(|kv| kv.split_once('=').unwrap())
        .filter(|(k, _)| *k != "X-Amz-Signature")
        .collect();
    params.sort();
    let canonical_query = params
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&");
    let date_time = params.iter().find(|(k, _)| *k == "X-Amz-Date").unwrap().1;
    let date = &date_time[..8];
    let canonical =
        format!("{method}\n{path}\n{canonical_query}\nhost:{host}\n\nhost\nUNSIGNED-PAYLOAD");
    let scope = format!("{date}/auto/s3/aws4_request");
    let to_sign = format!(
        "AWS4-HMAC-SHA256\n{date_time}\n{scope}\n{}",
        sha256_hex(&canonical)
    );
    let mut key = hmac(format!("AWS4{secret}").as_bytes(), date);
    for part in ["auto", "s3", "aws4_request"] {
        key = hmac(&key, part);
    }
    hex::encode(hmac(&key, &to_sign))
}

fn query_value<'a>(url: &'a str, name: &str) -> &'a str {
    url.split_once('?')
        .unwrap()
        .1
        .split('&')
        .find_map(|kv| kv.strip_prefix(&format!("{name}=")))
        .unwrap_or_else(|| panic!("{name} missing from {url}"))
}

#[test]
fn temporary_credentials_presigned_urls_and_a_run_scoped_token() {
    let Some(tf) = require_terraform() else {
        return;
    };
    if !support::client_supports(
        "temporary_credentials_presigned_urls_and_a_run_scoped_token",
        support::Feature::Ephemeral,
    ) {
        return;
    }
    let emu = BackgroundEmulator::start();
    let ws = Workspace::new(tf);
    let base = emu.get().base_url.clone();
    let account_key = format!("com.cloudflare.api.account.{ACCOUNT}");
    ws.write(&format!(
        r#"{provider}
resource "cfai_account_api_token" "r2" {{
  name     = "r2-parent"
  policies = [{{ permission_groups = ["Workers R2 Storage Write"], resources = {{ "{account_key}" = "*" }} }}]
}}

ephemeral "cfai_r2_temporary_credentials" "tmp" {{
  bucket               = "logs"
  parent_access_key_id = cfai_account_api_token.r2.access_key_id
  permission           = "object-read-write"
  ttl_seconds          = 600
  prefixes             = ["uploads/"]
}}

ephemeral "cfai_r2_presigned_url" "get" {{
  bucket            = "logs"
  key               = "reports/2026 Q4+final é.pdf"
  access_key_id     = cfai_account_api_token.r2.access_key_id
  secret_access_key = cfai_account_api_token.r2.secret_access_key
}}

ephemeral "cfai_r2_presigned_url" "put" {{
  bucket            = "logs"
  key               = "uploads/x.txt"
  method            = "PUT"
  expires_in        = 120
  access_key_id     = ephemeral.cfai_r2_temporary_credentials.tmp.access_key_id
  secret_access_key = ephemeral.cfai_r2_temporary_credentials.tmp.secret_access_key
  session_token     = ephemeral.cfai_r2_temporary_credentials.tmp.session_token
}}

{run}

resource "terraform_data" "out" {{
  input = length(data.cfai_permission_groups.via_run.groups)
  provisioner "local-exec" {{
    command = "printf '%s\n' \"$AK\" \"$SK\" \"$ST\" \"$EXP\" \"$GET\" \"$PUT\" \"$EP\" > out.txt"
    environment = {{
      AK  = ephemeral.cfai_r2_temporary_credentials.tmp.access_key_id
      SK  = ephemeral.cfai_r2_temporary_credentials.tmp.secret_access_key
      ST  = ephemeral.cfai_r2_temporary_credentials.tmp.session_token
      EXP = ephemeral.cfai_r2_temporary_credentials.tmp.expires_at
      GET = ephemeral.cfai_r2_presigned_url.get.url
      PUT = ephemeral.cfai_r2_presigned_url.put.url
      EP  = ephemeral.cfai_r2_temporary_credentials.tmp.s3_endpoint
    }}
  }}
}}
"#,
        provider = provider_block(&base),
        run = support::run_token_config(&base)
    ));
    let plan = ws.run(&["plan", "-no-color", "-out=tfplan"]);
    assert!(plan.ok, "plan failed:\n{}", plan.all());
    let run = ws.run(&["apply", "-no-color", "tfplan"]);
    assert!(run.ok, "apply failed:\n{}", run.all());

    let out = std::fs::read_to_string(ws.work_dir().join("out.txt")).unwrap();
    let lines: Vec<&str> = out.lines().collect();
    let [ak, sk, st, expires_at, get_url, put_url, endpoint] = lines[..] else {
        panic!("unexpected provisioner output: {out}")
    };

    // The temporary credentials are the ones the emulator issued, scoped as asked.
    let issued = emu.get().temp_credentials();
    let parent = ws.resource("cfai_account_api_token.r2");
    let parent_id = parent["id"].as_str().unwrap();
    let mine = issued
        .iter()
        .find(|c| c["secret_sha256"] == sha256_hex(sk))
        .unwrap_or_else(|| panic!("not issued by the API: {issued:?}"));
    assert_eq!(mine["bucket"], "logs");
    assert_eq!(mine["permission"], "object-read-write");
    assert_eq!(mine["ttl_seconds"], 600);
    assert_eq!(mine["prefixes"], serde_json::json!(["uploads/"]));
    assert_eq!(mine["parent_access_key_id"], parent_id);
    assert_eq!(mine["session_token_sha256"], sha256_hex(st));
    assert_eq!(ak, parent_id);
    assert!(chrono::DateTime::parse_from_rfc3339(expires_at).is_ok());
    assert_eq!(
        endpoint,
        format!("https://{ACCOUNT}.r2.cloudflarestorage.com")
    );

    // The GET URL, signed with the parent token's S3 pair, path style.
    let parent_secret = sha256_hex(&emu.get().token_value(parent_id).unwrap());
    assert!(
        get_url.starts_with(&format!(
            "https://{ACCOUNT}.r2.cloudflarestorage.com/logs/reports/2026%20Q4%2Bfinal%20%C3%A9.pdf?"
        )),
        "{get_url}"
    );
    assert_eq!(query_value(get_url, "X-Amz-Expires"), "3600");
    assert_eq!(
        query_value(get_url, "X-Amz-Signature"),
        expected_signature(get_url, "GET", &parent_secret)
    );
    // The PUT URL, signed with the temporary credentials, session token included.
    assert_eq!(query_value(put_url, "X-Amz-Expires"), "120");
    let encoded_token = st
        .replace('+', "%2B")
        .replace('/', "%2F")
        .replace('=', "%3D");
    assert_eq!(query_value(put_url, "X-Amz-Security-Token"), encoded_token);
    assert_eq!(
        query_value(put_url, "X-Amz-Signature"),
        expected_signature(put_url, "PUT", sk)
    );

    // The aliased provider authenticated with the run-scoped token.
    let journal = emu.get().journal();
    let run_tokens: Vec<(String, String, String)> = journal
        .iter()
        .filter(|e| e.method == "POST" && e.route == "/accounts/{account_id}/tokens")
        .filter(|e| e.request.as_ref().is_some_and(|r| r["name"] == "run-token"))
        .map(|e| {
            let r = e.response.as_ref().unwrap();
            (
                r["result"]["id"].as_str().unwrap().to_string(),
                r["result"]["value"].as_str().unwrap().to_string(),
                e.request.as_ref().unwrap()["expires_on"]
                    .as_str()
                    .unwrap()
                    .to_string(),
            )
        })
        .collect();
    assert!(!run_tokens.is_empty());
    let auth = emu.get().authenticated_by();
    assert!(
        auth.iter()
            .any(|(path, who)| path.contains("permission_groups")
                && run_tokens.iter().any(|(id, _, _)| id == who)),
        "no request authenticated by the run token: {auth:?}"
    );
    // Each one was deleted at the end of its phase, and would have expired within the ttl.
    let now = chrono::Utc::now();
    let tokens = emu.get().dump()["tokens"].clone();
    for (id, _, expires_on) in &run_tokens {
        assert!(tokens.get(id).is_none(), "run token {id} outlived the run");
        let expires = chrono::DateTime::parse_from_rfc3339(expires_on).unwrap();
        let left = expires.signed_duration_since(now);
        assert!(
            left <= chrono::Duration::minutes(30) && left > chrono::Duration::minutes(25),
            "{left:?}"
        );
    }

    // Neither the state nor the saved plan holds any of these values.
    let state = std::fs::read_to_string(ws.work_dir().join("terraform.tfstate")).unwrap();
    // The plan file is compressed: read what it holds through terraform.
    let plan_text = ws.ok(&["show", "-json", "tfplan"]);
    let mut secrets = vec![
        sk.to_string(),
        st.to_string(),
        query_value(get_url, "X-Amz-Signature").to_string(),
        query_value(put_url, "X-Amz-Signature").to_string(),
    ];
    secrets.extend(run_tokens.iter().map(|(_, value, _)| value.clone()));
    for secret in &secrets {
        assert!(
            !state.contains(secret.as_str()),
            "the state holds an ephemeral value"
        );
        assert!(
            !plan_text.contains(secret.as_str()),
            "the plan holds an ephemeral value"
        );
    }
}

/// A run that fails after opening a run token (here: the emulator does not
/// let minted tokens call the API, so the aliased provider's read is
/// refused) never closes it; the provider deletes it when Terraform shuts
/// it down, so no run token outlives the run.
#[test]
fn a_failed_run_leaves_no_run_token_behind() {
    let Some(tf) = require_terraform() else {
        return;
    };
    if !support::client_supports(
        "a_failed_run_leaves_no_run_token_behind",
        support::Feature::Ephemeral,
    ) {
        return;
    }
    let emu = BackgroundEmulator::start();
    let ws = Workspace::new(tf);
    let base = emu.get().base_url.clone();
    // The run token may not list permission groups: the run fails after
    // opening it.
    let run = support::run_token_config(&base).replace(
        "[\"Account API Tokens Read\"]",
        "[\"Account Settings Read\"]",
    );
    ws.write(&format!("{}\n{run}", provider_block(&base)));
    for command in [
        &["plan", "-no-color"][..],
        &["apply", "-auto-approve", "-no-color"],
    ] {
        let out = ws.fails(command);
        assert!(out.contains("Could not list permission groups"), "{out}");
    }
    let created = emu.get().count("POST /accounts/{account_id}/tokens");
    assert!(created >= 2, "a run token was opened by plan and by apply");
    let left = emu.get().dump()["tokens"].as_object().unwrap().len();
    assert_eq!(
        left, 0,
        "{created} run tokens opened, {left} left after the failed runs"
    );
}
