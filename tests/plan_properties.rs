//! Plan-validity property tests (framework v2): for every resource and data
//! source, configurations in which each attribute at every depth is
//! independently known, null or unknown plan validly, apply consistently,
//! refresh to a wholly known state and re-plan empty — judged by Terraform's
//! own rules (`cfai::framework::oracle`), against the emulator.
//!
//! `CFAI_PROPERTY_CASES=N` runs N cases per property (default below).

#[path = "support/props.rs"]
mod props;
mod support;

use cfai::cty::Value;
use props::{cases, rng, vary, vary_keeping, vary_leaving, Plugin};
use support::{start_emulator, ACCOUNT, API_TOKEN};

const TOKEN: &str = "cfai_account_api_token";
const USER_TOKEN: &str = "cfai_user_api_token";

fn policy(groups: &[&str], resources: &[(&str, &str)], effect: Option<&str>) -> Value {
    Value::object([
        ("effect", Value::opt_string(effect)),
        (
            "permission_groups",
            Value::string_set(groups.iter().copied()),
        ),
        ("permission_group_ids", Value::Null),
        (
            "resources",
            Value::Map(
                resources
                    .iter()
                    .map(|(k, v)| (k.to_string(), Value::string(*v)))
                    .collect(),
            ),
        ),
    ])
}

/// A configuration of the token type `ty` (the user's token has no
/// `account_id`, so that pair is left out for it).
fn token_config(plugin: &Plugin, ty: &str, pairs: Vec<(&str, Value)>) -> Value {
    let mut v = plugin.resources[ty].empty_value();
    for (k, x) in pairs {
        if k != "account_id" || ty == TOKEN {
            v.set(k, x);
        }
    }
    v
}

/// Two valid configurations that differ in every updatable attribute.
fn token_bases(plugin: &Plugin) -> (Value, Value) {
    token_bases_of(plugin, TOKEN)
}

