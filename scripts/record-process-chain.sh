#!/usr/bin/env bash
# Regenerates the recording that the cockpit serves where eBPF is unavailable and that the UI
# tests replay: the real sensor (root, eBPF) records `sh -c 'sh -c "exec sleep 1"'` run in a cgroup
# of its own, with --scope-cgroup so nothing else of this machine ends up in the file.
#   usage: sudo scripts/record-process-chain.sh [OUT]   (default e2e/fixtures/recordings/process-chain.socrec)
set -euo pipefail
cd "$(dirname "$0")/.."

out=${1:-e2e/fixtures/recordings/process-chain.socrec}
cgroup2=$(findmnt -t cgroup2 -n -o TARGET | head -n 1)
[ -n "$cgroup2" ] || { echo "no cgroup v2 hierarchy mounted" >&2; exit 1; }
scope=/soc-recording-$$
work=$(mktemp -d)
sensor_pid=""
cleanup() {
  [ -n "$sensor_pid" ] && kill "$sensor_pid" 2>/dev/null && wait "$sensor_pid" 2>/dev/null || true
  rmdir "$cgroup2$scope" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

mkdir "$cgroup2$scope"
npx tsx sensor/src/certs-cli.ts --out "$work/certs" >/dev/null
node_modules/.bin/tsx sensor/src/main.ts --listen localhost:0 --name recorder --scope-cgroup "$scope" --record "$work/rec.socrec" \
  --tls-ca "$work/certs/ca.crt" --tls-cert "$work/certs/sensor.crt" --tls-key "$work/certs/sensor.key" >"$work/sensor.log" 2>&1 &
sensor_pid=$!
for _ in $(seq 1 100); do grep -q '"sensor ready"' "$work/sensor.log" && break; sleep 0.1; done
grep -q '"sensor ready"' "$work/sensor.log" || { cat "$work/sensor.log" >&2; exit 1; }

# A mover shell puts itself into the scope, then execs the chain (so the chain's exec events carry
# the scope's cgroup). It runs from / so that no path of this machine appears in the recording.
(cd / && bash -c 'echo $$ > "$1/cgroup.procs"; shift; exec "$@"' mover "$cgroup2$scope" sh -c 'sh -c "exec sleep 1"')
sleep 0.5
kill -TERM "$sensor_pid"
wait "$sensor_pid" || { cat "$work/sensor.log" >&2; exit 1; }
sensor_pid=""
mkdir -p "$(dirname "$out")"
mv "$work/rec.socrec" "$out"
echo "recorded $(stat -c %s "$out") bytes to $out"
