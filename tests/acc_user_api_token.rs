//! Acceptance tests for the user-owned tokens: `cfai_user_api_token` and
//! `cfai_ai_search_service_token` with `token_owner = "user"`, through the
//! real terraform CLI and the provider binary, against the emulator. The
//! emulator shows each token's owner, and that no account token is made.

mod support;

use serde_json::Value;
use sha2::{Digest, Sha256};
use support::{provider_block, require_terraform, BackgroundEmulator, Workspace, ACCOUNT};

const ACCOUNT_CREATES: &str = "POST /accounts/{account_id}/tokens";

fn setup() -> Option<(BackgroundEmulator, Workspace)> {
    let tf = require_terraform()?;
    let emu = BackgroundEmulator::start();
    Some((emu, Workspace::new(tf)))
}

fn sha256_hex(s: &str) -> String {
    hex::encode(Sha256::digest(s.as_bytes()))
}

fn user_token(base_url: &str, body: &str) -> String {
    format!(
        "{}\nresource \"cfai_user_api_token\" \"t\" {{\n{body}\n}}\n",
        provider_block(base_url)
    )
}

fn policies() -> String {
    format!(
        "  policies = [{{\n    permission_groups = [\"Workers R2 Storage Write\", \"AI Search Index Engine\"]\n    resources = {{ \"com.cloudflare.api.account.{ACCOUNT}\" = \"*\" }}\n  }}]\n"
    )
}

/// The emulator's record of token `id`: whose it is.
fn owner_of(emu: &BackgroundEmulator, id: &str) -> String {
    emu.get()
        .token_owner(id)
        .unwrap_or_else(|| panic!("token {id} is not in the emulator: {}", emu.get().dump()))
}

