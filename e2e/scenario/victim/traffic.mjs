// Steady, boring traffic for the victim (what its baseline learns): a request every
// TRAFFIC_INTERVAL_MS (default 200 ms) to a rotating set of routes.
import http from 'node:http';

const port = Number(process.env.VICTIM_PORT ?? 8080);
const interval = Number(process.env.TRAFFIC_INTERVAL_MS ?? 200);
const routes = ['/healthz', '/api/items', '/api/items/sku-1', '/api/items/sku-2', '/api/items/missing'];
let n = 0;
setInterval(() => {
  const req = http.get({ host: '127.0.0.1', port, path: routes[n++ % routes.length], agent: false }, (res) => res.resume());
  req.on('error', () => {});
}, interval);
process.on('SIGTERM', () => process.exit(0));
