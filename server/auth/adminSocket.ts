import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { storageConfigFromEnv, type StorageConfig } from '../../db/config';
import { runAdminCommand, ZAdminRequest } from './admin';
import type { AuditActor } from './audit';
import { authConfig } from './config';
import { requestAuthDeps } from './web';

// Paths here are chosen at run time: `turbopackIgnore` keeps Next's file tracing from following them.

/**
 * The admin socket: how the CLI reaches a running cockpit that holds the embedded data directory
 * (chDB allows one process per directory, so the CLI cannot open it while the cockpit runs).
 *
 * A Unix socket in a directory of its own inside the data directory (`<CHDB_PATH>/admin/`, mode
 * 0700, owned by the cockpit's user; the socket itself 0600) — like docker.sock, only the
 * cockpit's operating-system user (and root) can connect. One request per connection: a JSON line
 * in (`{ op, …, cli: { user, uid } }`), a JSON line out. Every command is audited with the CLI's
 * user as the actor (as the CLI reports it: the socket's permissions are what authenticate it).
 */

const MAX_REQUEST_BYTES = 64 * 1024;
const REQUEST_TIMEOUT_MS = 60_000;
/** sun_path is 108 bytes on Linux. */
const MAX_SOCKET_PATH = 107;

/** The socket path: AUTH_ADMIN_SOCKET, else `<CHDB_PATH>/admin/cockpit.sock` for embedded storage, else none. */
export function adminSocketPath(storage: StorageConfig = storageConfigFromEnv(), explicit = authConfig().adminSocket): string | null {
  if (explicit === 'off') return null;
  if (explicit) return path.resolve(/* turbopackIgnore: true */ explicit);
  return storage.mode === 'embedded' ? path.join(/* turbopackIgnore: true */ storage.chdbPath, 'admin', 'cockpit.sock') : null;
}

export interface AdminWireRequest {
  request: unknown;
  cli: { user: string; uid: number };
}

export type AdminWireResponse = { ok: true; result: unknown } | { ok: false; error: string };

function isLive(socketPath: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(socketPath);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** Prepares the private directory: created 0700, or an existing one that this user owns, made 0700. */
function prepareDirectory(dir: string): void {
  fs.mkdirSync(/* turbopackIgnore: true */ dir, { recursive: true, mode: 0o700 });
  const stat = fs.lstatSync(/* turbopackIgnore: true */ dir);
  if (!stat.isDirectory() || stat.isSymbolicLink()) throw new Error(`${dir} is not a directory`);
  if (process.getuid && stat.uid !== process.getuid()) throw new Error(`${dir} belongs to uid ${stat.uid}, not to this process`);
  fs.chmodSync(/* turbopackIgnore: true */ dir, 0o700);
}

/**
 * Starts the admin socket (from instrumentation.ts). Returns the server, or null when there is
 * nothing to do (not embedded, disabled) or another live process already serves the path.
 */
export async function startAdminSocket(socketPath = adminSocketPath()): Promise<net.Server | null> {
  if (!socketPath) return null;
  if (socketPath.length > MAX_SOCKET_PATH) {
    console.error(`[admin-socket] not started: ${socketPath} is longer than ${MAX_SOCKET_PATH} bytes; set AUTH_ADMIN_SOCKET to a shorter path`);
    return null;
  }
  prepareDirectory(path.dirname(socketPath));
  if (fs.existsSync(/* turbopackIgnore: true */ socketPath)) {
    if (await isLive(socketPath)) {
      console.error(`[admin-socket] not started: another process already serves ${socketPath}`);
      return null;
    }
    fs.rmSync(/* turbopackIgnore: true */ socketPath, { force: true }); // left by a process that died
  }
  const server = net.createServer((socket) => handleConnection(socket));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(socketPath, () => resolve());
  });
  fs.chmodSync(/* turbopackIgnore: true */ socketPath, 0o600);
  const cleanup = () => {
    try {
      fs.rmSync(/* turbopackIgnore: true */ socketPath, { force: true });
    } catch {
      // exiting anyway
    }
  };
  process.once('exit', cleanup);
  server.on('close', cleanup);
  server.unref();
  return server;
}

function handleConnection(socket: net.Socket): void {
  let buffer = '';
  let answered = false;
  const answer = (response: AdminWireResponse) => {
    if (answered) return;
    answered = true;
    socket.end(`${JSON.stringify(response)}\n`);
  };
  socket.setTimeout(REQUEST_TIMEOUT_MS, () => {
    answer({ ok: false, error: 'timed out' });
    socket.destroy();
  });
  socket.on('error', () => socket.destroy());
  socket.on('data', (chunk: Buffer) => {
    if (answered) return;
    buffer += chunk.toString('utf8');
    if (buffer.length > MAX_REQUEST_BYTES) return answer({ ok: false, error: 'request too large' });
    const newline = buffer.indexOf('\n');
    if (newline < 0) return;
    const line = buffer.slice(0, newline);
    void serve(line).then(answer);
  });
}

async function serve(line: string): Promise<AdminWireResponse> {
  let wire: AdminWireRequest;
  try {
    wire = JSON.parse(line) as AdminWireRequest;
  } catch {
    return { ok: false, error: 'not JSON' };
  }
  const parsed = ZAdminRequest.safeParse(wire?.request);
  if (!parsed.success) return { ok: false, error: `invalid request: ${parsed.error.issues.map((i) => `${i.path.join('.') || 'request'}: ${i.message}`).join('; ')}` };
  const user = typeof wire.cli?.user === 'string' ? wire.cli.user.slice(0, 64) : 'unknown';
  const uid = Number.isInteger(wire.cli?.uid) ? wire.cli.uid : -1;
  const actor: AuditActor = { type: 'cli', id: `uid:${uid}`, name: `${user} (admin socket)`, role: 'admin' };
  try {
    return { ok: true, result: await runAdminCommand(await requestAuthDeps(), actor, parsed.data) };
  } catch (error) {
    return { ok: false, error: error instanceof Error ? error.message : String(error) };
  }
}

/** The CLI's side: sends one request; rejects with ENOENT/ECONNREFUSED when nothing listens. */
export function sendAdminRequest(socketPath: string, wire: AdminWireRequest): Promise<AdminWireResponse> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(socketPath);
    let data = '';
    let connected = false;
    socket.setTimeout(REQUEST_TIMEOUT_MS, () => socket.destroy(new Error('the cockpit did not answer within 60 s')));
    socket.once('connect', () => {
      connected = true;
      socket.write(`${JSON.stringify(wire)}\n`);
    });
    socket.on('data', (chunk: Buffer) => (data += chunk.toString('utf8')));
    socket.once('error', (error: NodeJS.ErrnoException) => reject(Object.assign(error, { connected })));
    socket.once('close', () => {
      if (!data) return; // 'error' already rejected, or the server closed without answering
      try {
        resolve(JSON.parse(data.trim()) as AdminWireResponse);
      } catch {
        reject(new Error('the cockpit answered something that is not JSON'));
      }
    });
    socket.once('end', () => {
      if (!data) reject(new Error('the cockpit closed the admin socket without answering'));
    });
  });
}
