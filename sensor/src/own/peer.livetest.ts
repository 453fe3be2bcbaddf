/**
 * findPeerProcess against the real /proc: a loopback TCP connection made by a child process is
 * traced back to that process, as the gRPC server does with a cockpit on the same node.
 */
import { spawn } from 'node:child_process';
import net from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { findPeerProcess } from './peer';

const skip = process.platform !== 'linux' ? `not Linux (${process.platform}): needs /proc/net/tcp` : '';
if (skip) console.warn(`peer lookup live test skipped: ${skip}`);

describe.skipIf(skip !== '')('findPeerProcess', () => {
  const servers: net.Server[] = [];
  afterAll(() => servers.forEach((s) => s.close()));

  for (const [host, prefix] of [
    ['127.0.0.1', 'ipv4'],
    ['::1', 'ipv6'],
  ] as const) {
    it(`finds the local process behind a ${prefix} peer`, async () => {
      const peers: string[] = [];
      const server = net.createServer((c) => {
        peers.push(c.remoteFamily === 'IPv6' ? `ipv6:[${c.remoteAddress}]:${c.remotePort}` : `ipv4:${c.remoteAddress}:${c.remotePort}`);
      });
      servers.push(server);
      await new Promise<void>((r) => server.listen(0, host, () => r()));
      const port = (server.address() as net.AddressInfo).port;
      // The client: another process, holding its connection open until told to exit.
      const client = spawn(process.execPath, ['-e', `const s=require('net').connect(${port}, '${host}'); process.stdin.on('data', () => process.exit(0));`], {
        stdio: ['pipe', 'ignore', 'inherit'],
      });
      try {
        while (peers.length === 0) await new Promise((r) => setTimeout(r, 10));
        const found = findPeerProcess(peers[0]!);
        expect(found?.pid).toBe(client.pid);
        expect(found?.pids).toEqual([client.pid]);
      } finally {
        client.stdin!.write('x');
      }
    });
  }

  it('returns null for a remote or unknown peer', () => {
    expect(findPeerProcess('ipv4:192.0.2.1:40000', { localAddresses: [] })).toBeNull();
    expect(findPeerProcess('ipv4:127.0.0.1:1')).toBeNull(); // no such connection
    expect(findPeerProcess('unix:/tmp/x')).toBeNull();
  });
});
