import { describe, expect, it } from 'vitest';
import { analyzeInvestigation, findingId, type Finding } from './findings';
import { fileAccessesFromIoUring, socketEventsFromIoUring } from './ioUringEvidence';
import { createServiceMap } from './serviceMap';
import { at, be32, bytes, code, file, fromHex, ioUring, jittered, socket } from './testkit';
import type { InvestigationEvidence, IoUringOp, SocketEvent } from './types';

const EXEC = 'node-1:abcd1234:1:100:1';
const C2 = { address: '10.0.3.7', port: 4444 };
const REDIS = { address: '10.96.12.7', port: 6379 };
const API = { address: '10.96.40.2', port: 443 };
const TOKEN_PATH = '/var/run/secrets/kubernetes.io/serviceaccount/..2024_01_01_00_00_00.123/token';
const ADDON = '/app/node_modules/fast-hash/build/Release/hash.node';

const serviceMap = createServiceMap([
  { name: 'redis.cache', address: '10.96.12.7', port: 6379, protocol: 'tcp', source: 'kubernetes', detail: 'clusterIP of Service cache/redis' },
  { name: 'api-gateway.web', cidr: '10.96.40.0/24', port: 443, source: 'config' },
  { name: 'postgres.data', address: '10.96.7.7', port: 5432, source: 'config' },
]);

const jwt = [
  Buffer.from('{"alg":"RS256","kid":"Xq3sZ0aKd"}').toString('base64url'),
  Buffer.from('{"aud":["https://kubernetes.default.svc"],"iss":"https://kubernetes.default.svc.cluster.local","sub":"system:serviceaccount:shop:web"}').toString('base64url'),
  'A'.repeat(342),
].join('.');

const workloadCode = [
  code({ path: '/usr/local/bin/node', kind: 'executable', language: 'javascript', languageEvidence: ['V8 and libuv symbols'], runtime: { name: 'node', version: 'v20.11.1' } }),
  code({ path: '/usr/lib/x86_64-linux-gnu/libc.so.6', kind: 'shared_object', language: 'c', languageEvidence: ['glibc'] }),
  code({ path: ADDON, kind: 'native_module', language: 'rust', languageEvidence: ['rustc 1.76.0 in .comment'] }),
];

/** The reference attack: a Rust addon reads the token and beacons it every 5 s, through io_uring only. */
function attack(): IoUringOp[] {
  const origin = { modulePath: ADDON, tid: 131 };
  const frame = bytes(be32(1 + jwt.length), 0x01, jwt);
  const ops: IoUringOp[] = [
    ioUring({ ms: 1000, opcode: 'OPENAT', path: TOKEN_PATH, result: 23, origin }),
    ioUring({ ms: 1000.2, opcode: 'READ', fd: 23, result: 1003, bytes: 1003, origin }),
    ioUring({ ms: 1000.3, opcode: 'CLOSE', fd: 23, result: 0, origin }),
  ];
  for (const ms of jittered(12, 5000, 0.1, 2024, 2000)) {
    ops.push(
      ioUring({ ms, opcode: 'CONNECT', fd: 24, remote: C2, protocol: 'tcp', result: 0, origin }),
      ioUring({ ms: ms + 0.5, opcode: 'SEND', fd: 24, remote: C2, protocol: 'tcp', result: frame.length, bytes: frame.length, payloadPrefix: frame.subarray(0, 256), origin }),
      ioUring({ ms: ms + 0.9, opcode: 'CLOSE', fd: 24, result: 0, origin }),
    );
  }
  return ops;
}

/** What the app does legitimately: Redis calls at irregular moments, HTTPS to the API gateway. */
function legitimateTraffic(): SocketEvent[] {
  const events: SocketEvent[] = [];
  for (const ms of [300, 4100, 4180, 9050, 22000, 23500, 41000, 52000]) {
    events.push(
      socket({ ms, op: 'send', remote: REDIS, bytes: 31, payloadPrefix: bytes('*2\r\n$3\r\nGET\r\n$12\r\nsession:4f2a\r\n') }),
      socket({ ms: ms + 0.8, op: 'recv', remote: REDIS, bytes: 120 }),
    );
  }
  const hello = fromHex(
    '1603010055010000510303' + '11'.repeat(32) + '00' + '0004130113020100' + '0024' + '0000000f000d00000a6170692e696e7465726e' + '0010000500030268320017000000230000',
  );
  events.push(
    socket({ ms: 500, op: 'connect', remote: API, result: -115 }),
    socket({ ms: 501, op: 'send', remote: API, bytes: hello.length, payloadPrefix: hello }),
    socket({ ms: 503, op: 'recv', remote: API, bytes: 4000 }),
  );
  return events;
}

