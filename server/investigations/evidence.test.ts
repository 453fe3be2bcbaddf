import { describe, expect, it } from 'vitest';
import type { StoredCodeFingerprint, StoredEvidence, StoredFileAccess, StoredIoUringOp, StoredSocketEvent } from '../../db/repositories/evidence';
import { analyzeInvestigation } from '../analyzers';
import { beaconFrame } from '../zoom/testing';
import { analyzerLanguage, toCodeFingerprint, toFileAccess, toInvestigationEvidence, toIoUringOp, toSocketEvent } from './evidence';

// Stored rows (as db/repositories/evidence.ts reads them) → the analyzers' input types.
const T0 = 1_800_000_000_000_000_000n;
const at = (ms: number) => (T0 + BigInt(Math.round(ms * 1e6))).toString();
const EXEC = 'node-a:0a1b2c3d:1000:4242:1';
const base = (seq: number, ms: number) => ({ zoomId: 'z-ab-1', tsNs: at(ms), seq: String(seq), execId: EXEC, own: false });
const NONE = new Uint8Array(0);

const sock = (seq: number, ms: number, over: Partial<StoredSocketEvent>): StoredSocketEvent => ({
  ...base(seq, ms), op: 'send', socketCookie: '77', address: '10.0.3.7', port: 4444, localAddress: '10.0.0.2', localPort: 40000,
  protocol: 'tcp', bytes: '0', payload: NONE, via: 'io_uring', ...over,
});
const ring = (seq: number, ms: number, over: Partial<StoredIoUringOp>): StoredIoUringOp => ({
  ...base(seq, ms), opcode: 'NOP', fd: -1, path: '', address: '', port: 0, result: '0', bytes: '0', payload: NONE, ...over,
});
const file = (seq: number, ms: number, over: Partial<StoredFileAccess>): StoredFileAccess => ({
  ...base(seq, ms), op: 'read', path: '/etc/hostname', bytes: '0', via: 'syscall', result: '0', ...over,
});
const code = (seq: number, over: Partial<StoredCodeFingerprint>): StoredCodeFingerprint => ({
  ...base(seq, 1), path: '/opt/app/bin', kind: 'executable', language: 'C', runtime: '', evidence: [], buildId: '', sha256: '', ...over,
});

