#!/usr/bin/env bash
# `npm run scenario`: the reference attack (io_uring exfiltration) on this machine, end to end —
# see e2e/scenario/run.ts for the steps and options (--record FILE regenerates the e2e recording).
# Installs what is missing first (scripts/bootstrap.sh); needs root and eBPF, and says why not
# when they are missing.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
exec node_modules/.bin/tsx e2e/scenario/run.ts "$@"
