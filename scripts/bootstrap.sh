#!/usr/bin/env bash
# Installs what the cockpit needs on a fresh Debian 12 machine, and does nothing when it is there:
#   1. Debian packages (only when missing; only as root — otherwise it says what to install),
#   2. npm dependencies (`npm install`, re-run only when package.json / the lock file changed),
#   3. the sensor's eBPF object and Node addon (make, incremental).
# Called by `npm start` and `npm test`; safe to run any number of times.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf '[bootstrap] %s\n' "$*"; }

# Build tools for the eBPF programs and the addon, liburing for the io_uring test programs,
# chromium for end-to-end tests, openssl for the local CA, golang-go for the code-fingerprint tests
# (a real Go binary to classify; rustc, when installed, is used too).
DEBIAN_PACKAGES=(clang llvm libbpf-dev bpftool libelf-dev zlib1g-dev liburing-dev pkg-config make g++ openssl chromium golang-go)

missing=()
for pkg in "${DEBIAN_PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$pkg")
  fi
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -eq 0 ]; then
    say "installing Debian packages: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y --no-install-recommends "${missing[@]}" >/dev/null 2>&1 || {
      apt-get update >/dev/null
      apt-get install -y --no-install-recommends "${missing[@]}" >/dev/null
    }
  else
    say "missing Debian packages (run as root, or: sudo apt-get install -y ${missing[*]}): the sensor build and browser tests need them"
  fi
fi

# npm dependencies: `npm install`, not `npm ci` (the registry mirror lacks other platforms'
# optional binaries named in the lock file). Skipped when the inputs did not change.
mkdir -p .bootstrap
npm_stamp=$(cat package.json package-lock.json 2>/dev/null | sha256sum | cut -d' ' -f1)
if [ ! -d node_modules ] || [ "$(cat .bootstrap/npm.stamp 2>/dev/null)" != "$npm_stamp" ]; then
  say "installing npm dependencies"
  npm install --no-audit --no-fund --loglevel=error
  echo "$npm_stamp" > .bootstrap/npm.stamp
fi

# The sensor: eBPF object + addon. Needs clang/libbpf; without them the cockpit still runs (on a
# recording) and eBPF tests skip with the reason.
if command -v clang >/dev/null && [ -f /usr/include/bpf/libbpf.h ]; then
  make -s -C sensor
else
  say "clang/libbpf not available: the sensor cannot be built here (the cockpit will serve the bundled recording)"
fi
