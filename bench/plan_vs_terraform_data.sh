#!/usr/bin/env bash
# On-demand benchmark (not run by CI): how much a cfai resource costs in a
# refresh+plan, relative to Terraform's built-in terraform_data, measured in
# the same run on the same machine (so the ratio, not the time, is the figure).
#
#   cargo build --release && bash bench/plan_vs_terraform_data.sh [N] [ROUNDS]
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-50}
ROUNDS=${2:-5}
TF=${TF_ACC_TERRAFORM_PATH:-$(command -v terraform || echo ../shared/bin/terraform)}
BIN=target/release
[ -x "$BIN/terraform-provider-cfai" ] || { echo "build first: cargo build --release" >&2; exit 1; }

work=$(mktemp -d)
trap 'kill "${emu_pid:-0}" 2>/dev/null || true; rm -rf "$work"' EXIT
ACCOUNT=0123456789abcdef0123456789abcdef
"$BIN/cfai-emulator" --port 0 --token bench-token --account-id $ACCOUNT > "$work/emu.url" 2>/dev/null &
emu_pid=$!
for _ in $(seq 50); do [ -s "$work/emu.url" ] && break; sleep 0.1; done
BASE=$(head -1 "$work/emu.url")

cat > "$work/cli.tfrc" <<CFG
provider_installation {
  dev_overrides { "seed/cfai" = "$PWD/$BIN" }
  direct {}
}
CFG
export TF_CLI_CONFIG_FILE="$work/cli.tfrc" TF_IN_AUTOMATION=1 CHECKPOINT_DISABLE=1

mkdir "$work/data" "$work/cfai"
for i in $(seq "$N"); do
  echo "resource \"terraform_data\" \"d$i\" { input = \"v$i\" }" >> "$work/data/main.tf"
done
cat > "$work/cfai/main.tf" <<HCL
terraform {
  required_providers {
    cfai = { source = "seed/cfai" }
  }
}
provider "cfai" {
  api_token  = "bench-token"
  account_id = "$ACCOUNT"
  base_url   = "$BASE"
}
HCL
for i in $(seq "$N"); do
  cat >> "$work/cfai/main.tf" <<HCL
resource "cfai_account_api_token" "t$i" {
  name = "bench-$i"
  policies = [{
    permission_groups = ["Workers R2 Storage Read"]
    resources         = { "com.cloudflare.api.account.$ACCOUNT" = "*" }
  }]
}
HCL
done

(cd "$work/data" && "$TF" init -input=false >/dev/null && "$TF" apply -auto-approve >/dev/null)
(cd "$work/cfai" && "$TF" apply -auto-approve >/dev/null 2>&1)

ms() { date +%s%3N; }
total_data=0; total_cfai=0
for r in $(seq "$ROUNDS"); do
  t0=$(ms); (cd "$work/data" && "$TF" plan -detailed-exitcode >/dev/null 2>&1); t1=$(ms)
  (cd "$work/cfai" && "$TF" plan -detailed-exitcode >/dev/null 2>&1) || { echo "cfai plan not empty" >&2; exit 1; }
  t2=$(ms)
  total_data=$((total_data + t1 - t0)); total_cfai=$((total_cfai + t2 - t1))
  echo "round $r: terraform_data ${N}x $((t1 - t0)) ms, cfai_account_api_token ${N}x $((t2 - t1)) ms"
done
awk -v d="$total_data" -v c="$total_cfai" -v n="$N" \
  'BEGIN { printf "refresh+plan of %d resources, cfai / terraform_data: %.2fx\n", n, c / d }'