#[test]
fn user_token_create_rename_roll_import_destroy() {
    let Some((emu, ws)) = setup() else { return };
    let base = emu.get().base_url.clone();
    // A misspelled name fails the plan with the closest names.
    let typo = policies().replace("Storage Write", "Storage Writ");
    ws.write(&user_token(
        &base,
        &format!("  name = \"user-app\"\n{typo}"),
    ));
    let (code, plan) = ws.plan_code();
    assert_eq!(code, 1, "{plan}");
    assert!(
        plan.contains("Did you mean") && plan.contains("Workers R2 Storage Write"),
        "{plan}"
    );

    let v1 = format!("  name = \"user-app\"\n{}", policies());
    ws.write(&user_token(&base, &v1));
    ws.apply();

    let t = ws.resource("cfai_user_api_token.t");
    let id = t["id"].as_str().unwrap().to_string();
    let value = t["value"].as_str().unwrap().to_string();
    assert!(t.get("account_id").is_none(), "no account_id: {t}");
    assert!(
        owner_of(&emu, &id).starts_with("user "),
        "{}",
        owner_of(&emu, &id)
    );
    assert_eq!(emu.get().count("POST /user/tokens"), 1);
    assert_eq!(emu.get().count(ACCOUNT_CREATES), 0, "no account token");
    // The S3 credentials, and the endpoint of the provider's account.
    assert_eq!(emu.get().token_value(&id).as_deref(), Some(value.as_str()));
    assert_eq!(t["access_key_id"], id);
    assert_eq!(t["secret_access_key"], sha256_hex(&value));
    assert_eq!(
        t["s3_endpoint"],
        format!("https://{ACCOUNT}.r2.cloudflarestorage.com")
    );
    // Names resolved against the user's catalog, known at plan time.
    assert_eq!(
        t["policies"][0]["permission_group_ids"],
        serde_json::json!([
            "9e9b428a0bcd46fd80e580b46a69963c",
            "bf7481a1826f439697cb59a20b22293e"
        ])
    );
    assert!(emu.get().count("GET /user/tokens/permission_groups") >= 1);
    ws.assert_plan_empty();

    // Rename: in place, same id and value.
    let v2 = format!("  name = \"user-app-2\"\n{}", policies());
    ws.write(&user_token(&base, &v2));
    ws.apply();
    let t2 = ws.resource("cfai_user_api_token.t");
    assert_eq!(t2["id"], id);
    assert_eq!(t2["value"], value.as_str());
    assert_eq!(emu.get().count("PUT /user/tokens/{token_id}"), 1);
    assert_eq!(
        emu.get().dump()["tokens"][&id]["token"]["name"],
        "user-app-2"
    );
    ws.assert_plan_empty();

    // Roll: same id, new value and secret.
    let v3 = format!("{v2}  rotation_triggers = {{ rotated = \"1\" }}\n");
    ws.write(&user_token(&base, &v3));
    ws.apply();
    let t3 = ws.resource("cfai_user_api_token.t");
    let rolled = t3["value"].as_str().unwrap().to_string();
    assert_eq!(t3["id"], id);
    assert_ne!(rolled, value);
    assert_eq!(emu.get().token_value(&id).as_deref(), Some(rolled.as_str()));
    assert_eq!(t3["secret_access_key"], sha256_hex(&rolled));
    assert_eq!(emu.get().count("PUT /user/tokens/{token_id}/value"), 1);
    ws.assert_plan_empty();

    // Import by <token_id>; the next plan is empty. An <account>/<id> id is
    // refused, naming the expected form.
    ws.ok(&["state", "rm", "cfai_user_api_token.t"]);
    let wrong = ws.run(&[
        "import",
        "-no-color",
        "cfai_user_api_token.t",
        &format!("{ACCOUNT}/{id}"),
    ]);
    assert!(
        !wrong.ok && wrong.all().contains("<token_id>"),
        "{}",
        wrong.all()
    );
    let import = ws.run(&["import", "-no-color", "cfai_user_api_token.t", &id]);
    assert!(import.ok, "{}", import.all());
    assert!(
        import.all().contains("rotation_triggers"),
        "{}",
        import.all()
    );
    let imported = ws.resource("cfai_user_api_token.t");
    assert!(imported["value"].is_null());
    ws.write(&user_token(&base, &v2));
    ws.assert_import_converges();

    // Batched refresh: the user's listing, not one GET per token.
    let gets_before = emu.get().count("GET /user/tokens/{token_id}");
    ws.assert_plan_empty();
    assert_eq!(
        emu.get().count("GET /user/tokens/{token_id}"),
        gets_before,
        "refresh reads the listing"
    );
    assert!(emu.get().count("GET /user/tokens") >= 1);

    ws.ok(&["destroy", "-auto-approve", "-no-color"]);
    assert_eq!(emu.get().count("DELETE /user/tokens/{token_id}"), 1);
    assert_eq!(emu.get().dump()["tokens"].as_object().unwrap().len(), 0);
    assert_eq!(emu.get().count(ACCOUNT_CREATES), 0, "no account token");
}

#[test]
fn without_a_provider_account_the_user_token_has_no_s3_endpoint() {
    let Some((emu, ws)) = setup() else { return };
    let base = emu.get().base_url.clone();
    let provider = provider_block(&base).replace(&format!("  account_id = \"{ACCOUNT}\"\n"), "");
    assert!(!provider.contains("account_id"), "{provider}");
    ws.write(&format!(
        "{provider}\nresource \"cfai_user_api_token\" \"t\" {{\n  name = \"no-account\"\n{}}}\n",
        policies()
    ));
    ws.apply();
    let t = ws.resource("cfai_user_api_token.t");
    assert!(t["s3_endpoint"].is_null(), "{t}");
    assert!(t["secret_access_key"].is_string());
    ws.assert_plan_empty();
    ws.ok(&["destroy", "-auto-approve", "-no-color"]);
}

