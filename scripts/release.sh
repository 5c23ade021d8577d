#!/usr/bin/env bash
# Writes the registry release assets for this platform into dist/<version>/:
#   terraform-provider-cfai_<version>_<os>_<arch>.zip  (the binary, named
#     terraform-provider-cfai_v<version>)
#   terraform-provider-cfai_<version>_manifest.json    (the registry manifest)
#   terraform-provider-cfai_<version>_SHA256SUMS       (every zip and the manifest)
#
#   bash scripts/release.sh [OUT_DIR]
#
# It refuses a version that is already released (its tag v<version>
# exists) or that CHANGELOG.md does not describe, and builds the release
# binary first, unless CFAI_BINARY names one. Tag the commit v<version>
# once the assets are published.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/platform.sh
version=$(crate_version)
out=${1:-dist/$version}

# A version is released once: its tag must not exist yet, and the
# changelog must have its dated section (not only [Unreleased]).
if git rev-parse -q --verify "refs/tags/v$version" >/dev/null 2>&1; then
  echo "release: v$version is already released (tag v$version exists); raise the version in Cargo.toml" >&2
  exit 1
fi
if ! grep -Eq "^## \[$(printf '%s' "$version" | sed 's/\./\\./g')\] - [0-9]{4}-[0-9]{2}-[0-9]{2}\$" CHANGELOG.md; then
  echo "release: CHANGELOG.md has no section \"## [$version] - YYYY-MM-DD\"; describe the release there first" >&2
  exit 1
fi
binary=${CFAI_BINARY:-}
if [ -z "$binary" ]; then
  echo "==> building terraform-provider-cfai $version (release)"
  cargo build --release --locked --bin terraform-provider-cfai
  binary="${CARGO_TARGET_DIR:-target}/release/terraform-provider-cfai"
fi
mkdir -p "$out"
name="terraform-provider-cfai_${version}"
zip="$out/${name}_$(platform).zip"
python3 - "$binary" "$zip" "terraform-provider-cfai_v$version" <<'PY'
import sys, zipfile
binary, out, inside = sys.argv[1:]
info = zipfile.ZipInfo(inside, date_time=(2026, 1, 1, 0, 0, 0))
info.external_attr = 0o755 << 16
info.compress_type = zipfile.ZIP_DEFLATED
with open(binary, "rb") as f, zipfile.ZipFile(out, "w") as z:
    z.writestr(info, f.read())
PY
cp terraform-registry-manifest.json "$out/${name}_manifest.json"
(
  cd "$out"
  sha256sum ./*.zip "${name}_manifest.json" | sed 's#  \./#  #' > "${name}_SHA256SUMS"
)
echo "==> release assets in $out:"
ls -1 "$out"
echo "==> once published: git tag v$version"
