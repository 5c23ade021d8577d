#!/usr/bin/env bash
# Sparse answers, one property at a time (on demand; CI runs the
# all-at-once mode). For each operation the provider calls and each property
# the contract marks optional in its answer, the property tests
# (tests/plan_properties.rs: every resource, data source and ephemeral
# resource, with drifted states) run against an emulator that leaves out
# that one property. Each run must either pass, or fail with an error that
# names the field (`field`) as one the provider cannot do without; anything
# else is listed as a failure with its log under $OUT. A run whose property
# no answer of the run carried is counted apart, as not exercised.
#
#   bash scripts/sparse-each.sh            # every operation
#   bash scripts/sparse-each.sh "GET /accounts/{account_id}/tokens/{token_id}"
#
# CFAI_PROPERTY_CASES (default 2) sets the cases per property test;
# CFAI_SPARSE_EACH_TESTS (default "--test plan_properties") the tests run,
# e.g. "--test plan_properties --test acc_ai_search" to reach the instance
# settings only the acceptance tests configure (slower: terraform runs).
set -euo pipefail
cd "$(dirname "$0")/.."

OUT=${OUT:-target/sparse-each}
rm -rf "$OUT"
mkdir -p "$OUT"
cargo build --locked --bins -q
read -r -a tests <<<"${CFAI_SPARSE_EACH_TESTS:---test plan_properties}"
cargo test --locked --no-run -q "${tests[@]}" 2>/dev/null

# The operations the provider's client calls (src/cloudflare/).
operations=(
  "GET /accounts/{account_id}/tokens"
  "POST /accounts/{account_id}/tokens"
  "GET /accounts/{account_id}/tokens/{token_id}"
  "PUT /accounts/{account_id}/tokens/{token_id}"
  "PUT /accounts/{account_id}/tokens/{token_id}/value"
  "GET /accounts/{account_id}/tokens/permission_groups"
  "GET /accounts/{account_id}/ai-search/tokens"
  "POST /accounts/{account_id}/ai-search/tokens"
  "GET /accounts/{account_id}/ai-search/tokens/{id}"
  "PUT /accounts/{account_id}/ai-search/tokens/{id}"
  "GET /accounts/{account_id}/ai-search/namespaces"
  "POST /accounts/{account_id}/ai-search/namespaces"
  "GET /accounts/{account_id}/ai-search/namespaces/{name}"
  "PUT /accounts/{account_id}/ai-search/namespaces/{name}"
  "GET /accounts/{account_id}/ai-search/namespaces/{name}/instances"
  "POST /accounts/{account_id}/ai-search/namespaces/{name}/instances"
  "GET /accounts/{account_id}/ai-search/namespaces/{name}/instances/{id}"
  "PUT /accounts/{account_id}/ai-search/namespaces/{name}/instances/{id}"
  "GET /accounts/{account_id}/ai-search/namespaces/{name}/instances/{id}/stats"
  "POST /accounts/{account_id}/r2/temp-access-credentials"
)
if [ $# -gt 0 ]; then operations=("$@"); fi

passed=0 named=0 failed=0 unexercised=0
started=$(date +%s)
for op in "${operations[@]}"; do
  while IFS= read -r property; do
    [ -n "$property" ] || continue
    spec=$(printf '{"mode":"omit","operation":"%s","property":"%s"}' "$op" "$property")
    log="$OUT/$(printf '%s%s' "$op" "$property" | tr -c 'A-Za-z0-9_-' '_').log"
    omitted="$log.omitted"
    rm -f "$omitted"
    if CFAI_PROPERTY_CASES=${CFAI_PROPERTY_CASES:-2} CFAI_EMULATOR_ANSWERS="$spec" \
        CFAI_EMULATOR_OMITTED_LOG="$omitted" \
        cargo test --locked -q "${tests[@]}" -- --test-threads 2 >"$log" 2>&1; then
      if [ "$(awk '{s += $1} END {print s + 0}' "$omitted" 2>/dev/null || echo 0)" -eq 0 ]; then
        unexercised=$((unexercised + 1))
        echo "unexercised $op $property"
      else
        passed=$((passed + 1))
      fi
    else
      field=${property##*/}
      if grep -q "\`$field\`" "$log" && grep -q "cannot do without\|answered without" "$log"; then
        named=$((named + 1))
        echo "named  $op $property"
      else
        failed=$((failed + 1))
        echo "FAILED $op $property ($log)"
      fi
    fi
  done < <(target/debug/cfai-emulator --optional-properties "$op")
done
echo "one property at a time: $((passed + named + failed + unexercised)) runs in $(( $(date +%s) - started )) s:" \
  "$passed passed, $named failed naming the field, $failed failed otherwise," \
  "$unexercised not exercised (no answer in the run carried the property)"
[ "$failed" -eq 0 ]