function evidence(): InvestigationEvidence {
  return {
    sockets: legitimateTraffic(),
    ioUring: attack(),
    files: [],
    code: workloadCode,
    window: { startNs: at(0), endNs: at(65_000) },
    process: { execId: EXEC, pid: 100 },
  };
}

const summary = (findings: Finding[]) => findings.map((f) => `${f.severity} ${f.kind}: ${f.title}`);

describe('analyzeInvestigation on the reference attack', () => {
  const analysis = analyzeInvestigation(evidence(), { serviceMap });
  const byKind = (kind: Finding['kind'], subject: string) => analysis.findings.find((f) => f.kind === kind && f.subject === subject)!;

  it('produces the findings an analyst needs, most severe first', () => {
    expect(summary(analysis.findings)).toEqual([
      `critical sensitive_file: Reads a service-account token: /run/secrets/kubernetes.io/serviceaccount/..2024_01_01_00_00_00.123/token`,
      'critical payload_format: Sends a Kubernetes service-account token to 10.0.3.7:4444',
      'critical io_uring_usage: Uses io_uring for files and the network',
      'high beaconing: Beacons every 5.16 s to 10.0.3.7:4444',
      'medium network_destination: Contacts an unknown internal address 10.0.3.7:4444',
      'medium code_provenance: Activity comes from a Rust native module inside a JavaScript workload: hash.node',
      'info payload_format: Plain text to redis.cache (10.96.12.7:6379)',
      'info payload_format: TLS to api-gateway.web (10.96.40.2:443)',
      'info network_destination: Contacts redis.cache (10.96.12.7:6379)',
      'info network_destination: Contacts api-gateway.web (10.96.40.2:443)',
    ]);
  });

  it('says why, for each finding', () => {
    expect(byKind('sensitive_file', '/run/secrets/kubernetes.io/serviceaccount/..2024_01_01_00_00_00.123/token').reason).toBe(
      "Kubernetes service-account token: a bearer credential for the API server, through kubelet's timestamped projection directory ..2024_01_01_00_00_00.123 (matched /run/secrets/kubernetes.io/serviceaccount/{token,..*/token}; /var/run is /run); opened once, read 1,003 bytes in 1 read, all through io_uring (no open/read syscall of its own); a service-account JWT appears in bytes sent to 10.0.3.7:4444",
    );
    expect(byKind('payload_format', '10.0.3.7:4444/tcp').reason).toBe(
      'length-prefixed binary: 4-byte big-endian length 0x00000238 = 568 matches the remaining 568 bytes in 12 of 12 messages; body: plain text (99.6 % printable); credential in the bytes sent: Kubernetes service-account JWT (alg RS256, kid Xq3sZ0aKd; iss https://kubernetes.default.svc.cluster.local, sub system:serviceaccount:shop:web) in message 1; binary data to a destination that is no known service',
    );
    expect(byKind('beaconing', '10.0.3.7:4444/tcp').reason).toMatch(
      /^periodic every 5\.16 s: 11 of 11 intervals within ±30 % of 5\.16 s, jitter [\d.]+ % \(MAD\/median\); 12 contacts over \d+(\.\d+)? s; 572 bytes out and 0 in per contact \(median\); destination: an internal address that is no known service \(confidence 0\.\d+\)$/,
    );
    expect(byKind('network_destination', '10.0.3.7:4444/tcp').reason).toMatch(
      /^no entry for 10\.0\.3\.7:4444; no entry covers this \/24 \(10\.0\.3\.0\/24\) either; a private address; an internal destination that is no known service; 12 contacts over [\d.]+ s, 6,864 bytes out, 0 in, all through io_uring$/,
    );
    expect(byKind('io_uring_usage', EXEC).reason).toBe(
      '39 requests: CLOSE ×13, CONNECT ×12, SEND ×12, OPENAT ×1, READ ×1; none of them appears as its own syscall, only io_uring_enter; network I/O through the ring to 10.0.3.7:4444; libuv never uses io_uring for sockets; sensitive files through the ring: /run/secrets/kubernetes.io/serviceaccount/..2024_01_01_00_00_00.123/token (service_account_token)',
    );
    expect(byKind('code_provenance', ADDON).reason).toBe(
      'native module /app/node_modules/fast-hash/build/Release/hash.node is Rust (rustc 1.76.0 in .comment) inside a JavaScript runtime (node v20.11.1); Rust addons exist (napi-rs: @swc/core, lightningcss) but are uncommon in Node apps; the evidence points to it',
    );
    expect(byKind('network_destination', '10.96.12.7:6379/tcp').reason).toBe(
      '10.96.12.7:6379 matched redis.cache (address 10.96.12.7, port 6379/tcp, from kubernetes: clusterIP of Service cache/redis); 8 contacts over 51.7 s, 248 bytes out, 960 in',
    );
  });

  it('points every finding at its evidence rows', () => {
    const ops = evidence().ioUring;
    const file = byKind('sensitive_file', '/run/secrets/kubernetes.io/serviceaccount/..2024_01_01_00_00_00.123/token');
    expect(file.evidence).toHaveLength(2); // the OPENAT and the READ through the ring
    expect(byKind('beaconing', '10.0.3.7:4444/tcp').evidence).toHaveLength(24); // 12 CONNECT + 12 SEND
    expect(byKind('io_uring_usage', EXEC).evidence).toHaveLength(ops.length);
    const provenance = byKind('code_provenance', ADDON);
    expect(provenance.evidence[0]).toBe(workloadCode[2]!.id);
    expect(provenance.evidence).toHaveLength(1 + 2 + 24);
    expect(analysis.findings.every((f) => f.evidence.length > 0 && f.evidenceOmitted === 0)).toBe(true);
  });

  it('exposes the analyses behind the findings', () => {
    expect(analysis.destinations.map((d) => [d.key, d.service.match?.name ?? null, d.pattern.verdict.status, d.payload?.format])).toEqual([
      ['10.96.12.7:6379/tcp', 'redis.cache', 'not_periodic', 'text'],
      ['10.96.40.2:443/tcp', 'api-gateway.web', 'insufficient', 'tls_client_hello'],
      ['10.0.3.7:4444/tcp', null, 'periodic', 'length_prefixed'],
    ]);
    expect(analysis.provenance).toMatchObject({ language: 'rust', differs: true, commonness: 'uncommon' });
    expect(analysis.files.map((f) => [f.path, f.opens, f.reads, f.bytesRead, f.viaIoUring])).toEqual([
      ['/run/secrets/kubernetes.io/serviceaccount/..2024_01_01_00_00_00.123/token', 1, 1, 1003, 2],
    ]);
  });

  it('gives the same ids when analysed again, and ids that depend only on kind and subject', () => {
    const again = analyzeInvestigation(evidence(), { serviceMap });
    expect(again.findings.map((f) => f.id)).toEqual(analysis.findings.map((f) => f.id));
    expect(new Set(analysis.findings.map((f) => f.id)).size).toBe(analysis.findings.length);
    expect(findingId('beaconing', '10.0.3.7:4444/tcp')).toBe(byKind('beaconing', '10.0.3.7:4444/tcp').id);
    expect(findingId('beaconing', '10.0.3.7:4444/tcp')).toMatch(/^f-[0-9a-f]{16}$/);
    expect(findingId('beaconing', '10.0.3.7:4444/tcp')).not.toBe(findingId('network_destination', '10.0.3.7:4444/tcp'));
  });
});

