#!/usr/bin/env bash
# `npm start`: brings up the cockpit at http://localhost:3000 with embedded storage (chDB under
# ./data) and the local node sensor. Where eBPF cannot load, the sensor says why and the cockpit
# serves the bundled recording (made by the real sensor) instead.
#
# Environment (all optional): PORT (3000), SENSOR_PORT (50051), CHDB_PATH (./data/chdb),
# CERTS_DIR (./certs), SENSOR_RECORDING (the recording to serve without eBPF).
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf '[start] %s\n' "$*"; }

bash scripts/bootstrap.sh

PORT=${PORT:-3000}
SENSOR_PORT=${SENSOR_PORT:-50051}
CERTS_DIR=${CERTS_DIR:-certs}
RECORDING=${SENSOR_RECORDING:-e2e/fixtures/recordings/process-chain.socrec}
export CHDB_PATH=${CHDB_PATH:-data/chdb}
mkdir -p data/logs

# Local CA and certificates for cockpit ↔ sensor mTLS (kept when already there).
npx tsx sensor/src/certs-cli.ts --out "$CERTS_DIR" >/dev/null

# Rebuild the web app when a source file is newer than the last build.
DIST_DIR=${NEXT_DIST_DIR:-.next}
if [ ! -f "$DIST_DIR/BUILD_ID" ] || [ -n "$(find app components server db sensor/gen next.config.ts package.json -newer "$DIST_DIR/BUILD_ID" -type f -print -quit 2>/dev/null)" ]; then
  say "building the cockpit (next build)"
  npx next build >data/logs/build.log 2>&1 || { cat data/logs/build.log; exit 1; }
fi

sensor_args=(--listen "localhost:$SENSOR_PORT" --name "$(hostname)" \
  --tls-ca "$CERTS_DIR/ca.crt" --tls-cert "$CERTS_DIR/sensor.crt" --tls-key "$CERTS_DIR/sensor.key")

run_as_root=()
[ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null && sudo -n true 2>/dev/null && run_as_root=(sudo -n -E)

sensor_pid=""
cleanup() { [ -n "$sensor_pid" ] && kill "$sensor_pid" 2>/dev/null; wait 2>/dev/null || true; }
trap cleanup EXIT INT TERM

say "starting the node sensor (live eBPF) on localhost:$SENSOR_PORT"
"${run_as_root[@]}" npx tsx sensor/src/main.ts "${sensor_args[@]}" >>data/logs/sensor.log 2>&1 &
sensor_pid=$!
sleep 3
if ! kill -0 "$sensor_pid" 2>/dev/null; then
  wait "$sensor_pid" || true
  say "the live sensor could not start here:"
  tail -n 5 data/logs/sensor.log | sed 's/^/    /'
  say "serving the bundled recording instead (made by the real sensor): $RECORDING"
  npx tsx sensor/src/main.ts "${sensor_args[@]}" --name recording --replay "$RECORDING" --shift-to-now >>data/logs/sensor.log 2>&1 &
  sensor_pid=$!
  sensor_name=recording
else
  sensor_name=$(hostname)
fi

export SENSORS="$sensor_name=localhost:$SENSOR_PORT"
export COCKPIT_TLS_CA="$CERTS_DIR/ca.crt" COCKPIT_TLS_CERT="$CERTS_DIR/cockpit.crt" COCKPIT_TLS_KEY="$CERTS_DIR/cockpit.key"
say "cockpit on http://localhost:$PORT (sensor logs: data/logs/sensor.log; Ctrl-C stops both)"
npx next start -p "$PORT"
