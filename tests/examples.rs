//! The examples under examples/ apply cleanly against the emulator, come
//! back with an empty plan, and destroy.

mod support;

use std::path::Path;

use support::{provider_block, require_terraform, BackgroundEmulator, Workspace};

#[test]
fn examples_apply() {
    let Some(tf) = require_terraform() else {
        return;
    };
    let emu = BackgroundEmulator::start();
    emu.get().allow_minted_tokens(true);
    let mut ws = Workspace::new(tf);
    // The aliased provider of the ephemeral-token example takes the rest of
    // its settings from the environment, as a user's would.
    ws.env("CLOUDFLARE_BASE_URL", &emu.get().base_url)
        .env("CLOUDFLARE_ACCOUNT_ID", support::ACCOUNT);
    let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
    for file in [
        "resources/cfai_account_api_token/resource.tf",
        "data-sources/cfai_permission_groups/data-source.tf",
        "resources/cfai_ai_search_namespace/resource.tf",
        "resources/cfai_ai_search_service_token/resource.tf",
        "data-sources/cfai_ai_search_service_tokens/data-source.tf",
        "resources/cfai_ai_search_instance/resource.tf",
        "data-sources/cfai_ai_search_instance/data-source.tf",
        "ephemeral-resources/cfai_r2_temporary_credentials/ephemeral-resource.tf",
        "ephemeral-resources/cfai_r2_presigned_url/ephemeral-resource.tf",
        "ephemeral-resources/cfai_account_api_token/ephemeral-resource.tf",
        "functions/r2_bucket_resource/function.tf",
        "functions/r2_s3_endpoint/function.tf",
        "functions/s3_secret_access_key/function.tf",
    ] {
        let name = file.replace('/', "_");
        std::fs::copy(examples.join(file), ws.work_dir().join(name)).unwrap();
    }
    // The example provider block, pointed at the emulator.
    ws.write(&provider_block(&emu.get().base_url));
    let example_provider = std::fs::read_to_string(examples.join("provider/provider.tf")).unwrap();
    assert!(example_provider.contains("source = \"seed/cfai\""));

    ws.apply();
    let outputs = ws.json(&["output", "-json"]);
    let key_id = outputs["s3_access_key_id"]["value"].as_str().unwrap();
    assert_eq!(outputs["s3_secret_access_key"]["sensitive"], true);
    let secret = outputs["s3_secret_access_key"]["value"].as_str().unwrap();
    let value = emu.get().token_value(key_id).unwrap();
    assert_eq!(
        secret,
        hex::encode(<sha2::Sha256 as sha2::Digest>::digest(value.as_bytes()))
    );
    assert_eq!(
        outputs["bucket_groups"]["value"].as_array().unwrap().len(),
        2
    );
    assert!(outputs["r2_storage_ids"]["value"]["Workers R2 Storage Write"].is_string());
    assert_eq!(
        emu.get().dump()["namespaces"]["docs"]["description"],
        "Product documentation indexes"
    );
    assert_eq!(emu.get().dump()["ai_tokens"].as_object().unwrap().len(), 2);
    let dump = emu.get().dump();
    assert_eq!(
        dump["instances"]["default"]["docs-search"]["source"],
        "docs-bucket"
    );
    assert_eq!(
        dump["instances"]["docs"]["site-search"]["type"],
        "web-crawler"
    );
    assert_eq!(outputs["docs_indexed"]["value"], 0);
    assert_eq!(emu.get().temp_credentials().len(), 1);
    assert_eq!(
        outputs["eu_endpoint"]["value"],
        "https://0123456789abcdef0123456789abcdef.eu.r2.cloudflarestorage.com"
    );
    assert!(
        emu.get()
            .authenticated_by()
            .iter()
            .any(|(_, who)| who != "configured"),
        "the aliased provider used the run token"
    );
    assert!(outputs["service_token_id"]["value"].is_string());
    // The data source was read before the registrations existed; it sees
    // them on the next refresh.
    ws.apply();
    let outputs = ws.json(&["output", "-json"]);
    assert_eq!(
        outputs["dashboard_token_ids"]["value"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    ws.assert_plan_empty();
    ws.ok(&["destroy", "-auto-approve", "-no-color"]);
    assert_eq!(emu.get().dump()["tokens"].as_object().unwrap().len(), 0);
    assert!(emu.get().dump()["namespaces"].get("docs").is_none());
    assert_eq!(emu.get().dump()["ai_tokens"].as_object().unwrap().len(), 0);
}
