#!/usr/bin/env bash
# One command from a fresh clone to a first `terraform apply`, against the
# bundled Cloudflare API emulator (no Cloudflare account needed):
#
#   bash scripts/quickstart.sh        # build, start the emulator, apply
#   bash scripts/quickstart.sh down   # destroy everything, stop the emulator
#
# Needs Rust (cargo) and Terraform >= 1.10 on PATH (or TF_ACC_TERRAFORM_PATH).
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
state="$repo/.quickstart"
example="$repo/examples/quickstart"
account=0123456789abcdef0123456789abcdef
api_token=quickstart-token
target=${CARGO_TARGET_DIR:-$repo/target}

step() { printf '\n==> [%s/6] %s\n' "$1" "$2"; }

terraform_bin() {
  if [ -n "${TF_ACC_TERRAFORM_PATH:-}" ]; then echo "$TF_ACC_TERRAFORM_PATH"; return; fi
  command -v terraform || true
}
tf=$(terraform_bin)
if [ -z "$tf" ]; then
  echo "Terraform was not found. Install Terraform 1.10 or later (https://developer.hashicorp.com/terraform/install)" >&2
  echo "and put it on PATH (or set TF_ACC_TERRAFORM_PATH), then run this again." >&2
  exit 1
fi
if ! command -v cargo >/dev/null 2>&1; then
  echo "cargo was not found: install Rust (https://rustup.rs), then run this again." >&2
  exit 1
fi

run_tf() {
  (cd "$example" && TF_CLI_CONFIG_FILE="$state/cli.tfrc" TF_IN_AUTOMATION=1 CHECKPOINT_DISABLE=1 \
    CLOUDFLARE_API_TOKEN=$api_token CLOUDFLARE_ACCOUNT_ID=$account \
    CLOUDFLARE_BASE_URL="$(cat "$state/url")" TF_VAR_account_id=$account "$tf" "$@")
}

if [ "${1:-}" = "down" ]; then
  if [ -f "$state/url" ]; then
    echo "==> destroying what the quickstart created"
    run_tf destroy -auto-approve -no-color
    left=$({ grep -o '"id"' "$state/emulator.json" 2>/dev/null || true; } | wc -l | tr -d ' ')
    echo "    the emulator now holds $left objects"
  fi
  if [ -f "$state/emulator.pid" ]; then
    echo "==> stopping the emulator"
    kill "$(cat "$state/emulator.pid")" 2>/dev/null || true
  fi
  rm -rf "$state" "$example/.terraform" "$example/.terraform.lock.hcl" "$example"/terraform.tfstate*
  echo "==> done: nothing left running or stored"
  exit 0
fi

step 1 "building the provider and the emulator (the first build takes a few minutes)"
cargo build --locked --bin terraform-provider-cfai --bin cfai-emulator

step 2 "starting the Cloudflare API emulator on a free local port"
mkdir -p "$state"
if [ -f "$state/emulator.pid" ] && kill -0 "$(cat "$state/emulator.pid")" 2>/dev/null; then
  echo "    already running at $(cat "$state/url")"
else
  "$target/debug/cfai-emulator" --port 0 --token "$api_token" --account-id "$account" \
    --state-file "$state/emulator.json" > "$state/url.out" 2> "$state/emulator.log" &
  echo $! > "$state/emulator.pid"
  for _ in $(seq 100); do [ -s "$state/url.out" ] && break; sleep 0.1; done
  head -1 "$state/url.out" > "$state/url"
  echo "    listening at $(cat "$state/url")"
fi

step 3 "pointing Terraform at this build (a CLI configuration with dev_overrides)"
cat > "$state/cli.tfrc" <<CFG
provider_installation {
  dev_overrides {
    "seed/cfai" = "$target/debug"
  }
  direct {}
}
CFG
echo "    $state/cli.tfrc"

step 4 "terraform apply in examples/quickstart"
run_tf apply -auto-approve -no-color

step 5 "the outputs (secrets stay masked)"
run_tf output -no-color
echo "    reveal one (after the exports below): terraform output -raw secret_access_key"

step 6 "planning again: nothing should change"
run_tf plan -no-color | grep -E "No changes|will be|must be" || true

cat <<MSG

To keep using examples/quickstart with this emulator, in your shell:
  export TF_CLI_CONFIG_FILE=$state/cli.tfrc
  export CLOUDFLARE_API_TOKEN=$api_token CLOUDFLARE_ACCOUNT_ID=$account TF_VAR_account_id=$account
  export CLOUDFLARE_BASE_URL=$(cat "$state/url")
  cd examples/quickstart && terraform plan

To remove everything and stop the emulator:
  bash scripts/quickstart.sh down
MSG