describe('analyzeInvestigation on benign workloads', () => {
  it('keeps a Node app that uses io_uring through libuv, an HTTP API and a database quiet', () => {
    const ops = [
      ioUring({ ms: 10, opcode: 'OPENAT', path: '/app/config/settings.json', result: 19 }),
      ioUring({ ms: 10.5, opcode: 'STATX', path: '/app/config/settings.json' }),
      ioUring({ ms: 11, opcode: 'READ', fd: 19, result: 4096, bytes: 4096 }),
      ioUring({ ms: 11.5, opcode: 'CLOSE', fd: 19 }),
    ];
    const sockets: SocketEvent[] = [];
    // Bursty API use: three bursts of chained requests.
    for (const burst of [1000, 9000, 9700]) {
      sockets.push(socket({ ms: burst, op: 'connect', remote: API }));
      for (let i = 0; i < 20; i++) {
        sockets.push(
          socket({ ms: burst + 1 + i * 12, op: 'send', remote: API, bytes: 120, payloadPrefix: bytes(0x17, 0x03, 0x03, 0x00, 0x73, new Uint8Array(115).fill(i)) }),
          socket({ ms: burst + 10 + i * 12, op: 'recv', remote: API, bytes: 900 }),
        );
      }
    }
    // PostgreSQL queries every few seconds, irregularly.
    for (const ms of [1500, 2700, 6100, 6150, 13000]) {
      sockets.push(socket({ ms, op: 'send', remote: { address: '10.96.7.7', port: 5432 }, bytes: 14, payloadPrefix: bytes('Q', be32(13), 'select 1;', 0) }));
    }
    const analysis = analyzeInvestigation(
      { sockets, ioUring: ops, files: [file({ ms: 5, path: '/app/server.js', op: 'open' })], code: workloadCode.slice(0, 2), process: { execId: EXEC, pid: 100 } },
      { serviceMap },
    );
    expect(summary(analysis.findings)).toEqual([
      'low payload_format: Length-prefixed binary to postgres.data (10.96.7.7:5432)',
      'info payload_format: TLS records to api-gateway.web (10.96.40.2:443)',
      'info network_destination: Contacts api-gateway.web (10.96.40.2:443)',
      'info network_destination: Contacts postgres.data (10.96.7.7:5432)',
      'info io_uring_usage: Uses io_uring for files',
    ]);
    expect(analysis.findings.find((f) => f.kind === 'io_uring_usage')!.reason).toBe(
      "4 requests: CLOSE ×1, OPENAT ×1, READ ×1, STATX ×1; none of them appears as its own syscall, only io_uring_enter; consistent with libuv (Node's event loop), which uses io_uring for file I/O",
    );
    expect(analysis.findings.find((f) => f.subject === '10.96.7.7:5432/tcp' && f.kind === 'payload_format')!.reason).toMatch(
      /^length-prefixed binary: 1-byte type then 4-byte big-endian length \(counting itself\) 0x0000000d = 13 matches its own 4 bytes and the remaining 9 in 5 of 5 messages; PostgreSQL-style message \(type 'Q'\); body: plain text/,
    );
  });

  it('flags the cloud metadata endpoint and a periodic poller of a known service for what they are', () => {
    const metadata = { address: '169.254.169.254', port: 80 };
    const sockets = [
      socket({ ms: 0, op: 'send', remote: metadata, bytes: 60, payloadPrefix: bytes('GET /latest/meta-data/iam/security-credentials/ HTTP/1.1\r\nHost: 169.254.169.254\r\n\r\n') }),
      ...jittered(10, 30_000, 0.05, 3).map((ms) => socket({ ms, op: 'send', remote: REDIS, bytes: 14, payloadPrefix: bytes('*1\r\n$4\r\nPING\r\n') })),
    ];
    const analysis = analyzeInvestigation({ sockets, ioUring: [], files: [], code: [] }, { serviceMap });
    expect(summary(analysis.findings)).toEqual([
      'high network_destination: Contacts the cloud metadata endpoint 169.254.169.254:80',
      'low beaconing: Beacons every 29.9 s to redis.cache (10.96.12.7:6379)',
      'info payload_format: Plain text to redis.cache (10.96.12.7:6379)',
      'info payload_format: HTTP/1 requests to 169.254.169.254:80',
      'info network_destination: Contacts redis.cache (10.96.12.7:6379)',
    ]);
  });

  it('works without a service map, a window or code fingerprints', () => {
    const analysis = analyzeInvestigation({ sockets: [socket({ ms: 0, op: 'connect', remote: { address: '8.8.8.8', port: 53 }, protocol: 'udp' })], ioUring: [], files: [], code: [] });
    expect(analysis.provenance).toBeNull();
    expect(analysis.findings).toHaveLength(1);
    expect(analysis.findings[0]).toMatchObject({
      severity: 'low', title: 'Contacts public address 8.8.8.8:53', reason: 'no service map configured; 8.8.8.8:53 is a public address; 1 contact, 0 bytes out, 0 in',
    });
  });

  it('caps evidence per finding and counts the rest', () => {
    const sockets = jittered(10, 1000, 0, 1).map((ms) => socket({ ms, op: 'connect', remote: C2 }));
    const f = analyzeInvestigation({ sockets, ioUring: [], files: [], code: [] }, { maxEvidencePerFinding: 3 }).findings[0]!;
    expect([f.evidence.length, f.evidenceOmitted]).toEqual([3, 7]);
  });

  it('grades binary payloads by destination and by what the workload is', () => {
    const mp = bytes(0x82, 0xa4, 'host', 0xa3, 'web', 0xa3, 'seq', 0x07);
    const gobPoint = fromHex('1fff8103010105506f696e7401ff82000102010158010400010159010400000007ff82012c014200');
    const sockets = [
      socket({ ms: 0, op: 'send', remote: C2, bytes: mp.length, payloadPrefix: mp }),
      socket({ ms: 0, op: 'send', remote: REDIS, bytes: mp.length, payloadPrefix: mp }),
      socket({ ms: 0, op: 'send', remote: { address: '10.0.9.9', port: 7000 }, bytes: gobPoint.length, payloadPrefix: gobPoint }),
    ];
    const analysis = analyzeInvestigation({ sockets, ioUring: [], files: [], code: workloadCode.slice(0, 1) }, { serviceMap });
    expect(summary(analysis.findings.filter((f) => f.kind === 'payload_format'))).toEqual([
      'medium payload_format: Go gob to 10.0.9.9:7000',
      'low payload_format: MessagePack to 10.0.3.7:4444',
      'info payload_format: MessagePack to redis.cache (10.96.12.7:6379)',
    ]);
    expect(analysis.findings.find((f) => f.title === 'Go gob to 10.0.9.9:7000')!.reason).toBe(
      "Go gob stream: type definition struct Point {X int, Y int} (type id 65), then 1 value message of type 65; binary data to a destination that is no known service; gob is Go's own encoding, and the workload is JavaScript",
    );
  });

  it('raises a write to a sensitive file', () => {
    const analysis = analyzeInvestigation({ sockets: [], ioUring: [], files: [file({ ms: 0, path: '/root/.ssh/authorized_keys', op: 'write', bytes: 96 })], code: [] });
    expect(analysis.findings[0]).toMatchObject({ severity: 'high', title: 'Writes SSH authorized keys: /root/.ssh/authorized_keys' });
  });
});

