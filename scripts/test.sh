#!/usr/bin/env bash
# `npm test`: every test, as CI runs it. Installs what is missing first (scripts/bootstrap.sh).
#   1. type check, 2. vitest (unit, embedded-ClickHouse and live-eBPF tests; eBPF tests skip with
#   the reason where the kernel or privileges do not allow them), 3. a production build and the
#   Playwright end-to-end tests in Debian's chromium.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf '\n[test] %s\n' "$*"; }

bash scripts/bootstrap.sh

say "type check"
npx tsc --noEmit

say "unit, storage and live-sensor tests (vitest)"
npx vitest run

say "production build"
npx next build >/dev/null

say "end-to-end tests (Playwright, Debian chromium)"
npx playwright test
