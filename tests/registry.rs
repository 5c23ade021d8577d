//! Every registered type is complete: a typed model that has exactly its
//! schema's attributes, an example, a docs page, and plan-validity property
//! coverage. A type added to the provider without one of them fails here,
//! by name, rather than being found missing by a user.

use std::path::Path;

use cfai::framework::ProviderDef;
use cfai::provider::CfaiProvider;

/// Which property test covers each type (in `tests/plan_properties.rs`).
/// A registered type missing here fails the test; so does a test named
/// here that the file lacks.
const PROPERTY_TESTS: &[(&str, &str)] = &[
    (
        "list resource cfai_account_api_token",
        "list_results_equal_the_resources_read",
    ),
    (
        "list resource cfai_user_api_token",
        "list_results_equal_the_resources_read",
    ),
    (
        "list resource cfai_ai_search_namespace",
        "list_results_equal_the_resources_read",
    ),
    (
        "list resource cfai_ai_search_service_token",
        "list_results_equal_the_resources_read",
    ),
    (
        "list resource cfai_ai_search_instance",
        "list_results_equal_the_resources_read",
    ),
    (
        "resource cfai_account_api_token",
        "account_api_token_plans_validly_with_unknowns_and_nulls_everywhere",
    ),
    (
        "resource cfai_user_api_token",
        "user_api_token_plans_validly_with_unknowns_and_nulls_everywhere",
    ),
    (
        "resource cfai_ai_search_namespace",
        "ai_search_namespace_plans_validly",
    ),
    (
        "resource cfai_ai_search_service_token",
        "ai_search_service_token_managed_plans_validly",
    ),
    (
        "resource cfai_ai_search_instance",
        "ai_search_instance_plans_validly",
    ),
    (
        "data source cfai_permission_groups",
        "permission_groups_data_source_reads_validly",
    ),
    (
        "data source cfai_ai_search_service_tokens",
        "ai_search_service_tokens_data_source_reads_validly",
    ),
    (
        "data source cfai_ai_search_instance",
        "ai_search_instance_data_source_reads_validly",
    ),
    (
        "ephemeral resource cfai_account_api_token",
        "ephemeral_resources_open_validly_and_close",
    ),
    (
        "ephemeral resource cfai_user_api_token",
        "ephemeral_resources_open_validly_and_close",
    ),
    (
        "ephemeral resource cfai_r2_temporary_credentials",
        "ephemeral_resources_open_validly_and_close",
    ),
    (
        "ephemeral resource cfai_r2_presigned_url",
        "ephemeral_resources_open_validly_and_close",
    ),
];

struct Registered {
    kind: &'static str,
    dir: &'static str,
    example: &'static str,
    name: String,
    model: Result<(), String>,
}

fn registered() -> Vec<Registered> {
    let p = CfaiProvider;
    let mut all = Vec::new();
    for r in p.resources() {
        all.push(Registered {
            kind: "resource",
            dir: "resources",
            example: "resource.tf",
            name: r.type_name().to_string(),
            model: r.check_model(),
        });
    }
    for r in p.resources().iter().filter(|r| r.list_schema().is_some()) {
        all.push(Registered {
            kind: "list resource",
            dir: "list-resources",
            example: "list-resource.tfquery.hcl",
            name: r.type_name().to_string(),
            model: Ok(()),
        });
    }
    for d in p.data_sources() {
        all.push(Registered {
            kind: "data source",
            dir: "data-sources",
            example: "data-source.tf",
            name: d.type_name().to_string(),
            model: d.check_model(),
        });
    }
    for e in p.ephemeral_resources() {
        all.push(Registered {
            kind: "ephemeral resource",
            dir: "ephemeral-resources",
            example: "ephemeral-resource.tf",
            name: e.type_name().to_string(),
            model: e.check_model(),
        });
    }
    all
}

#[test]
fn every_registered_type_has_a_model_an_example_docs_and_property_coverage() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let properties = std::fs::read_to_string(root.join("tests/plan_properties.rs"))
        .expect("tests/plan_properties.rs");
    let mut missing = Vec::new();
    let types = registered();
    assert!(types.len() >= 10, "the provider registers its types");
    for t in &types {
        let who = format!("{} {}", t.kind, t.name);
        if let Err(e) = &t.model {
            missing.push(format!("{who}: typed model: {e}"));
        }
        let example = root
            .join("examples")
            .join(t.dir)
            .join(&t.name)
            .join(t.example);
        if !example.is_file() {
            missing.push(format!("{who}: no example at {}", example.display()));
        }
        let short = t.name.trim_start_matches("cfai_");
        let page = root.join("docs").join(t.dir).join(format!("{short}.md"));
        if !page.is_file() {
            missing.push(format!(
                "{who}: no docs page at {} (run `cargo run --bin cfai-docs`)",
                page.display()
            ));
        }
        match PROPERTY_TESTS.iter().find(|(name, _)| *name == who) {
            None => missing.push(format!(
                "{who}: no plan-validity property test (add one to tests/plan_properties.rs and name it in PROPERTY_TESTS)"
            )),
            Some((_, test)) if !properties.contains(&format!("async fn {test}(")) => {
                missing.push(format!("{who}: property test {test} is not in tests/plan_properties.rs"))
            }
            Some(_) => {}
        }
    }
    for (name, _) in PROPERTY_TESTS {
        if !types
            .iter()
            .any(|t| format!("{} {}", t.kind, t.name) == *name)
        {
            missing.push(format!(
                "{name}: named in PROPERTY_TESTS but not registered"
            ));
        }
    }
    assert!(
        missing.is_empty(),
        "incomplete types:\n{}",
        missing.join("\n")
    );
}