fn token_bases_of(plugin: &Plugin, ty: &str) -> (Value, Value) {
    let account_key = format!("com.cloudflare.api.account.{ACCOUNT}");
    let nested = format!("{{\"com.cloudflare.edge.r2.bucket.{ACCOUNT}_default_logs\":\"*\"}}");
    let a = token_config(
        plugin,
        ty,
        vec![
            ("account_id", ACCOUNT.into()),
            ("name", "prop-a".into()),
            (
                "policies",
                Value::List(vec![policy(
                    &["Workers R2 Storage Read", "Account Settings Read"],
                    &[(&account_key, "*")],
                    Some("allow"),
                )]),
            ),
            (
                "condition",
                Value::object([(
                    "request_ip",
                    Value::object([
                        ("in", Value::string_set(["192.0.2.0/24", "2001:db8::/32"])),
                        ("not_in", Value::string_set(["192.0.2.7"])),
                    ]),
                )]),
            ),
            ("not_before", "2020-01-01T00:00:00Z".into()),
            ("expires_on", "2099-01-01T00:00:00Z".into()),
            ("status", "active".into()),
            (
                "rotation_triggers",
                Value::Map([("k".to_string(), Value::string("1"))].into()),
            ),
        ],
    );
    let b = token_config(
        plugin,
        ty,
        vec![
            ("account_id", ACCOUNT.into()),
            ("name", "prop-b".into()),
            (
                "policies",
                Value::List(vec![
                    policy(
                        &["Workers R2 Storage Write"],
                        &[(&account_key, &nested)],
                        None,
                    ),
                    policy(
                        &["Account Settings Read"],
                        &[(&account_key, "*")],
                        Some("deny"),
                    ),
                ]),
            ),
            (
                "condition",
                Value::object([(
                    "request_ip",
                    Value::object([
                        ("in", Value::string_set(["198.51.100.0/24"])),
                        ("not_in", Value::Null),
                    ]),
                )]),
            ),
            ("not_before", "2021-06-01T12:00:00+02:00".into()),
            ("expires_on", "2098-01-01T00:00:00.5Z".into()),
            ("status", "disabled".into()),
            (
                "rotation_triggers",
                Value::Map([("k".to_string(), Value::string("2"))].into()),
            ),
        ],
    );
    (a, b)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn account_api_token_plans_validly_with_unknowns_and_nulls_everywhere() {
    api_token_plans_validly(TOKEN).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn user_api_token_plans_validly_with_unknowns_and_nulls_everywhere() {
    api_token_plans_validly(USER_TOKEN).await;
}

/// One token type (`TOKEN` or `USER_TOKEN`): create, import, update, drift.
async fn api_token_plans_validly(ty: &'static str) {
    let emulator = start_emulator().await;
    let plugin = Plugin::configured(&emulator.base_url, ACCOUNT, API_TOKEN).await;
    let (base_a, base_b) = token_bases_of(&plugin, ty);
    let schema = plugin.resources[ty].clone();
    let n = cases(200);
    let started = std::time::Instant::now();
    let mut drifted = std::collections::BTreeMap::<&str, u32>::new();
    for case in 0..n as u64 {
        let mut r = rng(0xcfa1 + case);
        let create = vary(&schema, &base_a, &mut r);
        let (state, private) = plugin
            .converge(ty, (&Value::Null, &[]), &create.config, &create.resolved)
            .await
            .unwrap_or_else(|e| panic!("case {case} (create): {e}"));
        // Import it again: the imported state plans validly against the
        // configuration and converges with no API write (rotation_triggers
        // would roll the value-less import, by design, so they are left out).
        let token_id = state.get("id").as_str().unwrap();
        let id = match ty {
            TOKEN => format!("{ACCOUNT}/{token_id}"),
            _ => token_id.to_string(),
        };
        let (imported, imported_private) = plugin
            .import(ty, &id)
            .await
            .unwrap_or_else(|e| panic!("case {case} (import): {e}"));
        let mut without_triggers = create.resolved.clone();
        without_triggers.set("rotation_triggers", Value::Null);
        let writes_before = support::api_writes(&emulator);
        plugin
            .converge(
                ty,
                (&imported, &imported_private),
                &without_triggers,
                &without_triggers,
            )
            .await
            .unwrap_or_else(|e| panic!("case {case} (after import): {e}"));
        // (An answer without name and policies leaves them null on import:
        // the first apply then sends the configuration's.)
        if !support::sparse_answers() {
            assert_eq!(
                support::api_writes(&emulator),
                writes_before,
                "case {case}: the import's first apply wrote to the API"
            );
        }
        let update = vary(&schema, &base_b, &mut r);
        let (state, private) = plugin
            .converge(ty, (&state, &private), &update.config, &update.resolved)
            .await
            .unwrap_or_else(|e| panic!("case {case} (update): {e}"));
        // Drift made outside Terraform, seen by the next command's fresh
        // provider process: the refresh is judged, the plan is valid, the
        // apply converges and the plan after it is empty.
        let token_id = state.get("id").as_str().unwrap().to_string();
        let drift = TOKEN_DRIFTS[case as usize % TOKEN_DRIFTS.len()];
        let (config, resolved) = token_drift(&emulator, drift, &token_id, &state, &update);
        let (fresh, state, private) = converge_after_drift(
            &plugin,
            ty,
            (&state, &private),
            (&config, &resolved),
            &format!("case {case}, {drift}"),
        )
        .await;
        *drifted.entry(drift).or_default() += 1;
        fresh.destroy(ty, &state, &private).await;
    }
    eprintln!("{ty}: drifted states per kind: {drifted:?}");
    eprintln!("{n} cases in {:?}", started.elapsed());
}

/// After a change made outside Terraform: the next command's fresh provider
/// process must see it on refresh, then plan validly, apply, refresh and
/// re-plan empty. Returns that provider (to destroy with) and the state.
async fn converge_after_drift(
    plugin: &Plugin,
    type_name: &str,
    (state, private): (&Value, &[u8]),
    (config, resolved): (&Value, &Value),
    what: &str,
) -> (Plugin, Value, Vec<u8>) {
    let fresh = plugin.fresh().await;
    let (seen, _) = fresh
        .read(type_name, state, private)
        .await
        .unwrap_or_else(|e| panic!("{what} (refresh): {e:?}"));
    if !support::sparse_answers() {
        assert_ne!(&seen, state, "{what}: invisible to a refresh");
    }
    let (state, private) = fresh
        .converge(type_name, (state, private), config, resolved)
        .await
        .unwrap_or_else(|e| panic!("{what} (converge): {e}"));
    (fresh, state, private)
}

/// What someone may change on a token outside Terraform.
const TOKEN_DRIFTS: [&str; 8] = [
    "name",
    "status",
    "expires_on moved into the past",
    "expired by time",
    "policies",
    "condition",
    "not_before",
    "deleted",
];

fn rfc3339_ago(hours: i64) -> String {
    (chrono::Utc::now() - chrono::Duration::hours(hours))
        .format("%Y-%m-%dT%H:%M:%SZ")
        .to_string()
}

/// Makes one drift; returns the configuration (and what it resolves to)
/// to converge to afterwards.
fn token_drift(
    emulator: &cfai::emulator::Emulator,
    drift: &str,
    id: &str,
    state: &Value,
    update: &props::Case,
) -> (Value, Value) {
    let (mut config, mut resolved) = (update.config.clone(), update.resolved.clone());
    let stored = emulator.dump()["tokens"][id]["token"].clone();
    let made = match drift {
        "name" => emulator.rename_token(id, "renamed-outside"),
        "status" => {
            let other = if state.get("status").as_str() == Some("disabled") {
                "active"
            } else {
                "disabled"
            };
            emulator.patch_token(id, serde_json::json!({ "status": other }))
        }
        "expires_on moved into the past" => emulator.expire_token(id),
        "expired by time" => {
            // The configured expiry itself has passed. (Were the token also
            // replaced, its successor would be born expired, which the plan
            // refuses: the account stays known here.)
            let past = rfc3339_ago(2);
            config.set("expires_on", past.clone().into());
            resolved.set("expires_on", past.clone().into());
            if !config.get_opt("account_id").is_null() || !resolved.get_opt("account_id").is_null()
            {
                config.set("account_id", resolved.get("account_id").clone());
            }
            emulator.set_token_expiry(id, &past)
        }
        "policies" => {
            let mut policies = stored["policies"].clone();
            let effect = &mut policies[0]["effect"];
            *effect = if effect == "deny" {
                "allow".into()
            } else {
                "deny".into()
            };
            emulator.patch_token(id, serde_json::json!({ "policies": policies }))
        }
        "condition" => emulator.patch_token(
            id,
            serde_json::json!({ "condition": { "request_ip": { "in": ["203.0.113.0/24"] } } }),
        ),
        "not_before" => emulator.patch_token(
            id,
            serde_json::json!({ "not_before": "2019-05-05T05:05:05Z" }),
        ),
        "deleted" => emulator.delete_token(id),
        other => panic!("unknown drift {other}"),
    };
    assert!(made, "{drift} could not be made");
    (config, resolved)
}

/// The regression vector: policies wholly unknown at plan time.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wholly_unknown_policies_plan_validly() {
    let emulator = start_emulator().await;
    let plugin = Plugin::configured(&emulator.base_url, ACCOUNT, API_TOKEN).await;
    let (base, _) = token_bases(&plugin);
    let mut config = base.clone();
    config.set("policies", Value::Unknown);
    plugin
        .converge(TOKEN, (&Value::Null, &[]), &config, &base)
        .await
        .unwrap();
}

/// A data source, from configurations with unknowns and nulls: validation
/// passes, and the read of the resolved configuration is wholly known and
/// keeps every configured value.
async fn data_source_reads_validly(
    plugin: &Plugin,
    type_name: &str,
    base: &Value,
    keep: &[&str],
    seed: u64,
) {
    let schema = plugin.data_sources[type_name].clone();
    for case in 0..cases(100) as u64 {
        let c = vary_keeping(&schema, base, &mut rng(seed + case), keep);
        let errs = plugin.validate_data(type_name, &c.config).await;
        assert!(
            errs.is_empty(),
            "{type_name} case {case}: {errs:?} for {:?}",
            c.config
        );
        // Terraform reads a data source once its configuration is known.
        let state = plugin.read_data(type_name, &c.resolved).await.unwrap();
        let v = cfai::framework::oracle::check_read(&schema, &state);
        assert!(v.is_empty(), "{type_name} case {case}: {v:?}");
        let kept = cfai::framework::oracle::check_plan(
            &schema,
            &schema.cty_type(),
            &Value::Null,
            &c.resolved,
            &state,
            &[],
        );
        assert!(
            kept.is_empty(),
            "{type_name} case {case}: configured values changed: {kept:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn permission_groups_data_source_reads_validly() {
    let emulator = start_emulator().await;
    let plugin = Plugin::configured(&emulator.base_url, ACCOUNT, API_TOKEN).await;
    let mut base = plugin.data_sources["cfai_permission_groups"].empty_value();
    base.set("account_id", ACCOUNT.into());
    base.set("name", "R2".into());
    base.set("scope", "com.cloudflare.api.account".into());
    data_source_reads_validly(&plugin, "cfai_permission_groups", &base, &[], 0xda7a).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ai_search_service_tokens_data_source_reads_validly() {
    const DATA: &str = "cfai_ai_search_service_tokens";
    let emulator = start_emulator().await;
    let plugin = Plugin::configured(&emulator.base_url, ACCOUNT, API_TOKEN).await;
    // One registration, as the dashboard would have made it.
    let mut svc = plugin.resources[SERVICE_TOKEN].empty_value();
    svc.set("account_id", ACCOUNT.into());
    svc.set("name", "dashboard-token".into());
    plugin
        .converge(SERVICE_TOKEN, (&Value::Null, &[]), &svc, &svc)
        .await
        .unwrap();
    let mut base = plugin.data_sources[DATA].empty_value();
    base.set("account_id", ACCOUNT.into());
    base.set("name", "DASHBOARD".into());
    data_source_reads_validly(&plugin, DATA, &base, &[], 0x70d5).await;
    let found = plugin.read_data(DATA, &base).await.unwrap();
    assert_eq!(found.get("tokens").elements().len(), 1);
}

/// How a lifecycle property treats one resource type.
struct Life<'a> {
    type_name: &'a str,
    bases: (&'a Value, &'a Value),
    import_id: &'a dyn Fn(&Value) -> String,
    /// Top-level attributes never made null (resource rules need them).
    keep: &'a [&'a str],
    /// Top-level attributes left as the bases have them.
    leave: &'a [&'a str],
    /// Whether the first apply after an import may write (a stored secret
    /// that import cannot read is sent again).
    import_may_write: bool,
    /// Changes made outside Terraform, one per case in turn.
    drifts: &'a [Drift<'a>],
    seed: u64,
}

