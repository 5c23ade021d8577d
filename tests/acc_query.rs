//! `terraform query` through the real terraform (>= 1.14): the list type of
//! every managed resource finds what exists, filters and stops at `limit`,
//! costs a request per page rather than per object, and
//! `-generate-config-out` writes configuration that imports everything
//! without an API write and then plans empty.

mod support;

use std::collections::BTreeMap;

use support::{client_supports, provider_block, require_terraform, BackgroundEmulator, Feature};
use support::{Workspace, ACCOUNT};

/// 25 account tokens, 2 user tokens, 2 namespaces with an instance each
/// and one in `default`, a managed service token and a bring-your-own one.
fn seed(base: &str) -> String {
    format!(
        r#"{provider}
resource "cfai_account_api_token" "seed" {{
  count    = 25
  name     = format("seed-%02d", count.index)
  policies = [{{ permission_groups = ["Workers R2 Storage Read"], resources = {{ "com.cloudflare.api.account.{ACCOUNT}" = "*" }} }}]
}}

resource "cfai_user_api_token" "mine" {{
  count    = 2
  name     = "mine-${{count.index}}"
  policies = [{{ permission_groups = ["Workers R2 Storage Read"], resources = {{ "com.cloudflare.api.account.{ACCOUNT}" = "*" }} }}]
}}

resource "cfai_ai_search_namespace" "ns" {{
  for_each = toset(["docs", "wiki"])
  name     = each.key
}}

resource "cfai_ai_search_service_token" "managed" {{
  name = "managed-svc"
}}

resource "cfai_account_api_token" "reader" {{
  name     = "byo-reader"
  policies = [{{ permission_groups = ["AI Search Index Engine", "Workers R2 Storage Write"], resources = {{ "com.cloudflare.api.account.{ACCOUNT}" = "*" }} }}]
}}

resource "cfai_ai_search_service_token" "byo" {{
  name       = "byo-svc"
  cf_api_id  = cfai_account_api_token.reader.id
  cf_api_key = cfai_account_api_token.reader.value
}}

resource "cfai_ai_search_instance" "kb" {{
  for_each  = {{ docs = "docs-kb", wiki = "wiki-kb", default = "default-kb" }}
  id        = each.value
  namespace = each.key == "default" ? null : cfai_ai_search_namespace.ns[each.key].name
  type      = "r2"
  source    = "bucket-${{each.key}}"
  token_id  = cfai_ai_search_service_token.managed.id
}}
"#,
        provider = provider_block(base)
    )
}

/// Every list type, unfiltered, plus filtered and limited ones.
const QUERIES: &str = r#"
list "cfai_account_api_token" "all" {
  provider = cfai
}

list "cfai_account_api_token" "seed_1x" {
  provider = cfai
  config {
    name   = "SEED-1"
    status = "active"
  }
}

list "cfai_account_api_token" "first_five" {
  provider = cfai
  limit    = 5
}

list "cfai_user_api_token" "all" {
  provider = cfai
}

list "cfai_ai_search_service_token" "all" {
  provider = cfai
}

list "cfai_ai_search_namespace" "all" {
  provider = cfai
}

list "cfai_ai_search_instance" "all" {
  provider = cfai
}

list "cfai_ai_search_instance" "wiki" {
  provider = cfai
  config {
    namespace = "wiki"
  }
}
"#;

/// One list block per type, for generation (each object listed once).
const GENERATE: &str = r#"
list "cfai_account_api_token" "tokens" {
  provider         = cfai
  include_resource = true
}

list "cfai_user_api_token" "mine" {
  provider         = cfai
  include_resource = true
}

list "cfai_ai_search_service_token" "svc" {
  provider         = cfai
  include_resource = true
}

list "cfai_ai_search_namespace" "ns" {
  provider         = cfai
  include_resource = true
}

list "cfai_ai_search_instance" "kb" {
  provider         = cfai
  include_resource = true
}
"#;

/// `list.<type>.<name>` → the display names `terraform query` printed.
fn results(out: &str) -> BTreeMap<String, Vec<String>> {
    let mut found: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for line in out.lines().filter(|l| l.starts_with("list.")) {
        let fields: Vec<&str> = line.split_whitespace().collect();
        let display = fields.get(2).unwrap_or(&"").to_string();
        found
            .entry(fields[0].to_string())
            .or_default()
            .push(display);
    }
    found
}

fn gets(emu: &BackgroundEmulator) -> BTreeMap<String, u64> {
    emu.get()
        .counts()
        .into_iter()
        .filter(|(route, _)| route.starts_with("GET "))
        .collect()
}