#[test]
fn the_user_token_quota_is_named_when_reached() {
    let Some((emu, ws)) = setup() else { return };
    let base = emu.get().base_url.clone();
    let client = support::fast_client(&base, 0);
    let mut resources = serde_json::Map::new();
    resources.insert(format!("com.cloudflare.api.account.{ACCOUNT}"), "*".into());
    let request = cfai::cloudflare::models::TokenRequest {
        name: "filler".into(),
        policies: vec![cfai::cloudflare::models::Policy {
            id: None,
            effect: "allow".into(),
            permission_groups: vec![cfai::cloudflare::models::PermissionGroupRef {
                id: "bf7481a1826f439697cb59a20b22293e".into(),
                name: None,
            }],
            resources,
        }],
        condition: None,
        not_before: None,
        expires_on: None,
        status: None,
    };
    tokio::runtime::Runtime::new().unwrap().block_on(async {
        for _ in 0..50 {
            client
                .create_token(cfai::cloudflare::tokens::TokenOwner::User, &request)
                .await
                .unwrap();
        }
    });
    ws.write(&user_token(
        &base,
        &format!("  name = \"one-too-many\"\n{}", policies()),
    ));
    let run = ws.run(&["apply", "-auto-approve", "-no-color"]);
    assert!(!run.ok);
    let out = run.all();
    assert!(
        out.contains("50 user API tokens per user") && out.contains("this user has 50"),
        "{out}"
    );
}

#[test]
fn managed_service_token_minted_as_a_user_token() {
    let Some((emu, ws)) = setup() else { return };
    let base = emu.get().base_url.clone();
    let config = |owner: &str| {
        format!(
            "{}\nresource \"cfai_ai_search_service_token\" \"s\" {{\n  name = \"seed-indexer\"\n{owner}}}\n",
            provider_block(&base)
        )
    };
    ws.write(&config("  token_owner = \"user\"\n"));
    ws.apply();
    let s = ws.resource("cfai_ai_search_service_token.s");
    let minted = s["cf_api_id"].as_str().unwrap().to_string();
    let registration = s["id"].as_str().unwrap().to_string();
    assert_eq!(s["token_owner"], "user");
    assert!(
        owner_of(&emu, &minted).starts_with("user "),
        "{}",
        owner_of(&emu, &minted)
    );
    // Exactly the guide's first call, and no account token.
    assert_eq!(emu.get().count("POST /user/tokens"), 1);
    assert_eq!(emu.get().count(ACCOUNT_CREATES), 0, "no account token");
    let dump = emu.get().dump();
    assert_eq!(
        dump["ai_tokens"][&registration]["cf_api_id"],
        minted.as_str()
    );
    let groups: Vec<&Value> = dump["tokens"][&minted]["token"]["policies"][0]["permission_groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| &g["id"])
        .collect();
    assert_eq!(groups.len(), 2, "the two default groups: {groups:?}");
    ws.assert_plan_empty();

    // A rename rolls the user token for the registration's new key.
    ws.write(&config("  token_owner = \"user\"\n").replace("seed-indexer", "seed-indexer-2"));
    ws.apply();
    assert_eq!(emu.get().count("PUT /user/tokens/{token_id}/value"), 1);
    ws.assert_plan_empty();

    // Import recognises the minted user token: managed, owner user.
    ws.ok(&["state", "rm", "cfai_ai_search_service_token.s"]);
    ws.ok(&[
        "import",
        "-no-color",
        "cfai_ai_search_service_token.s",
        &registration,
    ]);
    let imported = ws.resource("cfai_ai_search_service_token.s");
    if !support::sparse_answers() {
        assert_eq!(imported["token_owner"], "user", "{imported}");
        assert_eq!(imported["cf_api_id"], minted.as_str());
    }
    ws.assert_import_converges();
    assert_eq!(emu.get().count("POST /user/tokens"), 1, "no second mint");

    // Another owner replaces the registration and its token.
    ws.write(&config("").replace("seed-indexer", "seed-indexer-2"));
    let (code, plan) = ws.plan_code();
    assert_eq!(code, 2, "{plan}");
    assert!(plan.contains("forces replacement"), "{plan}");
    ws.write(&config("  token_owner = \"user\"\n").replace("seed-indexer", "seed-indexer-2"));

    // Destroy deletes the registration, then the minted user token.
    ws.ok(&["destroy", "-auto-approve", "-no-color"]);
    let dump = emu.get().dump();
    assert_eq!(dump["ai_tokens"].as_object().unwrap().len(), 0);
    assert_eq!(dump["tokens"].as_object().unwrap().len(), 0);
    assert_eq!(emu.get().count("DELETE /user/tokens/{token_id}"), 1);
    assert_eq!(emu.get().count(ACCOUNT_CREATES), 0, "no account token");
}
