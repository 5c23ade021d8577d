#!/usr/bin/env bash
# Installs the provider into Terraform's implied local mirror for this
# platform, so that a plain `terraform init` with source = "seed/cfai" finds
# it (no dev_overrides):
#
#   bash scripts/install-local.sh
#
# It builds the release binary first, unless CFAI_BINARY names one.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/platform.sh
version=$(crate_version)
binary=${CFAI_BINARY:-}
if [ -z "$binary" ]; then
  echo "==> building terraform-provider-cfai $version (release)"
  cargo build --release --locked --bin terraform-provider-cfai
  binary="${CARGO_TARGET_DIR:-target}/release/terraform-provider-cfai"
fi
mirror=${TF_PLUGIN_MIRROR:-$HOME/.terraform.d/plugins}
dir="$mirror/registry.terraform.io/seed/cfai/$version/$(platform)"
mkdir -p "$dir"
install -m 0755 "$binary" "$dir/terraform-provider-cfai_v$version"
echo "==> installed $dir/terraform-provider-cfai_v$version"
echo "    terraform init now finds seed/cfai $version (remove dev_overrides for it, if any)."
