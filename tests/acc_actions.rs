//! Actions through the real terraform (>= 1.14): an instance whose
//! creation triggers a sync that waits for its job to end; `apply -invoke`
//! running a second one once the cooldown between jobs has passed; a
//! timeout that names the job; a cache purge. None changes state: the
//! plan after each is empty.

mod support;

use support::Workspace;
use support::{client_supports, provider_block, require_terraform, BackgroundEmulator, Feature};

fn config(base: &str, timeout: &str) -> String {
    format!(
        r#"{provider}
locals {{
  kb = "kb"
}}

resource "cfai_ai_search_service_token" "search" {{
  name = "search"
}}

action "cfai_ai_search_sync" "reindex" {{
  config {{
    instance_id = local.kb
    timeout     = "{timeout}"
  }}
}}

action "cfai_ai_search_sync" "start_only" {{
  config {{
    instance_id = local.kb
    wait        = false
  }}
}}

action "cfai_ai_search_purge_cache" "purge" {{
  config {{
    instance_id = local.kb
  }}
}}

resource "cfai_ai_search_instance" "kb" {{
  id       = local.kb
  type     = "r2"
  source   = "docs-bucket"
  token_id = cfai_ai_search_service_token.search.id

  lifecycle {{
    action_trigger {{
      events  = [after_create]
      actions = [action.cfai_ai_search_sync.reindex]
    }}
  }}
}}
"#,
        provider = provider_block(base)
    )
}

fn ai_search(emu: &BackgroundEmulator, cooldown_ms: u64, job_ms: u64) {
    emu.get().set_ai_search(cfai::emulator::AiSearchConfig {
        sync_cooldown_ms: cooldown_ms,
        sync_job_ms: job_ms,
        ..Default::default()
    });
}

#[test]
fn sync_and_purge_actions_run_and_change_nothing() {
    let Some(tf) = require_terraform() else {
        return;
    };
    if !client_supports(
        "sync_and_purge_actions_run_and_change_nothing",
        Feature::Actions,
    ) {
        return;
    }
    let emu = BackgroundEmulator::start();
    ai_search(&emu, 4_000, 1_500);
    let ws = Workspace::new(tf);
    let base = emu.get().base_url.clone();
    ws.write(&config(&base, "2m"));

    // Creation triggers one sync, followed to its end.
    let out = ws.apply();
    assert!(out.contains("Actions: 1 invoked"), "{out}");
    assert_eq!(emu.get().sync_jobs("default", "kb"), 1, "{out}");
    let job_started = out
        .lines()
        .find_map(|l| l.split("Sync job ").nth(1)?.split(' ').next())
        .expect("the job id is told")
        .to_string();
    assert!(
        out.contains(&format!("{job_started}: Sync started")),
        "log lines as progress:\n{out}"
    );
    assert!(
        out.contains(&format!("{job_started}: Sync completed")),
        "{out}"
    );
    assert!(
        out.contains(&format!("Sync job {job_started} ended: completed")),
        "{out}"
    );
    let logs_read = emu
        .get()
        .count("GET /accounts/{account_id}/ai-search/instances/{id}/jobs/{job_id}");
    assert!(logs_read >= 1, "the job was followed");
    ws.assert_plan_empty();

    // At once again, inside the cooldown: it waits, then runs.
    let out = ws.ok(&[
        "apply",
        "-auto-approve",
        "-no-color",
        "-invoke=action.cfai_ai_search_sync.reindex",
    ]);
    assert!(out.contains("cooldown"), "the wait is told:\n{out}");
    assert!(out.contains("ended: completed"), "{out}");
    assert_eq!(emu.get().sync_jobs("default", "kb"), 2, "{out}");
    ws.assert_plan_empty();

    // Without waiting: started, not followed.
    ai_search(&emu, 0, 60_000);
    let followed = emu
        .get()
        .count("GET /accounts/{account_id}/ai-search/instances/{id}/jobs/{job_id}");
    let out = ws.ok(&[
        "apply",
        "-auto-approve",
        "-no-color",
        "-invoke=action.cfai_ai_search_sync.start_only",
    ]);
    assert!(out.contains("started"), "{out}");
    assert!(!out.contains("ended"), "{out}");
    assert_eq!(
        emu.get()
            .count("GET /accounts/{account_id}/ai-search/instances/{id}/jobs/{job_id}"),
        followed
    );

    // A job that outlasts the timeout: the action fails, naming it.
    ws.write(&config(&base, "2s"));
    let out = ws.fails(&[
        "apply",
        "-auto-approve",
        "-no-color",
        "-invoke=action.cfai_ai_search_sync.reindex",
    ]);
    assert!(out.contains("did not end in time"), "{out}");
    let last_job = out
        .lines()
        .find_map(|l| l.split("Sync job ").nth(1)?.split(' ').next())
        .expect("the job id is told")
        .to_string();
    assert!(
        out.contains(&format!(
            "Sync job {last_job} of AI Search instance default/kb had not ended"
        )),
        "{out}"
    );

    // The cache purge.
    ws.write(&config(&base, "2m"));
    let out = ws.ok(&[
        "apply",
        "-auto-approve",
        "-no-color",
        "-invoke=action.cfai_ai_search_purge_cache.purge",
    ]);
    assert!(
        out.contains("Purged the search cache of default/kb"),
        "{out}"
    );
    assert_eq!(emu.get().cache_purges("default", "kb"), 1);
    ws.assert_plan_empty();

    // Nothing of it touched the instance.
    for write in ["PUT", "PATCH", "DELETE"] {
        let touched: u64 = emu
            .get()
            .counts()
            .iter()
            .filter(|(route, _)| route.starts_with(write) && route.contains("/instances/"))
            .map(|(_, n)| n)
            .sum();
        assert_eq!(touched, 0, "{write} on the instance");
    }
}
