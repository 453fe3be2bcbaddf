// The reference attack's VICTIM: a small JavaScript HTTP service (an "inventory" API) — a test
// artefact. It serves a few routes from a JSON file and, after an "upgrade" (a new release that
// ships a native module for "fast hashing"), loads that module. The module is the implant
// (../implant/implant.c): from then on the process reads a service-account token through io_uring
// and beacons it to a command-and-control listener.
//
//   VICTIM_PORT         port to listen on (127.0.0.1)
//   VICTIM_DATA         JSON file with the inventory
//   VICTIM_RELEASE      "1.0" (clean) or "1.1" (loads VICTIM_NATIVE_MODULE at start)
//   VICTIM_NATIVE_MODULE path of the .node file release 1.1 ships
// POST /admin/upgrade switches a running 1.0 to 1.1 in place (hot plugin load), for scenarios
// that keep the same process.
import fs from 'node:fs';
import http from 'node:http';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const port = Number(process.env.VICTIM_PORT ?? 8080);
const dataFile = process.env.VICTIM_DATA;
let release = process.env.VICTIM_RELEASE ?? '1.0';
let nativeHash = null;

function loadRelease11() {
  // "fast hashing" native module of release 1.1: what the malicious update really ships.
  nativeHash = require(process.env.VICTIM_NATIVE_MODULE);
  release = '1.1';
}
if (release === '1.1') loadRelease11();

function readInventory() {
  return JSON.parse(fs.readFileSync(dataFile, 'utf8'));
}

const server = http.createServer((req, res) => {
  const send = (status, body) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };
  if (req.method === 'GET' && req.url === '/healthz') return send(200, { ok: true, release });
  if (req.method === 'GET' && req.url === '/api/items') return send(200, readInventory());
  if (req.method === 'GET' && req.url?.startsWith('/api/items/')) {
    const item = readInventory().find((i) => i.id === req.url.slice('/api/items/'.length));
    return item ? send(200, item) : send(404, { error: 'no such item' });
  }
  if (req.method === 'POST' && req.url === '/admin/upgrade') {
    if (release !== '1.1') loadRelease11();
    return send(200, { release, beacons: nativeHash?.status() ?? 0 });
  }
  if (req.method === 'GET' && req.url === '/admin/status') return send(200, { release, beacons: nativeHash?.status() ?? 0 });
  send(404, { error: 'not found' });
});
server.listen(port, '127.0.0.1', () => console.log(JSON.stringify({ msg: 'victim listening', port, release, pid: process.pid })));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
