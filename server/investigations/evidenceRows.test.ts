import { describe, expect, it } from 'vitest';
import type { StoredEvidence } from '../../db/repositories/evidence';
import { evidenceRows } from './evidenceRows';
import { decodeRef } from './refs';

// The row index the evidence tree and the network panel read: rows by the analyzers' ids, each
// described (ref, summary, payload hex) only when asked for.
const T = '1800000000000000000';
const base = (seq: number) => ({ zoomId: 'z-ab-1', tsNs: (BigInt(T) + BigInt(seq)).toString(), seq: String(seq), execId: 'node-a:0a1b:1:42:1', own: false });
const stored: StoredEvidence = {
  ioUring: [
    { ...base(1), opcode: 'READ', fd: 5, path: '/run/secrets/token', address: '', port: 0, result: '28', bytes: '28', payload: Uint8Array.from([0x65, 0x79]) },
    { ...base(2), opcode: 'CONNECT', fd: 6, path: '', address: '10.0.3.7', port: 4444, result: '-111', bytes: '0', payload: new Uint8Array(0) },
  ],
  sockets: [
    {
      ...base(3), op: 'send', socketCookie: '77', address: '10.0.3.7', port: 4444, localAddress: '', localPort: 0, protocol: 'tcp', bytes: '17',
      payload: Uint8Array.from([0x00, 0x0d, 0x42, 0xff]), via: 'io_uring',
    },
  ],
  files: [{ ...base(4), op: 'open', path: '/etc/hostname', bytes: '0', via: 'syscall', result: '3' }],
  code: [{ ...base(5), path: '/opt/beacon', kind: 'shared_object', language: '', runtime: '', evidence: [], buildId: 'feed', sha256: '' }],
  truncated: false,
};

describe('evidence row index', () => {
  it('describes each table’s rows: ref, time, summary, bytes, payload in upper-case hex', () => {
    const rows = evidenceRows(stored);
    expect(rows.get('z-ab-1:1')).toEqual({
      ref: expect.stringMatching(/^u-/), table: 'io_uring_ops', tsNs: base(1).tsNs, execId: base(1).execId,
      summary: 'io_uring READ /run/secrets/token · 28 B', bytes: 28, payloadHex: '6579', payloadAscii: 'ey',
    });
    expect(decodeRef(rows.get('z-ab-1:1')!.ref)).toEqual({ table: 'io_uring_ops', tsNs: base(1).tsNs, zoomId: 'z-ab-1', seq: '1' });
    expect(rows.get('z-ab-1:2')).toMatchObject({ summary: 'io_uring CONNECT 10.0.3.7:4444 → error -111', bytes: 0, payloadHex: '' });
    expect(rows.get('z-ab-1:3')).toMatchObject({ table: 'socket_events', summary: 'send 10.0.3.7:4444/tcp · 17 B (io_uring)', bytes: 17, payloadHex: '000D42FF', payloadAscii: '..B.' });
    expect(rows.get('z-ab-1:4')).toMatchObject({ table: 'file_accesses', summary: 'open /etc/hostname', payloadHex: '' });
    expect(rows.get('z-ab-1:5')).toMatchObject({ table: 'code_fingerprints', summary: 'shared object /opt/beacon (unknown language, build id feed)' });
    expect(rows.get('z-ab-1:6')).toBeUndefined();
  });

  it('answers time and payload presence without describing, and describes a row once', () => {
    const rows = evidenceRows(stored);
    expect(['z-ab-1:1', 'z-ab-1:2', 'z-ab-1:3', 'z-ab-1:4', 'nope'].map((id) => rows.hasPayload(id))).toEqual([true, false, true, false, false]);
    expect(rows.tsNs('z-ab-1:5')).toBe(base(5).tsNs);
    expect(rows.tsNs('nope')).toBeUndefined();
    expect(rows.get('z-ab-1:3')).toBe(rows.get('z-ab-1:3'));
  });
});
