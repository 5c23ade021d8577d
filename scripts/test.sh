#!/usr/bin/env bash
# The whole test suite, as CI runs it:
#   1. `cargo test --locked`: everything (unit, property, transport and the
#      terraform-driven acceptance tests) under Terraform 1.11.4
#      (../shared/bin/terraform, or TF_ACC_TERRAFORM_PATH / PATH);
#   2. the acceptance and property tests again against an emulator that
#      answers as a newer API would (CFAI_EMULATOR_ANSWERS=extended), and
#      against one that leaves out every property the contract marks
#      optional (CFAI_EMULATOR_ANSWERS=sparse; one property at a time is
#      scripts/sparse-each.sh, on demand);
#   3. the acceptance tests again under Terraform 1.14.9 and OpenTofu 1.6.2,
#      installed by scripts/install-clients.sh into a cache outside the
#      clone. Features a client lacks are skipped by name ("SKIPPED ...").
# CFAI_CLIENTS=none runs steps 1 and 2 alone.
set -euo pipefail
cd "$(dirname "$0")/.."

client_line() { "$1" version 2>/dev/null | head -n1; }

echo "=== client: $(client_line "${TF_ACC_TERRAFORM_PATH:-$(command -v terraform || echo ../shared/bin/terraform)}") (whole suite)"
cargo test --locked

echo "=== emulator answering as a newer API would (unknown properties, an unlisted status): acceptance and property tests"
CFAI_EMULATOR_ANSWERS=extended cargo test --locked \
  --test acc_account_api_token --test acc_user_api_token --test acc_ai_search --test acc_ephemeral \
  --test acc_plan_validity --test plan_properties --test batched_refresh

echo "=== emulator leaving out every property the contract marks optional: acceptance and property tests"
CFAI_EMULATOR_ANSWERS=sparse cargo test --locked \
  --test acc_account_api_token --test acc_user_api_token --test acc_ai_search --test acc_ephemeral \
  --test acc_plan_validity --test plan_properties --test batched_refresh \
  --test contract

if [ "${CFAI_CLIENTS:-all}" = "none" ]; then
  exit 0
fi
eval "$(bash scripts/install-clients.sh)"
for client in terraform-1.14 tofu-1.6; do
  case "$client" in
    terraform-1.14) bin="$CFAI_TERRAFORM_1_14" ;;
    tofu-1.6) bin="$CFAI_TOFU_1_6" ;;
  esac
  echo "=== client: $(client_line "$bin") (acceptance: tokens, AI Search, import, identity, query, generated configuration, actions, write-only, functions, ephemeral, plan validity)"
  CFAI_TEST_CLIENT="$client" cargo test --locked \
    --test acc_account_api_token --test acc_user_api_token --test acc_ai_search --test acc_ephemeral \
    --test acc_plan_validity --test acc_identity --test acc_query --test acc_generate_config --test acc_actions --test plugin_core
done
echo "=== client: $(client_line "$CFAI_TERRAFORM_1_14") (list-resource examples queried, action examples invoked, in place)"
CFAI_TEST_CLIENT=terraform-1.14 cargo test --locked --test examples -- \
  every_list_resource_example_queries_in_place every_action_example_applies_and_invokes_in_place