/// Every action has its example and its docs page.
#[test]
fn every_action_has_an_example_and_docs() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let actions = CfaiProvider.actions();
    assert_eq!(actions.len(), 2, "the provider registers its actions");
    for a in actions {
        let name = a.type_name();
        let example = root.join("examples/actions").join(name).join("action.tf");
        assert!(
            example.is_file(),
            "action {name}: no example at {}",
            example.display()
        );
        let page = root
            .join("docs/actions")
            .join(format!("{}.md", name.trim_start_matches("cfai_")));
        assert!(
            page.is_file(),
            "action {name}: no docs page at {} (run `cargo run --bin cfai-docs`)",
            page.display()
        );
    }
}

/// The API fields each resource declares, held to the Cloudflare contract:
/// what is sent at create is in the create request, what is sent on update
/// in the update request, what only updates may send is refused at create,
/// and every field read is one the answers carry.
#[test]
fn declared_api_fields_are_the_contracts() {
    use cfai::emulator::sparse::{answer_properties, request_properties};
    use cfai::framework::{Phase, Sent};

    struct Routes {
        type_name: &'static str,
        create: &'static str,
        update: &'static str,
        reads: &'static [&'static str],
    }
    let routes = [
        Routes {
            type_name: "cfai_ai_search_instance",
            create: "POST /accounts/{account_id}/ai-search/namespaces/{name}/instances",
            update: "PUT /accounts/{account_id}/ai-search/namespaces/{name}/instances/{id}",
            reads: &[
                "GET /accounts/{account_id}/ai-search/namespaces/{name}/instances/{id}",
                "GET /accounts/{account_id}/ai-search/namespaces/{name}/instances",
            ],
        },
        Routes {
            type_name: "cfai_ai_search_namespace",
            create: "POST /accounts/{account_id}/ai-search/namespaces",
            update: "PUT /accounts/{account_id}/ai-search/namespaces/{name}",
            reads: &[
                "GET /accounts/{account_id}/ai-search/namespaces/{name}",
                "GET /accounts/{account_id}/ai-search/namespaces",
            ],
        },
        Routes {
            type_name: "cfai_ai_search_service_token",
            create: "POST /accounts/{account_id}/ai-search/tokens",
            update: "PUT /accounts/{account_id}/ai-search/tokens/{id}",
            reads: &["GET /accounts/{account_id}/ai-search/tokens/{id}"],
        },
    ];
    let mut wrong = Vec::new();
    let mut checked = 0;
    for route in &routes {
        let schema = CfaiProvider
            .resources()
            .into_iter()
            .find(|r| r.type_name() == route.type_name)
            .map(|r| r.schema())
            .expect("registered");
        let (create, update) = (
            request_properties(route.create),
            request_properties(route.update),
        );
        assert!(!create.is_empty() && !update.is_empty(), "{}", route.create);
        let read: Vec<String> = route
            .reads
            .iter()
            .flat_map(|op| answer_properties(op))
            .collect();
        for attr in &schema.attributes {
            let Some(field) = &attr.api else { continue };
            checked += 1;
            let who = format!(
                "{}.{} (API field {})",
                route.type_name, attr.name, field.name
            );
            let name = &field.name;
            if field.sent_on(Phase::Create) && !create.contains(name) {
                wrong.push(format!("{who}: sent at create, not in {}", route.create));
            }
            if field.sent_on(Phase::Update) && !update.contains(name) {
                wrong.push(format!("{who}: sent on update, not in {}", route.update));
            }
            if field.sent == Sent::OnUpdate && create.contains(name) {
                wrong.push(format!(
                    "{who}: declared update-only, but the create request takes it"
                ));
            }
            if field.sent == Sent::Always && !create.contains(name) {
                wrong.push(format!(
                    "{who}: declared sent always, but the create request lacks it"
                ));
            }
            if !read.contains(name) {
                wrong.push(format!("{who}: read from answers that never carry it"));
            }
        }
        // Whatever the update request takes and create refuses must be
        // declared update-only, or create would send what the API refuses.
        for only in update.iter().filter(|p| !create.contains(p)) {
            let declared = schema
                .attributes
                .iter()
                .find(|a| a.api.as_ref().is_some_and(|f| &f.name == only));
            if let Some(attr) = declared {
                let sent = attr.api.as_ref().map(|f| f.sent);
                if sent != Some(Sent::OnUpdate) && sent != Some(Sent::Never) {
                    wrong.push(format!(
                        "{}.{}: the API takes it only on update; declared {sent:?}",
                        route.type_name, attr.name
                    ));
                }
            }
        }
    }
    assert!(checked > 30, "only {checked} declared fields");
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}
