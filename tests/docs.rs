//! The committed `docs/` are what the generator makes from the schemas and
//! `examples/` now: a stale page fails here, naming the command to run.

use std::collections::BTreeMap;
use std::path::Path;

fn committed(dir: &Path, base: &Path, out: &mut BTreeMap<String, String>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            committed(&path, base, out);
        } else {
            let rel = path
                .strip_prefix(base)
                .unwrap()
                .to_string_lossy()
                .replace('\\', "/");
            out.insert(rel, std::fs::read_to_string(&path).unwrap());
        }
    }
}

#[test]
fn committed_docs_match_the_generator() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let expected = cfai::docs::pages(&root.join("examples"));
    let mut actual = BTreeMap::new();
    committed(&root.join("docs"), &root.join("docs"), &mut actual);
    let stale: Vec<&String> = expected
        .keys()
        .chain(actual.keys())
        .filter(|k| expected.get(*k) != actual.get(*k))
        .collect();
    assert!(
        stale.is_empty(),
        "docs/ is out of date ({stale:?}): regenerate it with `cargo run --bin cfai-docs` and commit the result"
    );
}

#[test]
fn every_type_and_function_has_a_page_with_an_example() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let pages = cfai::docs::pages(&root.join("examples"));
    assert!(pages.contains_key("index.md"));
    for (name, page) in &pages {
        assert!(page.contains("## Example Usage"), "{name} has no example");
        assert!(page.starts_with("---\npage_title: "), "{name}");
    }
    for expected in [
        "resources/account_api_token.md",
        "resources/user_api_token.md",
        "resources/ai_search_service_token.md",
        "resources/ai_search_namespace.md",
        "resources/ai_search_instance.md",
        "data-sources/permission_groups.md",
        "data-sources/ai_search_service_tokens.md",
        "data-sources/ai_search_instance.md",
        "ephemeral-resources/account_api_token.md",
        "ephemeral-resources/user_api_token.md",
        "ephemeral-resources/r2_temporary_credentials.md",
        "ephemeral-resources/r2_presigned_url.md",
        "functions/r2_bucket_resource.md",
        "functions/r2_s3_endpoint.md",
        "functions/s3_secret_access_key.md",
    ] {
        assert!(pages.contains_key(expected), "{expected} missing");
    }
    let token = &pages["resources/account_api_token.md"];
    assert!(
        token.contains("## Import"),
        "import.sh becomes the Import section"
    );
    assert!(token.contains("<a id=\"nestedatt--policies\"></a>"));
    assert!(token.contains("### Nested Schema for `condition.request_ip`"));
}