describe('stored evidence → analyzer input', () => {
  it('maps socket events: ops, endpoints, bytes, payload bytes, cookie, via; state changes are left out', () => {
    const frame = beaconFrame(0, 'x');
    expect(toSocketEvent(sock(7, 5, { bytes: '17', payload: Uint8Array.from(frame) }))).toEqual({
      id: 'z-ab-1:7', ts: at(5), execId: EXEC, op: 'send', protocol: 'tcp', remote: { address: '10.0.3.7', port: 4444 }, local: { address: '10.0.0.2', port: 40000 },
      bytes: 17, payloadPrefix: Uint8Array.from(frame), socketCookie: '77', via: 'io_uring',
    });
    expect(toSocketEvent(sock(8, 6, { op: 'connect', protocol: 'udp', localAddress: '', socketCookie: '0', via: 'syscall' }))).toEqual({
      id: 'z-ab-1:8', ts: at(6), execId: EXEC, op: 'connect', protocol: 'udp', remote: { address: '10.0.3.7', port: 4444 }, bytes: 0, via: 'syscall',
    });
    expect(toSocketEvent(sock(9, 7, { op: 'state' }))).toBeNull();
  });

  it('maps io_uring requests: opcode, fd, path or peer, result (negative too), bytes, payload', () => {
    expect(toIoUringOp(ring(1, 1, { opcode: 'OPENAT', fd: -100, path: '/run/secrets/token', result: '5' }))).toEqual({
      id: 'z-ab-1:1', ts: at(1), execId: EXEC, opcode: 'OPENAT', fd: -100, path: '/run/secrets/token', result: 5, bytes: 0,
    });
    expect(toIoUringOp(ring(2, 2, { opcode: 'CONNECT', fd: 6, address: '10.0.3.7', port: 4444, result: '-111' }))).toEqual({
      id: 'z-ab-1:2', ts: at(2), execId: EXEC, opcode: 'CONNECT', fd: 6, remote: { address: '10.0.3.7', port: 4444 }, protocol: 'tcp', result: -111, bytes: 0,
    });
    expect(toIoUringOp(ring(3, 3, { opcode: 'READ', fd: 5, path: '/run/secrets/token', result: '28', bytes: '28', payload: Uint8Array.from([0x65, 0x79]) })).payloadPrefix).toEqual(Uint8Array.from([0x65, 0x79]));
  });

  it('maps file accesses (closes left out) and code fingerprints (languages in the analyzers’ words; JIT left out)', () => {
    expect(toFileAccess(file(4, 4, { op: 'read', bytes: '28', via: 'io_uring', result: '28' }))).toEqual({
      id: 'z-ab-1:4', ts: at(4), execId: EXEC, path: '/etc/hostname', op: 'read', bytes: 28, via: 'io_uring', result: 28,
    });
    expect(toFileAccess(file(5, 5, { op: 'open', result: '-2' }))).toEqual({ id: 'z-ab-1:5', ts: at(5), execId: EXEC, path: '/etc/hostname', op: 'open', via: 'syscall', result: -2 });
    expect(toFileAccess(file(6, 6, { op: 'close' }))).toBeNull();
    expect(toCodeFingerprint(code(10, { path: '/usr/bin/node', language: 'JavaScript', runtime: 'node', evidence: ['exports napi_module_register'], buildId: 'ab', sha256: 'cd' }))).toEqual({
      id: 'z-ab-1:10', ts: at(1), execId: EXEC, path: '/usr/bin/node', kind: 'executable', language: 'javascript', languageEvidence: ['exports napi_module_register'],
      runtime: { name: 'node' }, buildId: 'ab', sha256: 'cd',
    });
    // A native module: the sensor names the runtime it plugs into; its own language stays.
    expect(toCodeFingerprint(code(11, { path: '/app/x.node', kind: 'native_module', language: 'Rust', runtime: 'node' }))).toMatchObject({ kind: 'native_module', language: 'rust' });
    expect(toCodeFingerprint(code(11, { kind: 'native_module', runtime: 'node' }))!.runtime).toBeUndefined();
    expect(toCodeFingerprint(code(12, { kind: 'jit', path: '' }))).toBeNull();
    expect(['Go', 'Rust', 'C++', 'C', 'JVM', 'JavaScript', 'Python', '.NET', 'unknown', 'Fortran'].map(analyzerLanguage)).toEqual([
      'go', 'rust', 'cpp', 'c', 'java', 'javascript', 'python', 'dotnet', 'unknown', 'unknown',
    ]);
  });

  it('leaves the observer’s own rows out, and passes the window and the process on', () => {
    const stored: StoredEvidence = {
      sockets: [sock(1, 1, {}), { ...sock(2, 2, {}), own: true }],
      ioUring: [{ ...ring(3, 3, {}), own: true }],
      files: [file(4, 4, {})],
      code: [code(5, {})],
      truncated: false,
    };
    const e = toInvestigationEvidence(stored, { window: { startNs: at(0), endNs: at(10) }, process: { execId: EXEC, pid: 4242 } });
    expect([e.sockets.length, e.ioUring.length, e.files.length, e.code.length]).toEqual([1, 0, 1, 1]);
    expect(e.window).toEqual({ startNs: at(0), endNs: at(10) });
    expect(e.process).toEqual({ execId: EXEC, pid: 4242 });
  });

  it('gives the analyzers what they need to be exact on a beacon: period, format, file bytes, language', () => {
    const sends: StoredSocketEvent[] = [];
    const ops: StoredIoUringOp[] = [
      ring(1, 10, { opcode: 'OPENAT', fd: -100, path: '/var/run/secrets/kubernetes.io/serviceaccount/token', result: '5' }),
      ring(2, 11, { opcode: 'READ', fd: 5, path: '/var/run/secrets/kubernetes.io/serviceaccount/token', result: '28', bytes: '28' }),
      ring(3, 99, { opcode: 'CONNECT', fd: 6, address: '10.0.3.7', port: 4444 }),
    ];
    for (let i = 0; i < 8; i++) {
      const f = beaconFrame(i, 'exfil:t0ken-bytes');
      sends.push(sock(10 + i, 100 + i * 1000 + (i % 2) * 3, { bytes: String(f.length), payload: Uint8Array.from(f) }));
    }
    const evidence = toInvestigationEvidence(
      { sockets: sends, ioUring: ops, files: [], code: [code(40, { path: '/opt/uring_beacon', buildId: 'feed', sha256: 'beef' })], truncated: false },
      { window: { startNs: at(0), endNs: at(8200) }, process: { execId: EXEC, pid: 4242 } },
    );
    const analysis = analyzeInvestigation(evidence);
    const [dest] = analysis.destinations;
    expect(dest!.pattern.contacts).toHaveLength(8);
    expect(Math.abs(dest!.pattern.intervalMedianMs! - 1000)).toBeLessThan(100);
    expect(dest!.pattern.verdict.periodic).toBe(true);
    expect(dest!.payload!.format).toBe('length_prefixed');
    expect(analysis.files[0]).toMatchObject({ path: '/run/secrets/kubernetes.io/serviceaccount/token', bytesRead: 28, viaIoUring: 2 });
    expect(analysis.provenance).toMatchObject({ workloadLanguage: 'c' });
  });
});