/// A change made outside Terraform to the object a state describes.
struct Drift<'a> {
    name: &'a str,
    make: &'a (dyn Fn(&cfai::emulator::Emulator, &Value) -> bool + Sync),
}

/// Create, import, update, drift and destroy under the oracle.
async fn lifecycle(plugin: &Plugin, emulator: &cfai::emulator::Emulator, life: Life<'_>) {
    let Life {
        type_name,
        bases,
        import_id,
        keep,
        leave,
        import_may_write,
        drifts,
        seed,
    } = life;
    let mut drifted = std::collections::BTreeMap::<&str, u32>::new();
    let schema = plugin.resources[type_name].clone();
    let n = cases(100);
    for case in 0..n as u64 {
        let mut r = rng(seed + case);
        let create = vary_leaving(&schema, bases.0, &mut r, keep, leave);
        let (state, private) = plugin
            .converge(
                type_name,
                (&Value::Null, &[]),
                &create.config,
                &create.resolved,
            )
            .await
            .unwrap_or_else(|e| panic!("{type_name} case {case} (create): {e}"));
        let (imported, imported_private) = plugin
            .import(type_name, &import_id(&state))
            .await
            .unwrap_or_else(|e| panic!("{type_name} case {case} (import): {e}"));
        let before = support::api_writes(emulator);
        plugin
            .converge(
                type_name,
                (&imported, &imported_private),
                &create.resolved,
                &create.resolved,
            )
            .await
            .unwrap_or_else(|e| panic!("{type_name} case {case} (after import): {e}"));
        // An answer that leaves out what the configuration sets (sparse
        // answers) leaves it null on import: the first apply sends it.
        if !import_may_write && !support::sparse_answers() {
            assert_eq!(
                support::api_writes(emulator),
                before,
                "{type_name} case {case}: the import's apply wrote"
            );
        }
        let update = vary_leaving(&schema, bases.1, &mut r, keep, leave);
        let (state, private) = plugin
            .converge(
                type_name,
                (&state, &private),
                &update.config,
                &update.resolved,
            )
            .await
            .unwrap_or_else(|e| panic!("{type_name} case {case} (update): {e}"));
        // Seen by the next command's fresh provider process: the refresh is
        // judged, the plan is valid, the apply converges, the re-plan empty.
        let drift = &drifts[case as usize % drifts.len()];
        assert!(
            (drift.make)(emulator, &state),
            "{type_name} case {case}: {} could not be made on {state:?}\n{}",
            drift.name,
            emulator.dump()
        );
        let (fresh, state, private) = converge_after_drift(
            plugin,
            type_name,
            (&state, &private),
            (&update.config, &update.resolved),
            &format!("{type_name} case {case}, {}", drift.name),
        )
        .await;
        *drifted.entry(drift.name).or_default() += 1;
        fresh.destroy(type_name, &state, &private).await;
    }
    eprintln!("{type_name}: drifted states per kind: {drifted:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ai_search_namespace_plans_validly() {
    const NS: &str = "cfai_ai_search_namespace";
    let emulator = start_emulator().await;
    let plugin = Plugin::configured(&emulator.base_url, ACCOUNT, API_TOKEN).await;
    let mut a = plugin.resources[NS].empty_value();
    a.set("account_id", ACCOUNT.into());
    a.set("name", "docs".into());
    a.set("description", "first".into());
    let mut b = a.clone();
    b.set("description", "second".into());
    lifecycle(
        &plugin,
        &emulator,
        Life {
            type_name: NS,
            bases: (&a, &b),
            import_id: &|s| format!("{ACCOUNT}/{}", s.get("name").as_str().unwrap()),
            keep: &[],
            leave: &[],
            import_may_write: false,
            drifts: &[
                Drift {
                    name: "description",
                    make: &|emu, s| {
                        let name = s.get("name").as_str().unwrap();
                        emu.patch_namespace(
                            name,
                            serde_json::json!({ "description": "edited elsewhere" }),
                        )
                    },
                },
                Drift {
                    name: "deleted",
                    make: &|emu, s| emu.delete_namespace(s.get("name").as_str().unwrap()),
                },
            ],
            seed: 0x5eed,
        },
    )
    .await;
}

const SERVICE_TOKEN: &str = "cfai_ai_search_service_token";
const NAMESPACE: &str = "cfai_ai_search_namespace";

fn by_id(s: &Value) -> String {
    format!("{ACCOUNT}/{}", s.get("id").as_str().unwrap())
}

fn registration(s: &Value) -> &str {
    s.get("id").as_str().unwrap()
}

/// What someone may change on a registration outside Terraform; `minted`
/// also deletes the token the provider minted for it (gone as a whole).
fn service_token_drifts(minted: bool) -> [Drift<'static>; 4] {
    [
        Drift {
            name: "name",
            make: &|emu, s| {
                emu.patch_ai_token(
                    registration(s),
                    serde_json::json!({ "name": "renamed-outside" }),
                )
            },
        },
        Drift {
            name: "disabled",
            make: &|emu, s| {
                emu.patch_ai_token(registration(s), serde_json::json!({ "enabled": false }))
            },
        },
        Drift {
            name: "legacy",
            make: &|emu, s| {
                let legacy = s.get("legacy").as_bool().unwrap_or(false);
                emu.patch_ai_token(registration(s), serde_json::json!({ "legacy": !legacy }))
            },
        },
        Drift {
            name: "deleted",
            make: if minted {
                &|emu, s| {
                    emu.delete_ai_token(registration(s))
                        && emu.delete_token(s.get("cf_api_id").as_str().unwrap())
                }
            } else {
                &|emu, s| emu.delete_ai_token(registration(s))
            },
        },
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ai_search_service_token_managed_plans_validly() {
    let emulator = start_emulator().await;
    let plugin = Plugin::configured(&emulator.base_url, ACCOUNT, API_TOKEN).await;
    let mut a = plugin.resources[SERVICE_TOKEN].empty_value();
    a.set("account_id", ACCOUNT.into());
    a.set("name", "svc-a".into());
    a.set("legacy", false.into());
    a.set(
        "timeouts",
        Value::object([
            ("create", Value::string("30s")),
            ("delete", Value::string("10s")),
        ]),
    );
    let mut b = a.clone();
    b.set("name", "svc-b".into());
    b.set(
        "permission_groups",
        Value::string_set(["AI Search Index Engine"]),
    );
    lifecycle(
        &plugin,
        &emulator,
        Life {
            type_name: SERVICE_TOKEN,
            bases: (&a, &b),
            import_id: &by_id,
            keep: &[],
            leave: &[],
            import_may_write: false,
            drifts: &service_token_drifts(true),
            seed: 0x70c3,
        },
    )
    .await;
    assert_eq!(
        emulator.dump()["ai_tokens"].as_object().unwrap().len(),
        0,
        "no registration left"
    );
    // (An answer without the token's name leaves the import unsure who
    // minted it; managed mode then takes it as the minted one: no second.)
    assert_eq!(
        emulator.dump()["tokens"].as_object().unwrap().len(),
        0,
        "no minted token left"
    );
}

/// Managed mode minting user tokens: the owner is one more attribute that
/// may be known, null or unknown, and a change of owner replaces.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ai_search_service_token_managed_by_user_tokens_plans_validly() {
    let emulator = start_emulator().await;
    let plugin = Plugin::configured(&emulator.base_url, ACCOUNT, API_TOKEN).await;
    let mut a = plugin.resources[SERVICE_TOKEN].empty_value();
    a.set("account_id", ACCOUNT.into());
    a.set("name", "user-svc-a".into());
    a.set("token_owner", "user".into());
    a.set(
        "timeouts",
        Value::object([
            ("create", Value::string("30s")),
            ("delete", Value::string("10s")),
        ]),
    );
    let mut b = a.clone();
    b.set("name", "user-svc-b".into());
    b.set(
        "permission_groups",
        Value::string_set(["AI Search Index Engine"]),
    );
    lifecycle(
        &plugin,
        &emulator,
        Life {
            type_name: SERVICE_TOKEN,
            bases: (&a, &b),
            import_id: &by_id,
            keep: &[],
            leave: &[],
            import_may_write: false,
            drifts: &service_token_drifts(true),
            seed: 0x05e7,
        },
    )
    .await;
    let dump = emulator.dump();
    assert_eq!(dump["ai_tokens"].as_object().unwrap().len(), 0);
    assert_eq!(
        dump["tokens"].as_object().unwrap().len(),
        0,
        "no minted token left, of either owner"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ai_search_service_token_bring_your_own_plans_validly() {
    let emulator = start_emulator().await;
    let plugin = Plugin::configured(&emulator.base_url, ACCOUNT, API_TOKEN).await;
    // An R2-capable token of the account, to bring.
    let token = parent_token(&emulator).await;
    let key = token.value.unwrap().expose().to_string();
    let mut a = plugin.resources[SERVICE_TOKEN].empty_value();
    a.set("account_id", ACCOUNT.into());
    a.set("name", "byo-a".into());
    a.set("cf_api_id", token.id.clone().into());
    a.set("cf_api_key_wo", key.clone().into());
    a.set("cf_api_key_wo_version", Value::number(1));
    let mut b = a.clone();
    b.set("name", "byo-b".into());
    b.set("cf_api_key_wo", Value::Null);
    b.set("cf_api_key_wo_version", Value::Null);
    b.set("cf_api_key", key.into());
    lifecycle(
        &plugin,
        &emulator,
        Life {
            type_name: SERVICE_TOKEN,
            bases: (&a, &b),
            import_id: &by_id,
            keep: &["cf_api_id", "cf_api_key_wo", "cf_api_key"],
            leave: &[],
            // cf_api_key_wo_version (and a stored key) cannot be imported:
            // the first apply sends the key again, in place.
            import_may_write: true,
            drifts: &service_token_drifts(false),
            seed: 0xb40,
        },
    )
    .await;
}

/// The same resource as an older client (OpenTofu 1.6, Terraform < 1.11)
/// drives it: the stored key, no write-only capability announced.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ai_search_service_token_with_a_stored_key_plans_validly_on_an_older_client() {
    let emulator = start_emulator().await;
    let plugin = Plugin::configured_as(&emulator.base_url, ACCOUNT, API_TOKEN, false).await;
    let token = parent_token(&emulator).await;
    let key = token.value.unwrap().expose().to_string();
    let mut a = plugin.resources[SERVICE_TOKEN].empty_value();
    a.set("account_id", ACCOUNT.into());
    a.set("name", "stored-a".into());
    a.set("cf_api_id", token.id.clone().into());
    a.set("cf_api_key", key.into());
    let mut b = a.clone();
    b.set("name", "stored-b".into());
    b.set("legacy", true.into());
    lifecycle(
        &plugin,
        &emulator,
        Life {
            type_name: SERVICE_TOKEN,
            bases: (&a, &b),
            import_id: &by_id,
            keep: &["cf_api_id", "cf_api_key"],
            leave: &["cf_api_key_wo", "cf_api_key_wo_version"],
            import_may_write: true,
            drifts: &service_token_drifts(false),
            seed: 0x01d,
        },
    )
    .await;
}

#[tokio::test]
async fn a_write_only_key_from_a_client_without_write_only_support_is_refused() {
    let emulator = start_emulator().await;
    let plugin = Plugin::configured(&emulator.base_url, ACCOUNT, API_TOKEN).await;
    let mut config = plugin.resources[SERVICE_TOKEN].empty_value();
    config.set("name", "old-client".into());
    config.set("cf_api_id", "0123456789abcdef0123456789abcdef".into());
    // Known, or unknown until apply (wired from another resource): the
    // argument is refused either way, before any plan nulls it.
    for key in [Value::string("secret"), Value::Unknown] {
        config.set("cf_api_key_wo", key.clone());
        let errs = plugin.validate_as(SERVICE_TOKEN, &config, None).await;
        assert_eq!(errs.len(), 1, "{key:?}: {errs:?}");
        assert!(
            errs[0].contains("write-only") && errs[0].contains("`cf_api_key`"),
            "{errs:?}"
        );
        assert!(errs[0].contains("cf_api_key_wo"), "{errs:?}");
        assert!(plugin.validate(SERVICE_TOKEN, &config).await.is_empty());
    }
}

const INSTANCE: &str = "cfai_ai_search_instance";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ai_search_instance_plans_validly() {
    let emulator = start_emulator().await;
    emulator.set_ai_search(cfai::emulator::AiSearchConfig {
        sync_cooldown_ms: 0,
        ..Default::default()
    });
    let plugin = Plugin::configured(&emulator.base_url, ACCOUNT, API_TOKEN).await;
    let client = support::fast_client(&emulator.base_url, 0);
    for ns in ["docs", "other"] {
        client.create_namespace(ACCOUNT, ns, None).await.unwrap();
    }
    let obj = |pairs: Vec<(&str, Value)>| Value::object(pairs);
    let set_all = |v: &mut Value, pairs: Vec<(&str, Value)>| {
        for (k, x) in pairs {
            v.set(k, x);
        }
    };
    let mut a = plugin.resources[INSTANCE].empty_value();
    set_all(
        &mut a,
        vec![
            ("account_id", ACCOUNT.into()),
            ("id", "kb".into()),
            ("type", "r2".into()),
            ("source", "docs-bucket".into()),
            ("cache_ttl", Value::number(3600)),
            ("chunk_size", Value::number(512)),
            ("max_num_results", Value::number(20)),
            ("paused", true.into()),
            ("summarization", true.into()),
            ("system_prompt_ai_search", "Be brief.".into()),
            (
                "index_method",
                obj(vec![("keyword", true.into()), ("vector", true.into())]),
            ),
            (
                "custom_metadata",
                Value::List(vec![obj(vec![
                    ("field_name", "lang".into()),
                    ("data_type", "text".into()),
                ])]),
            ),
            (
                "retrieval_options",
                obj(vec![
                    ("boost_by", Value::Null),
                    ("keyword_match_mode", "or".into()),
                ]),
            ),
            (
                "source_params",
                obj(vec![
                    ("prefix", "docs/".into()),
                    ("include_items", Value::List(vec!["**/*.md".into()])),
                    ("exclude_items", Value::Null),
                    ("r2_jurisdiction", Value::Null),
                    ("web_crawler", Value::Null),
                ]),
            ),
            (
                "sync_triggers",
                Value::Map([("v".to_string(), Value::string("1"))].into()),
            ),
        ],
    );
    let mut b = a.clone();
    set_all(
        &mut b,
        vec![
            ("namespace", "docs".into()),
            ("cache_ttl", Value::number(7200)),
            ("chunk_overlap", Value::number(20)),
            ("paused", false.into()),
            ("system_prompt_ai_search", "Cite sources.".into()),
            (
                "index_method",
                obj(vec![("keyword", false.into()), ("vector", true.into())]),
            ),
            (
                "sync_triggers",
                Value::Map([("v".to_string(), Value::string("2"))].into()),
            ),
        ],
    );
    lifecycle(
        &plugin,
        &emulator,
        Life {
            type_name: INSTANCE,
            bases: (&a, &b),
            import_id: &|s| {
                format!(
                    "{ACCOUNT}/{}/{}",
                    s.get("namespace").as_str().unwrap(),
                    s.get("id").as_str().unwrap()
                )
            },
            keep: &[],
            leave: &[],
            // sync_triggers and the update-only fields a read leaves out
            // cannot be imported: the first apply sends them.
            import_may_write: true,
            drifts: &instance_drifts(),
            seed: 0x1457,
        },
    )
    .await;
}

fn instance_at(s: &Value) -> (&str, &str) {
    (
        s.get("namespace").as_str().unwrap(),
        s.get("id").as_str().unwrap(),
    )
}

/// Every kind of setting changed outside Terraform (a few at a time, so a
/// case stays short), a move to another namespace, and deletion.
fn instance_drifts() -> [Drift<'static>; 7] {
    fn patch(emu: &cfai::emulator::Emulator, s: &Value, patch: serde_json::Value) -> bool {
        let (ns, id) = instance_at(s);
        emu.patch_instance(ns, id, patch)
    }
    [
        Drift {
            name: "numbers",
            make: &|emu, s| {
                patch(
                    emu,
                    s,
                    serde_json::json!({
                        "cache_ttl": 86400, "chunk_size": 1024, "chunk_overlap": 0,
                        "max_num_results": 5, "score_threshold": 0.5
                    }),
                )
            },
        },
        Drift {
            name: "switches",
            make: &|emu, s| {
                let paused = s.get("paused").as_bool().unwrap_or(false);
                patch(
                    emu,
                    s,
                    serde_json::json!({
                        "paused": !paused, "summarization": false, "cache": false, "reranking": true
                    }),
                )
            },
        },
        Drift {
            name: "models and prompts",
            make: &|emu, s| {
                patch(
                    emu,
                    s,
                    serde_json::json!({
                        "ai_search_model": "@cf/meta/llama-3.1-8b-instruct",
                        "system_prompt_ai_search": "Changed elsewhere."
                    }),
                )
            },
        },
        Drift {
            name: "nested settings",
            make: &|emu, s| {
                patch(
                    emu,
                    s,
                    serde_json::json!({
                        "index_method": { "keyword": true, "vector": false },
                        "retrieval_options": { "keyword_match_mode": "and" },
                        "custom_metadata": [],
                    }),
                )
            },
        },
        Drift {
            name: "source_params",
            make: &|emu, s| {
                patch(
                    emu,
                    s,
                    serde_json::json!({
                        "source_params": { "prefix": "elsewhere/", "include_items": ["**/*.txt"] }
                    }),
                )
            },
        },
        Drift {
            name: "moved to another namespace",
            make: &|emu, s| {
                let (ns, id) = instance_at(s);
                let to = if ns == "other" { "docs" } else { "other" };
                emu.move_instance(ns, id, to)
            },
        },
        Drift {
            name: "deleted",
            make: &|emu, s| {
                let (ns, id) = instance_at(s);
                emu.delete_instance(ns, id)
            },
        },
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ai_search_instance_data_source_reads_validly() {
    const DATA: &str = "cfai_ai_search_instance";
    let emulator = start_emulator().await;
    let client = support::fast_client(&emulator.base_url, 0);
    client
        .create_namespace(ACCOUNT, "docs", None)
        .await
        .unwrap();
    let body = serde_json::json!({"id": "kb", "type": "r2", "source": "bucket"});
    client
        .create_instance(ACCOUNT, Some("docs"), body.as_object().unwrap())
        .await
        .unwrap();
    let plugin = Plugin::configured(&emulator.base_url, ACCOUNT, API_TOKEN).await;
    let mut base = plugin.data_sources[DATA].empty_value();
    base.set("account_id", ACCOUNT.into());
    base.set("id", "kb".into());
    base.set("namespace", "docs".into());
    // The instance is in `docs`: a null namespace would look in `default`.
    data_source_reads_validly(&plugin, DATA, &base, &["namespace"], 0x1d5).await;
    let read = plugin.read_data(DATA, &base).await.unwrap();
    if support::sparse_answers() {
        // Neither is required by the contract: an answer may leave them out.
        assert!(
            !support::all_sparse_answers() || read.get("source").is_null(),
            "{read:?}"
        );
    } else {
        assert_eq!(read.get("stats").get("completed"), &Value::number(0));
        assert_eq!(read.get("source"), &Value::string("bucket"));
    }
}

// -------------------------------------------------------------- ephemeral

async fn parent_token(emulator: &cfai::emulator::Emulator) -> cfai::cloudflare::models::Token {
    support::fast_client(&emulator.base_url, 0)
        .create_token(ACCOUNT, &r2_token_request("r2-parent"))
        .await
        .unwrap()
}

/// A token with R2 write access on the account.
fn r2_token_request(name: &str) -> cfai::cloudflare::models::TokenRequest {
    let mut resources = serde_json::Map::new();
    resources.insert(format!("com.cloudflare.api.account.{ACCOUNT}"), "*".into());
    cfai::cloudflare::models::TokenRequest {
        name: name.into(),
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
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ephemeral_resources_open_validly_and_close() {
    let emulator = start_emulator().await;
    let plugin = Plugin::configured(&emulator.base_url, ACCOUNT, API_TOKEN).await;
    let parent = parent_token(&emulator).await;

    let creds = plugin.ephemeral_schema("cfai_r2_temporary_credentials");
    let mut c = creds.empty_value();
    c.set("account_id", ACCOUNT.into());
    c.set("bucket", "logs".into());
    c.set("parent_access_key_id", parent.id.clone().into());
    c.set("permission", "object-read-write".into());
    c.set("ttl_seconds", Value::number(600));
    c.set("prefixes", Value::string_set(["a/"]));
    c.set("jurisdiction", "eu".into());

    let url = plugin.ephemeral_schema("cfai_r2_presigned_url");
    let mut u = url.empty_value();
    u.set("account_id", ACCOUNT.into());
    u.set("bucket", "logs".into());
    u.set("key", "dir/a file.txt".into());
    u.set("method", "PUT".into());
    u.set("expires_in", Value::number(60));
    u.set("access_key_id", "AK".into());
    u.set("secret_access_key", "secret".into());
    u.set("session_token", "tok".into());

    let token = plugin.ephemeral_schema("cfai_account_api_token");
    let mut t = token.empty_value();
    t.set("account_id", ACCOUNT.into());
    t.set("name", "run".into());
    t.set(
        "policies",
        Value::List(vec![Value::object([
            ("effect", Value::Null),
            (
                "permission_groups",
                Value::string_set(["Workers R2 Storage Read"]),
            ),
            ("permission_group_ids", Value::Null),
            (
                "resources",
                Value::Map(
                    [(
                        format!("com.cloudflare.api.account.{ACCOUNT}"),
                        Value::string("*"),
                    )]
                    .into(),
                ),
            ),
        ])]),
    );
    t.set("ttl", "30m".into());
    // The user's run token: the same inputs, without account_id.
    let user_token = plugin.ephemeral_schema("cfai_user_api_token");
    let mut ut = user_token.empty_value();
    for name in ["name", "policies", "condition", "ttl"] {
        ut.set(name, t.get(name).clone());
    }

    for (type_name, schema, base, keep) in [
        ("cfai_r2_temporary_credentials", &creds, &c, &[][..]),
        ("cfai_r2_presigned_url", &url, &u, &[][..]),
        ("cfai_account_api_token", &token, &t, &[][..]),
        ("cfai_user_api_token", &user_token, &ut, &[][..]),
    ] {
        for case in 0..cases(100) as u64 {
            let v = vary_keeping(schema, base, &mut rng(0xe9 + case), keep);
            plugin
                .open_and_close(type_name, &v)
                .await
                .unwrap_or_else(|e| panic!("{type_name} case {case}: {e}"));
        }
    }
    // Every token opened was closed: only the parent is left.
    assert_eq!(emulator.dump()["tokens"].as_object().unwrap().len(), 1);
}

#[tokio::test]
async fn ephemeral_inputs_fail_validation_on_their_path() {
    let emulator = start_emulator().await;
    let plugin = Plugin::configured(&emulator.base_url, ACCOUNT, API_TOKEN).await;
    let creds = plugin.ephemeral_schema("cfai_r2_temporary_credentials");
    let url = plugin.ephemeral_schema("cfai_r2_presigned_url");
    let token = plugin.ephemeral_schema("cfai_account_api_token");
    let with = |schema: &cfai::framework::Schema, pairs: Vec<(&str, Value)>| {
        let mut v = schema.empty_value();
        for (k, x) in pairs {
            v.set(k, x);
        }
        v
    };
    let account_key = format!("com.cloudflare.api.account.{ACCOUNT}");
    let one_policy = Value::List(vec![policy(
        &["Workers R2 Storage Read"],
        &[(account_key.as_str(), "*")],
        None,
    )]);
    // A valid run token but for its ttl.
    let run_token = |schema: &cfai::framework::Schema, ttl: &str| {
        with(
            schema,
            vec![
                ("name", "n".into()),
                ("policies", one_policy.clone()),
                ("ttl", ttl.into()),
            ],
        )
    };
    let cases = [
        (
            "cfai_r2_temporary_credentials",
            with(
                &creds,
                vec![
                    ("bucket", "logs".into()),
                    ("parent_access_key_id", "p".into()),
                    ("ttl_seconds", Value::number(604801)),
                ],
            ),
            "ttl_seconds",
        ),
        (
            "cfai_r2_temporary_credentials",
            with(
                &creds,
                vec![
                    ("bucket", "logs".into()),
                    ("parent_access_key_id", "p".into()),
                    ("permission", "everything".into()),
                ],
            ),
            "permission",
        ),
        (
            "cfai_r2_temporary_credentials",
            with(
                &creds,
                vec![("bucket", "".into()), ("parent_access_key_id", "p".into())],
            ),
            "bucket",
        ),
        (
            "cfai_r2_presigned_url",
            with(
                &url,
                vec![
                    ("bucket", "logs".into()),
                    ("key", "k".into()),
                    ("access_key_id", "a".into()),
                    ("secret_access_key", "s".into()),
                    ("expires_in", Value::number(0)),
                ],
            ),
            "expires_in",
        ),
        ("cfai_account_api_token", run_token(&token, "48h"), "ttl"),
        (
            "cfai_account_api_token",
            run_token(&token, "-5m"),
            "ttl must be more than 0",
        ),
        (
            "cfai_account_api_token",
            run_token(&token, "5x"),
            "unknown unit",
        ),
        (
            "cfai_account_api_token",
            with(
                &token,
                vec![
                    ("name", "n".into()),
                    (
                        "policies",
                        Value::List(vec![policy(
                            &["Workers R2 Storage Read"],
                            &[(
                                "com.cloudflare.api.acount.0123456789abcdef0123456789abcdef",
                                "*",
                            )],
                            None,
                        )]),
                    ),
                ],
            ),
            "Did you mean",
        ),
    ];
    for (type_name, config, path) in cases {
        let errs = plugin.open(type_name, &config).await.unwrap_err();
        assert!(
            errs.iter().any(|e| e.contains(path)),
            "{type_name}: expected {path} in {errs:?}"
        );
        // One problem, one message, which says it once.
        assert_eq!(errs.len(), 1, "{type_name}: {errs:?}");
        let text = &errs[0];
        for sentence in text
            .split(['.', ':', ';'])
            .map(str::trim)
            .filter(|s| s.len() > 12)
        {
            assert_eq!(
                text.matches(sentence).count(),
                1,
                "{sentence:?} repeated in {text}"
            );
        }
    }
    assert!(emulator.temp_credentials().is_empty(), "nothing was opened");
}

/// Every list type's results, under every filter and limit: each result's
/// object is exactly what an import then read stores (in a new process),
/// its identity is that object's, and the filters keep what they say.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_results_equal_the_resources_read() {
    let emulator = start_emulator().await;
    emulator.set_ai_search(cfai::emulator::AiSearchConfig {
        sync_cooldown_ms: 0,
        ..Default::default()
    });
    let plugin = Plugin::configured(&emulator.base_url, ACCOUNT, API_TOKEN).await;
    let create = |ty: &'static str, config: Value| {
        let plugin = &plugin;
        async move {
            plugin
                .converge(ty, (&Value::Null, &[]), &config, &config)
                .await
                .unwrap_or_else(|e| panic!("{ty}: {e}"))
        }
    };
    for (ty, names) in [
        (TOKEN, ["alpha", "beta-a", "gamma"]),
        (USER_TOKEN, ["mine-a", "mine-b", "other"]),
    ] {
        let (base, _) = token_bases_of(&plugin, ty);
        for name in names {
            let mut config = base.clone();
            config.set("name", name.into());
            create(ty, config).await;
        }
    }
    let mut ns = plugin.resources[NAMESPACE].empty_value();
    ns.set("name", "docs".into());
    create(NAMESPACE, ns).await;
    let mut svc = plugin.resources[SERVICE_TOKEN].empty_value();
    svc.set("name", "search-a".into());
    let (svc_state, _) = create(SERVICE_TOKEN, svc).await;
    for namespace in [Value::Null, Value::string("docs")] {
        let mut kb = plugin.resources[INSTANCE].empty_value();
        kb.set("id", "kb".into());
        kb.set("namespace", namespace);
        kb.set("type", "r2".into());
        kb.set("source", "docs-bucket".into());
        kb.set("token_id", svc_state.get("id").clone());
        create(INSTANCE, kb).await;
    }

    // Each list type: its filters, one at a time, then none.
    let filters: [(&str, &[(&str, Value)]); 5] = [
        (
            TOKEN,
            &[
                ("account_id", Value::string(ACCOUNT)),
                ("name", Value::string("A")),
                ("status", Value::string("active")),
            ],
        ),
        (
            USER_TOKEN,
            &[
                ("name", Value::string("mine")),
                ("status", Value::string("disabled")),
            ],
        ),
        (
            SERVICE_TOKEN,
            &[
                ("account_id", Value::string(ACCOUNT)),
                ("name", Value::string("search")),
            ],
        ),
        (NAMESPACE, &[("account_id", Value::string(ACCOUNT))]),
        (
            INSTANCE,
            &[
                ("account_id", Value::string(ACCOUNT)),
                ("namespace", Value::string("docs")),
            ],
        ),
    ];
    let expected_all = [
        (TOKEN, 4),
        (USER_TOKEN, 3),
        (SERVICE_TOKEN, 1),
        (NAMESPACE, 1),
        (INSTANCE, 2),
    ];
    let reader = plugin.fresh().await;
    for (ty, args) in filters {
        let schema = plugin.list_schema(ty);
        let mut configs = vec![schema.empty_value()];
        for (name, value) in args {
            let mut config = schema.empty_value();
            config.set(name, value.clone());
            configs.push(config);
        }
        for config in configs {
            for limit in [100, 1] {
                let listed = plugin
                    .list(ty, &config, true, limit)
                    .await
                    .unwrap_or_else(|e| panic!("{ty} {config:?}: {e:?}"));
                assert!(listed.len() as i64 <= limit, "{ty}: past the limit");
                if config == schema.empty_value() && limit == 100 {
                    let all = expected_all.iter().find(|(t, _)| *t == ty).unwrap().1;
                    // The minted service token is an account token too.
                    assert_eq!(listed.len(), all, "{ty}: everything, unfiltered");
                }
                for item in &listed {
                    let object = item
                        .object
                        .clone()
                        .expect("include_resource gives the object");
                    let id = plugin.import_id_of(ty, &item.identity);
                    let (read, _) = reader
                        .import(ty, &id)
                        .await
                        .unwrap_or_else(|e| panic!("{ty} {id}: {e}"));
                    assert_eq!(
                        object,
                        read,
                        "{ty} {id}: listed object is not the read one\n{}",
                        props::diff(&object, &read, "")
                    );
                    assert_eq!(
                        item.identity,
                        plugin.identity_of(ty, &read),
                        "{ty} {id}: identity"
                    );
                    assert!(!item.display_name.is_empty(), "{ty} {id}: display name");
                    let name = read
                        .get_opt("name")
                        .as_str()
                        .unwrap_or_default()
                        .to_lowercase();
                    if let Some(part) = config.get_opt("name").as_str() {
                        assert!(
                            name.contains(&part.to_lowercase()),
                            "{ty}: {name} kept by name {part}"
                        );
                    }
                    if let Some(status) = config.get_opt("status").as_str() {
                        assert_eq!(
                            read.get("status").as_str(),
                            Some(status),
                            "{ty}: status filter"
                        );
                    }
                    if let Some(namespace) = config.get_opt("namespace").as_str() {
                        assert_eq!(
                            read.get("namespace").as_str(),
                            Some(namespace),
                            "{ty}: namespace filter"
                        );
                    }
                }
            }
        }
    }
}

/// A list walks its listing a page at a time and stops asking once it has
/// `limit` results: 120 tokens (50 a page) cost 3 requests listed whole,
/// 1 for the first five; each result read after it costs nothing more.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn listing_stops_at_the_limit_a_page_at_a_time() {
    let emulator = start_emulator().await;
    let plugin = Plugin::configured(&emulator.base_url, ACCOUNT, API_TOKEN).await;
    let client = support::fast_client(&emulator.base_url, 0);
    for i in 0..120 {
        let request = r2_token_request(&format!("bulk-{i:03}"));
        client.create_token(ACCOUNT, &request).await.unwrap();
    }
    let listings = || {
        emulator
            .counts()
            .iter()
            .filter(|(route, _)| {
                *route == "GET /accounts/{account_id}/tokens"
                    || *route == "GET /accounts/{account_id}/tokens/{token_id}"
            })
            .map(|(_, n)| n)
            .sum::<u64>()
    };
    let schema = plugin.list_schema(TOKEN);
    for (limit, expected_results, expected_requests) in [(5, 5, 1), (1000, 120, 3), (60, 60, 2)] {
        let reader = plugin.fresh().await;
        let before = listings();
        let listed = reader
            .list(TOKEN, &schema.empty_value(), true, limit)
            .await
            .unwrap();
        assert_eq!(listed.len(), expected_results, "limit {limit}");
        assert_eq!(
            listings() - before,
            expected_requests,
            "limit {limit}: requests to list and read {expected_results} tokens"
        );
    }
}