#[test]
fn query_finds_every_object_and_generates_configuration_that_imports_as_is() {
    let Some(tf) = require_terraform() else {
        return;
    };
    if !client_supports(
        "query_finds_every_object_and_generates_configuration_that_imports_as_is",
        Feature::ListResources,
    ) {
        return;
    }
    let emu = BackgroundEmulator::start();
    let base = emu.get().base_url.clone();
    let seeded = Workspace::new(tf.clone());
    seeded.write(&seed(&base));
    seeded.apply();

    // A workspace that manages nothing yet.
    let ws = Workspace::new(tf);
    ws.write(&provider_block(&base));
    std::fs::write(ws.work_dir().join("find.tfquery.hcl"), QUERIES).unwrap();
    let before = gets(&emu);
    let writes_before = emu.writes();
    let out = ws.ok(&["query", "-no-color"]);
    let found = results(&out);
    // Results come in the API's order, page by page: compared as sets.
    let names = |block: &str| {
        let mut names = found.get(block).cloned().unwrap_or_default();
        names.sort();
        names
    };

    let mut all_tokens = names("list.cfai_account_api_token.all");
    assert_eq!(
        all_tokens.len(),
        27,
        "25 seeded, the bring-your-own one and the minted one:\n{out}"
    );
    all_tokens.retain(|n| n.starts_with("seed-"));
    let expected: Vec<String> = (0..25).map(|i| format!("seed-{i:02}")).collect();
    assert_eq!(all_tokens, expected, "every seeded token:\n{out}");
    let seed_1x: Vec<String> = (10..20).map(|i| format!("seed-{i}")).collect();
    assert_eq!(
        names("list.cfai_account_api_token.seed_1x"),
        seed_1x,
        "{out}"
    );
    assert_eq!(
        names("list.cfai_account_api_token.first_five").len(),
        5,
        "{out}"
    );
    assert_eq!(
        names("list.cfai_user_api_token.all"),
        vec!["mine-0", "mine-1"],
        "{out}"
    );
    assert_eq!(
        names("list.cfai_ai_search_service_token.all"),
        vec!["byo-svc", "managed-svc"],
        "{out}"
    );
    assert_eq!(
        names("list.cfai_ai_search_namespace.all"),
        vec!["docs", "wiki"],
        "{out}"
    );
    assert_eq!(
        names("list.cfai_ai_search_instance.all"),
        vec!["default-kb", "docs-kb", "wiki-kb"],
        "{out}"
    );
    assert_eq!(
        names("list.cfai_ai_search_instance.wiki"),
        vec!["wiki-kb"],
        "{out}"
    );
    assert!(
        out.contains("account_id=") && out.contains("namespace=wiki"),
        "identities printed:\n{out}"
    );

    // A page per list block (per namespace for instances: 8), one listing
    // of the account's tokens to recognise the service tokens' minted ones,
    // the namespaces once, each owner's permission groups once: no request
    // per object.
    let after = gets(&emu);
    let spent: BTreeMap<&String, u64> = after
        .iter()
        .map(|(route, n)| (route, n - before.get(route).copied().unwrap_or(0)))
        .filter(|(_, n)| *n > 0)
        .collect();
    let total: u64 = spent.values().sum();
    assert!(
        total <= 14,
        "{total} GET requests to list 36 objects: {spent:#?}"
    );
    assert!(
        spent
            .keys()
            .all(|r| !r.contains("{token_id}") && !r.contains("{id}")),
        "an object was fetched one by one: {spent:#?}"
    );
    assert_eq!(emu.writes(), writes_before, "listing wrote to the API");

    // Configuration for all of it, which imports as is.
    std::fs::remove_file(ws.work_dir().join("find.tfquery.hcl")).unwrap();
    std::fs::write(ws.work_dir().join("generate.tfquery.hcl"), GENERATE).unwrap();
    ws.ok(&["query", "-no-color", "-generate-config-out=generated.tf"]);
    let generated = std::fs::read_to_string(ws.work_dir().join("generated.tf")).unwrap();
    assert!(
        generated.contains("\"Workers R2 Storage Read\""),
        "permission groups by name:\n{generated}"
    );
    for computed in [
        "secret_access_key",
        "access_key_id",
        "created_at",
        "modified_at",
    ] {
        assert!(
            !generated.contains(&format!("{computed} ")),
            "computed-only {computed} generated:\n{generated}"
        );
    }
    // Both service tokens are generated in their own mode.
    let managed = block_of(&generated, "\"managed-svc\"");
    assert!(
        !managed.contains("cf_api_id") && !managed.contains("permission_groups"),
        "the managed service token is written as managed mode:\n{managed}"
    );
    let byo = block_of(&generated, "\"byo-svc\"");
    assert!(byo.contains("cf_api_id"), "{byo}");
    ws.ok(&["validate", "-no-color"]);
    let (code, plan) = ws.plan_code();
    assert_eq!(code, 2, "{plan}");
    assert!(
        plan.contains("36 to import, 0 to add, 0 to change, 0 to destroy"),
        "{plan}"
    );
    let writes_before = emu.writes();
    ws.apply();
    assert_eq!(emu.writes(), writes_before, "importing wrote to the API");
    ws.assert_plan_empty();
}

/// The `resource` block of `generated` that contains `needle`.
fn block_of(generated: &str, needle: &str) -> String {
    generated
        .split("\nresource ")
        .find(|b| b.contains(needle) && b.contains('{'))
        .map(|b| b.split("\nimport ").next().unwrap_or(b).to_string())
        .unwrap_or_else(|| panic!("no block with {needle}:\n{generated}"))
}
