# Terraform's name for this machine's platform, e.g. linux_amd64.
platform() {
  local os arch
  case "$(uname -s)" in
    Linux) os=linux ;;
    Darwin) os=darwin ;;
    FreeBSD) os=freebsd ;;
    *) os=$(uname -s | tr '[:upper:]' '[:lower:]') ;;
  esac
  case "$(uname -m)" in
    x86_64 | amd64) arch=amd64 ;;
    aarch64 | arm64) arch=arm64 ;;
    armv7l | armv6l) arch=arm ;;
    i386 | i686) arch=386 ;;
    *) arch=$(uname -m) ;;
  esac
  echo "${os}_${arch}"
}

# The crate's version, from Cargo.toml.
crate_version() {
  sed -n 's/^version = "\(.*\)"/\1/p' "$(dirname "${BASH_SOURCE[0]}")/../Cargo.toml" | head -1
}