describe('io_uring requests as socket events and file accesses', () => {
  it('derives what the other probes did not report, and only that', () => {
    const ops = attack().slice(0, 6); // OPENAT, READ, CLOSE, CONNECT, SEND, CLOSE
    const reportedConnect = socket({ ms: 0, op: 'connect', remote: C2, via: 'io_uring' });
    reportedConnect.ts = ops[3]!.ts;
    const derived = socketEventsFromIoUring(ops, [reportedConnect]);
    expect(derived.map((e) => [e.op, e.bytes, e.via, e.payloadPrefix?.length])).toEqual([['send', 572, 'io_uring', 256]]);
    const files = fileAccessesFromIoUring(ops, [file({ ms: 1000.2, path: TOKEN_PATH, op: 'read', via: 'io_uring' })]);
    expect(files.map((f) => [f.op, f.path, f.id])).toEqual([['open', TOKEN_PATH, ops[0]!.id]]);
  });

  it('stops following an fd once it is closed', () => {
    const ops = [
      ioUring({ ms: 0, opcode: 'OPENAT', path: '/etc/shadow', result: 5 }),
      ioUring({ ms: 1, opcode: 'CLOSE', fd: 5 }),
      ioUring({ ms: 2, opcode: 'READ', fd: 5, result: 10 }),
    ];
    expect(fileAccessesFromIoUring(ops, []).map((f) => f.op)).toEqual(['open']);
  });
});

describe('a long flow', () => {
  it('judges its format on an even sample of its sends and says so, with the same verdict', () => {
    const frame = bytes(be32(5), 0x02, 'ping');
    const sends: SocketEvent[] = [];
    for (let i = 0; i < 2000; i++) sends.push(socket({ ms: 1000 + i * 100, op: 'send', remote: C2, bytes: frame.length, payloadPrefix: frame }));
    const e: InvestigationEvidence = { sockets: sends, ioUring: [], files: [], code: workloadCode, window: { startNs: at(0), endNs: at(201_000) }, process: { execId: EXEC, pid: 100 } };
    const format = analyzeInvestigation(e, { serviceMap }).findings.find((f) => f.kind === 'payload_format')!;
    expect(format.reason).toMatch(/^length-prefixed binary/);
    expect(format.reason).toContain('judged on 512 of 2000 sends, evenly spread over time');
  });
});
